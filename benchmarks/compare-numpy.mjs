#!/usr/bin/env node
// Compares `topdown bench gemm` (blas engine) with numpy's float32 matmul at the same shapes and transposes.
// The two run alternately, ROUNDS times (default 3), on the same machine in one session; per shape the
// median GFLOP/s of each side is reported with the topdown/numpy ratio. Needs `npm run build` and python3
// with numpy. Usage: node benchmarks/compare-numpy.mjs [rounds] [--json]
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);

function runJson(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    process.stderr.write(`${cmd} ${cmdArgs.join(' ')} failed:\n${r.stderr}`);
    process.exit(1);
  }
  return JSON.parse(r.stdout);
}

const samples = new Map(); // "m x k x n" -> { topdown: [], numpy: [] }
const key = (r) => `${r.m}x${r.k}x${r.n}`;
let numpyVersion = '';
let blasInfo;
for (let round = 0; round < rounds; round++) {
  if (process.stderr.isTTY) process.stderr.write(`round ${round + 1}/${rounds}\r`);
  const td = runJson(process.execPath, [
    join(root, 'dist/cli/main.js'),
    'bench',
    'gemm',
    '--engine',
    'blas',
    '--json',
  ]);
  blasInfo = td.engines[0];
  const np = runJson('python3', [join(root, 'benchmarks/numpy_gemm.py')]);
  numpyVersion = np.numpy;
  for (const [side, report] of [
    ['topdown', td],
    ['numpy', np],
  ]) {
    for (const r of report.results) {
      if (!samples.has(key(r))) samples.set(key(r), { topdown: [], numpy: [] });
      samples.get(key(r))[side].push(r.gflops);
    }
  }
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [...samples].map(([shape, s]) => ({
  shape,
  topdown_gflops: median(s.topdown),
  numpy_gflops: median(s.numpy),
  ratio: median(s.topdown) / median(s.numpy),
}));
if (json) {
  process.stdout.write(JSON.stringify({ rounds, numpy: numpyVersion, blas: blasInfo, rows }) + '\n');
} else {
  process.stdout.write(
    `topdown blas (OpenBLAS core ${blasInfo.openblasCore}, ${blasInfo.threads} threads) vs numpy ${numpyVersion}, median of ${rounds} alternating rounds\n`,
  );
  process.stdout.write(
    `${'shape'.padEnd(16)} ${'topdown'.padStart(9)} ${'numpy'.padStart(9)}  topdown/numpy\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.shape.padEnd(16)} ${r.topdown_gflops.toFixed(1).padStart(9)} ${r.numpy_gflops.toFixed(1).padStart(9)}  ${(100 * r.ratio).toFixed(0)}%\n`,
    );
  }
}
