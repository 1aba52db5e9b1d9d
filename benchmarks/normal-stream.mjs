#!/usr/bin/env node
// Bulk standard-normal throughput: NormalStream.fill into a Float64Array versus Rng.fillNormal (Box-Muller
// over pure-rand) into a Float32Array, in the same process. Each side fills a D-long buffer REPS times per
// round, ROUNDS rounds after a warm-up; the median round is reported as ns per number. Needs `npm run build`.
// Usage: node benchmarks/normal-stream.mjs [--reps N] [--dim D] [--rounds R] [--json]
import { NormalStream } from '../dist/core/normal-stream.js';
import { Rng } from '../dist/core/rng.js';

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}
const json = args.includes('--json');
const reps = option('reps', 200_000);
const dim = option('dim', 500);
const rounds = option('rounds', 3);

function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs `fill` reps times per round; returns per-round ns per number and a checksum (keeps work alive). */
function measure(fill, buffer, roundReps) {
  let checksum = 0;
  for (let i = 0; i < Math.min(roundReps, 2000); i++) fill(buffer); // warm-up: tier up to optimised code
  const perNumber = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < roundReps; i++) {
      fill(buffer);
      checksum += buffer[i % dim];
    }
    perNumber.push(Number(process.hrtime.bigint() - t0) / (roundReps * dim));
  }
  return { nsPerNumber: median(perNumber), rounds: perNumber, checksum };
}

const stream = NormalStream.fromSeed(1);
const f64 = new Float64Array(dim);
const normalStream = measure((b) => stream.fill(b), f64, reps);

const rng = Rng.fromSeed(1);
const f32 = new Float32Array(dim);
// Box-Muller is an order of magnitude slower: fewer repetitions keep the run short, the ratio is unchanged.
const boxMuller = measure((b) => rng.fillNormal(b), f32, Math.max(1, Math.floor(reps / 10)));

const result = {
  node: process.version,
  dim,
  reps,
  normalStream: { nsPerNumber: normalStream.nsPerNumber, rounds: normalStream.rounds },
  rngFillNormal: { nsPerNumber: boxMuller.nsPerNumber, rounds: boxMuller.rounds },
  speedup: boxMuller.nsPerNumber / normalStream.nsPerNumber,
};
if (json) {
  console.log(JSON.stringify(result));
} else {
  const fmt = (x) => x.toFixed(2).padStart(7);
  console.log(`node ${process.version}, ${reps} fills of ${dim} numbers (median of ${rounds} rounds)`);
  console.log(`NormalStream.fill (Float64Array)      ${fmt(normalStream.nsPerNumber)} ns/number`);
  console.log(`Rng.fillNormal (Float32Array)         ${fmt(boxMuller.nsPerNumber)} ns/number`);
  console.log(`speed-up                              ${fmt(result.speedup)} x`);
}
if (!Number.isFinite(normalStream.checksum + boxMuller.checksum)) process.exit(1);
