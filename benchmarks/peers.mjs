#!/usr/bin/env node
// Runs `topdown bench train` and its plain-PyTorch peer (benchmarks/torch_peers.py) alternately on the same
// shapes and settings, several rounds, and prints the medians and the ratios, with topdown's roofline.
//
//   node benchmarks/peers.mjs [--rounds N] [--cases pepita,bp,fa,ff,pepita-wm,pepita-conv-cifar10,...] [--json]
//
// The default cases are the fully connected ones; the conv cases (pepita-, bp-, fa-conv-mnist / -cifar10,
// the ICML conv model) are chosen by name.
//
// PyTorch runs at its best here: with the OpenBLAS kernels for the CPU's widest vectors (OPENBLAS_CORETYPE from
// `topdown info`: SkylakeX on AVX-512 CPUs, set for the peer's process only), one thread per core and
// OMP_WAIT_POLICY=PASSIVE. Each row also gives topdown's step over its physical roofline (its products at the
// measured FMA peak plus its elementwise bytes at the measured bandwidth). The Python interpreter is $PYTHON, else the first of python3
// and /usr/bin/python3 that imports torch (Debian: apt-get install python3-torch).
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const peer = join(root, 'benchmarks', 'torch_peers.py');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const rounds = Number(option('--rounds', 3));
const json = args.includes('--json');
const threads = availableParallelism();

// Each case: topdown's bench flags and the peer's flags for the same step. `peer: null` has no PyTorch peer
// (weight mirroring is compared with plain PEPITA, measured alongside).
const CASES = {
  pepita: {
    ours: ['--rule', 'pepita', '--data', 'cifar10'],
    peer: [
      '--rule',
      'pepita',
      '--sizes',
      '3072,1024,10',
      '--batch',
      '64',
      '--lr',
      '0.01',
      '--dropout',
      '0.1',
    ],
  },
  bp: {
    ours: ['--rule', 'bp', '--data', 'cifar10'],
    peer: ['--rule', 'bp', '--sizes', '3072,1024,10', '--batch', '64', '--lr', '0.01', '--dropout', '0.1'],
  },
  fa: {
    ours: ['--rule', 'fa', '--data', 'cifar10'],
    peer: ['--rule', 'fa', '--sizes', '3072,1024,10', '--batch', '64', '--lr', '0.001', '--dropout', '0.1'],
  },
  ff: {
    ours: ['--preset', 'ff-mnist', '--batches', '20'],
    peer: [
      '--rule',
      'ff',
      '--sizes',
      '784,2000,2000,2000,2000,10',
      '--batch',
      '100',
      '--optimizer',
      'adam',
      '--lr',
      '0.001',
      '--dropout',
      '0',
      '--bias',
      '--batches',
      '20',
    ],
  },
  'pepita-wm': { ours: ['--preset', 'pepita-wm-cifar10'], peer: null },
};
// The ICML conv model (Conv(32, 5x5) -> ReLU -> MaxPool 2x2 -> FC, batch 50, no dropout): the *-conv-* presets.
for (const [data, shape, d0] of [
  ['mnist', '1,28,28', 784],
  ['cifar10', '3,32,32', 3072],
]) {
  for (const [rule, lr] of [
    ['pepita', 0.01],
    ['bp', 0.01],
    ['fa', data === 'mnist' ? 0.01 : 0.001],
  ]) {
    CASES[`${rule}-conv-${data}`] = {
      ours: ['--preset', `${rule}-conv-${data}`],
      peer: [
        '--rule',
        rule,
        '--conv',
        shape,
        '--sizes',
        `${d0},10`,
        '--batch',
        '50',
        '--lr',
        String(lr),
        '--dropout',
        '0',
      ],
    };
  }
}
const chosen = option('--cases', 'pepita,bp,fa,ff,pepita-wm').split(',');
for (const name of chosen) {
  if (!CASES[name]) {
    process.stderr.write(`peers: unknown case "${name}"; choose from ${Object.keys(CASES).join(', ')}\n`);
    process.exit(2);
  }
}

function run(command, argv, env) {
  const r = spawnSync(command, argv, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    process.stderr.write(`peers: ${command} ${argv.join(' ')} failed:\n${r.stderr}\n`);
    process.exit(1);
  }
  const out = r.stdout.trim();
  return JSON.parse(out.startsWith('{\n') ? out : out.split('\n').pop());
}

