/**
 * Fault injection: training processes killed with SIGKILL at random moments, some inside a checkpoint write
 * (widened by TOPDOWN_FAULT_SLOW_WRITE_MS), must leave a readable checkpoint (or none yet), and resuming must
 * give the uninterrupted run's final weights and metrics exactly. KILL_TRIALS raises the count
 * (`npm run reliability`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Rng } from '../src/core/rng.js';
import { readCheckpointFile } from '../src/train/checkpoint-file.js';

import { checkpointTensors, untimedMetrics, writeSyntheticMnist } from './train-helpers.js';

const TRIALS = Number(process.env.KILL_TRIALS ?? 4);
const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'topdown-kill-'));
const data = join(tmp, 'data');
beforeAll(() => writeSyntheticMnist(data, 12, 600, 100));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const RUN = ['train', '--data-dir', data, '--hidden', '64', '--batch-size', '8', '--epochs', '6', '--json'];
const env = { ...process.env, TOPDOWN_ENGINE: undefined, TOPDOWN_FAULT_SLOW_WRITE_MS: '15' };
const tensors = checkpointTensors;
const untimed = untimedMetrics;

describe('kill -9 at random moments', () => {
  it(`${TRIALS} kills, each resumed to the uninterrupted run's exact result`, async () => {
    const straight = join(tmp, 'straight');
    const s = spawnSync(process.execPath, [cli, ...RUN, '--out', straight], { env, encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    const rng = Rng.fromSeed(2024);
    const outcomes = {
      'before the first checkpoint': 0,
      'inside a write': 0,
      'between writes': 0,
    };
    for (let trial = 0; trial < TRIALS; trial++) {
      const out = join(tmp, `killed-${trial}`);
      const child = spawn(process.execPath, [cli, ...RUN, '--out', out], { env, stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', r));
      // wait for the run to start writing, then kill after a random delay
      const deadline = Date.now() + 60_000;
      while (!existsSync(join(out, 'config.json')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 2));
      await new Promise((r) => setTimeout(r, rng.int(0, 1500)));
      child.kill('SIGKILL');
      await exited;
      const torn = readdirSync(out).some((f) => f.includes('.tmp-'));
      const hasCheckpoint = existsSync(join(out, 'checkpoint.bin'));
      outcomes[torn ? 'inside a write' : hasCheckpoint ? 'between writes' : 'before the first checkpoint']++;
      if (!hasCheckpoint) continue; // nothing to resume: a new run would start afresh
      readCheckpointFile(join(out, 'checkpoint.bin')); // a kill never leaves a torn checkpoint
      const r = spawnSync(process.execPath, [cli, 'train', '--resume', out, '--json'], {
        env,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      expect(tensors(out)).toEqual(tensors(straight));
      expect(untimed(out)).toEqual(untimed(straight));
      expect(readdirSync(out).some((f) => f.includes('.tmp-'))).toBe(false);
    }
    if (process.env.KILL_REPORT)
      writeFileSync(process.env.KILL_REPORT, JSON.stringify({ trials: TRIALS, outcomes }));
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(TRIALS);
  }, 600_000);
});
