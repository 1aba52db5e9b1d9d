#!/usr/bin/env bash
# The distributed queue's acceptance run: a 12-run sweep (PEPITA on MNIST, lr x weight decay, 2 epochs,
# 2 seeds) made by 3 workers on this machine, one of them killed with SIGKILL twice mid-run (and restarted),
# then the same sweep made locally; prints the wall times and whether every run's metrics are identical.
#   benchmarks/queue-sweep.sh REDIS_URL DATA_DIR [WORK_DIR]
# REDIS_URL must be a Redis of your own (it is flushed), e.g. redis://127.0.0.1:6399.
set -euo pipefail
Q=${1:?REDIS_URL}; D=${2:?DATA_DIR}; A=${3:-/tmp/topdown-queue-sweep}
cd "$(dirname "$0")/.."
T="node dist/cli/main.js"
rm -rf "$A"; mkdir -p "$A"
printf 'rule: pepita\ndata: mnist\nepochs: 2\n' > "$A/base.yaml"
redis-cli -u "$Q" FLUSHALL > /dev/null
GRID=(--grid lr=0.01,0.05,0.1 --grid weightDecay=0,0.0001 --seeds 2)
W=(worker --queue "$Q" --out "$A/shared" --data-dir "$D" --threads 1 --lock-seconds 10)
$T "${W[@]}" --until-empty > "$A/w1.log" 2>&1 & P1=$!
$T "${W[@]}" --until-empty > "$A/w2.log" 2>&1 & P2=$!
$T "${W[@]}" > "$A/w3.log" 2>&1 & P3=$!
start=$(date +%s.%N)
$T sweep "$A/base.yaml" "${GRID[@]}" --queue "$Q" --out "$A/shared" > "$A/enqueue.log" 2>&1 & PE=$!
for k in 1 2; do
  until grep -q '^took' "$A/w3.log"; do sleep 1; done
  sleep 12
  kill -9 "$P3"; echo "killed worker 3 (kill $k)"
  cat "$A/w3.log" >> "$A/w3-all.log"
  if [ "$k" = 2 ]; then $T "${W[@]}" --until-empty > "$A/w3.log" 2>&1 & else $T "${W[@]}" > "$A/w3.log" 2>&1 & fi
  P3=$!
done
wait "$PE"
echo "distributed: $(echo "$(date +%s.%N) - $start" | bc) s"
wait "$P1" "$P2" "$P3" || true
cat "$A/w3.log" >> "$A/w3-all.log"
tail -1 "$A/enqueue.log"
echo "takes: $(cat "$A/w1.log" "$A/w2.log" "$A/w3-all.log" | grep -c '^took') for $(ls "$A/shared/runs" | wc -l) runs"
start=$(date +%s.%N)
$T sweep "$A/base.yaml" "${GRID[@]}" --workers 3 --threads 1 --data-dir "$D" --out "$A/local" > "$A/local.log" 2>&1
echo "local: $(echo "$(date +%s.%N) - $start" | bc) s"
node -e '
const { readdirSync, readFileSync } = require("node:fs");
const [a, b] = process.argv.slice(1);
const strip = (f) => readFileSync(f, "utf8").trim().split("\n").map((l) => {
  const o = JSON.parse(l); delete o.seconds; delete o.samples_per_s; return JSON.stringify(o);
}).join("\n");
const ids = readdirSync(a + "/runs").sort();
const same = ids.filter((id) => strip(`${a}/runs/${id}/metrics.jsonl`) === strip(`${b}/runs/${id}/metrics.jsonl`));
console.log(`identical metrics (timing aside): ${same.length} of ${ids.length}`);
' "$A/shared" "$A/local"