function findPython() {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

const info = run(process.execPath, [cli, 'info', '--json'], {});
const coreType = info.engine?.openblasCore ?? info.openblas?.core ?? process.env.OPENBLAS_CORETYPE;
const python = chosen.some((c) => CASES[c].peer) ? findPython() : null;
if (chosen.some((c) => CASES[c].peer) && !python) {
  process.stderr.write(
    'peers: no python with torch found (Debian: apt-get install python3-torch, or set PYTHON)\n',
  );
  process.exit(1);
}
const peerEnv = { OMP_WAIT_POLICY: 'PASSIVE', ...(coreType ? { OPENBLAS_CORETYPE: coreType } : {}) };

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const results = {};
for (let round = 1; round <= rounds; round++) {
  for (const name of chosen) {
    const c = CASES[name];
    process.stderr.write(`\rround ${round}/${rounds}: ${name}        `);
    const r = (results[name] ??= {
      ours: [],
      peer: [],
      roofline: [],
      physical: [],
      rooflineMs: [],
      peerMs: [],
      plain: [],
    });
    const ours = run(process.execPath, [cli, 'bench', 'train', '--json', ...c.ours], {});
    r.ours.push(ours.samples_per_s);
    if (ours.roofline) {
      r.roofline.push(ours.roofline.step_over_roofline);
      r.rooflineMs.push(ours.roofline.roofline_ms);
      if (ours.roofline.step_over_physical != null) r.physical.push(ours.roofline.step_over_physical);
    }
    if (c.peer) {
      const theirs = run(python, [peer, '--threads', String(threads), ...c.peer], peerEnv);
      r.peer.push(theirs.samples_per_s);
      r.peerMs.push(theirs.median_ms_per_batch);
    } else {
      // mirroring's yardstick: plain PEPITA on the same net, measured alongside
      const plain = run(
        process.execPath,
        [cli, 'bench', 'train', '--json', '--no-roofline', ...CASES.pepita.ours],
        {},
      );
      r.plain.push(plain.samples_per_s);
    }
  }
}
process.stderr.write('\r\x1b[K');

const rows = chosen.map((name) => {
  const r = results[name];
  const ours = median(r.ours);
  const row = { case: name, topdown_samples_per_s: Math.round(ours), rounds };
  if (r.roofline.length) row.step_over_roofline = Number(median(r.roofline).toFixed(2));
  if (r.physical.length) row.step_over_physical = Number(median(r.physical).toFixed(2));
  if (r.peer.length) {
    row.torch_samples_per_s = Math.round(median(r.peer));
    row.ratio = Number((ours / median(r.peer)).toFixed(2));
    // the ratio topdown would reach with its step at its roofline
    if (r.rooflineMs.length)
      row.ratio_at_roofline = Number((median(r.peerMs) / median(r.rooflineMs)).toFixed(2));
    row.ratio_range = [
      Number((Math.min(...r.ours) / Math.max(...r.peer)).toFixed(2)),
      Number((Math.max(...r.ours) / Math.min(...r.peer)).toFixed(2)),
    ];
  }
  if (r.plain.length) {
    row.plain_pepita_samples_per_s = Math.round(median(r.plain));
    row.epoch_time_over_plain = Number((median(r.plain) / ours).toFixed(2));
  }
  return row;
});
if (json) {
  process.stdout.write(JSON.stringify({ machine: info.cpu ?? null, threads, coreType, rows }) + '\n');
} else {
  process.stdout.write(
    `topdown vs PyTorch, ${rounds} alternating rounds, ${threads} threads, OpenBLAS core ${coreType}\n`,
  );
  for (const row of rows) {
    const parts = [
      `${row.case.padEnd(10)} topdown ${String(row.topdown_samples_per_s).padStart(6)} samples/s`,
    ];
    if (row.step_over_roofline) parts.push(`step/roofline ${row.step_over_roofline.toFixed(2)}`);
    if (row.step_over_physical) parts.push(`step/physical ${row.step_over_physical.toFixed(2)}`);
    if (row.ratio)
      parts.push(
        `torch ${String(row.torch_samples_per_s).padStart(6)} samples/s  ratio ${row.ratio.toFixed(2)}x (${row.ratio_range[0]}-${row.ratio_range[1]}; ${row.ratio_at_roofline}x at the roofline)`,
      );
    if (row.epoch_time_over_plain)
      parts.push(
        `plain PEPITA ${row.plain_pepita_samples_per_s} samples/s: an epoch takes ${row.epoch_time_over_plain.toFixed(2)}x`,
      );
    process.stdout.write(parts.join('  ') + '\n');
  }
}
