/**
 * Ctrl-C and SIGTERM as a user sends them to a real training process: the first stops after the current
 * batch with a checkpoint of the epoch so far (exit 130 / 143) from which --resume continues bit for bit; a
 * second quits at once and leaves the last checkpoint intact.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readCheckpointFile } from '../src/train/checkpoint-file.js';

import { checkpointTensors, untimedMetrics, writeSyntheticMnist } from './train-helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'topdown-signals-'));
const data = join(tmp, 'data');
beforeAll(() => writeSyntheticMnist(data, 8, 4000, 200));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// about a second per epoch, so that a signal sent right after epoch 1 lands inside epoch 2
const RUN = [
  'train',
  '--data-dir',
  data,
  '--hidden',
  '768',
  '--batch-size',
  '16',
  '--epochs',
  '3',
  '--decay-epochs',
  '1',
  '--json',
];
const env = { ...process.env, TOPDOWN_ENGINE: undefined };

function start(args: string[]) {
  const child = spawn(process.execPath, [cli, ...args], { env });
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  const done = new Promise<{ code: number | null; err: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, err })),
  );
  return { child, done };
}

async function until(check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const epochsLogged = (out: string): number =>
  existsSync(join(out, 'metrics.jsonl'))
    ? readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length
    : 0;
const untimed = untimedMetrics;
const tensors = checkpointTensors;

describe('signals during training', () => {
  let reference: string;
  beforeAll(() => {
    reference = join(tmp, 'straight');
    const r = spawnSync(process.execPath, [cli, ...RUN, '--out', reference], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('Ctrl-C stops after the batch with a checkpoint inside the epoch; --resume continues bit for bit', async () => {
    const out = join(tmp, 'interrupted');
    const run = start([...RUN, '--out', out]);
    await until(() => epochsLogged(out) === 1);
    run.child.kill('SIGINT');
    const { code, err } = await run.done;
    expect(code, err).toBe(130);
    expect(err).toMatch(/stopping after this batch and saving a checkpoint/);
    expect(err).toMatch(
      /stopped by SIGINT at epoch 2, batch \d+; checkpoint in .*: continue with topdown train --resume/,
    );
    const header = readCheckpointFile(join(out, 'checkpoint.bin')).header;
    expect(header.epochsDone).toBe(1);
    expect((header.partial as { batchesDone: number }).batchesDone).toBeGreaterThan(0);
    expect(existsSync(join(out, 'run.lock'))).toBe(false);
    const resumed = spawnSync(
      process.execPath,
      [cli, 'train', '--resume', out, '--data-dir', data, '--json'],
      {
        env,
        encoding: 'utf8',
      },
    );
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(tensors(out)).toEqual(tensors(reference));
    expect(untimed(out)).toEqual(untimed(reference));
  });

  it('a second Ctrl-C quits at once and leaves the last checkpoint intact; SIGTERM exits 143', async () => {
    const out = join(tmp, 'twice');
    const run = start([...RUN, '--out', out]);
    await until(() => epochsLogged(out) === 1);
    run.child.kill('SIGINT');
    run.child.kill('SIGINT');
    const { code, err } = await run.done;
    expect(code, err).toBe(130);
    expect(readCheckpointFile(join(out, 'checkpoint.bin')).header.epochsDone).toBe(1);

    const term = join(tmp, 'term');
    const other = start([...RUN, '--out', term]);
    await until(() => epochsLogged(term) === 1);
    other.child.kill('SIGTERM');
    const t = await other.done;
    expect(t.code, t.err).toBe(143);
    expect(t.err).toMatch(/stopped by SIGTERM at epoch 2/);
  });
});
