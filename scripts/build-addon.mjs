#!/usr/bin/env node
// Builds the optional `blas` engine (an N-API addon over the system OpenBLAS) during `npm install`/`npm ci`.
// Installation never fails because of it: without a compiler or OpenBLAS, topdown runs on its portable `js`
// engine and this script prints one line saying so. `--strict` (npm run build:addon) fails loudly instead.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
const statusFile = join(root, 'build', 'addon-status.json');

function record(status) {
  mkdirSync(dirname(statusFile), { recursive: true });
  writeFileSync(statusFile, JSON.stringify({ ...status, date: new Date().toISOString() }, null, 2) + '\n');
}

function fail(reason, detail) {
  record({ built: false, reason });
  if (strict) {
    if (detail) process.stderr.write(detail + '\n');
    process.stderr.write(`topdown: could not build the blas engine: ${reason}\n`);
    process.exit(1);
  }
  process.stderr.write(
    `topdown: blas engine not built (${reason}); using the portable wasm engine (slower). ` +
      `Install OpenBLAS (Debian: apt-get install libopenblas-dev) and a C++ compiler, then run: npm run build:addon\n`,
  );
  process.exit(0);
}

if (process.env.TOPDOWN_SKIP_ADDON === '1') fail('TOPDOWN_SKIP_ADDON=1');

const hasOpenBlas = () => {
  const probe = spawnSync('sh', ['-c', 'pkg-config --exists openblas || ldconfig -p | grep -q libopenblas'], {
    stdio: 'ignore',
  });
  return probe.status === 0;
};
if (!hasOpenBlas()) fail('OpenBLAS not found');

// npm exposes the node-gyp it bundles through npm_config_node_gyp; fall back to one on PATH.
const gyp = process.env.npm_config_node_gyp;
const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const result = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
if (result.error || result.status !== 0) {
  const detail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  const why = result.error ? result.error.message : `node-gyp exited with status ${result.status}`;
  fail(why, detail);
}
// The addon's size and SHA-256, which src/core/blas-addon.ts checks before loading it: a damaged or replaced
// file is refused with a reason instead of being loaded (a truncated one would kill the process with SIGBUS).
const addon = readFileSync(join(root, 'build', 'Release', 'topdown_blas.node'));
record({ built: true, size: addon.length, sha256: createHash('sha256').update(addon).digest('hex') });
