import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readCheckpointFile } from '../src/train/checkpoint-file.js';

import { writeSyntheticMnist } from './train-helpers.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'topdown-cli-train-'));
const data = join(tmp, 'data');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => writeSyntheticMnist(data, 7, 1200, 300));

const BASE = [
  'train',
  '--data',
  'mnist',
  '--data-dir',
  data,
  '--hidden',
  '32',
  '--batch-size',
  '16',
  '--lr',
  '0.05',
  '--decay-epochs',
  '',
];

function topdown(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TOPDOWN_ENGINE: undefined },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const noStack = (text: string): void => expect(text).not.toMatch(/^\s+at /m);

/** The checkpoint's tensors (weights, feedback, optimiser buffers), for byte comparison. */
function tensors(dir: string): number[][] {
  return readCheckpointFile(join(dir, 'checkpoint.bin')).tensors.map((t) => Array.from(t));
}

describe('topdown train (spawned)', () => {
  it('--json prints the summary contract and the run folder holds config, metrics and a checkpoint', () => {
    const out = join(tmp, 'run-json');
    const r = topdown([...BASE, '--epochs', '2', '--out', out, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ epochs: 2, out, rule: 'pepita', data: 'mnist', sizes: [784, 32, 10] });
    expect(summary.test_acc).toBeGreaterThan(0.5);
    expect(summary.test_acc).toBeLessThanOrEqual(1);
    expect(summary.samples_per_s).toBeGreaterThan(0);
    expect(summary.angle_deg).toBeGreaterThan(0);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ rule: 'pepita', hidden: [32], batchSize: 16, epochs: 2, decayEpochs: [] });
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2]);
    expect(lines[1]).toHaveProperty('test_acc', summary.test_acc);
    const evalRun = topdown(['eval', out, '--json']);
    expect(evalRun.code).toBe(0);
    expect(JSON.parse(evalRun.out)).toMatchObject({ test_acc: summary.test_acc, samples: 300, epochs: 2 });
  });

  it('a run killed with SIGKILL mid-epoch and resumed equals the uninterrupted run byte for byte', async () => {
    const args = [
      ...BASE,
      '--epochs',
      '8',
      '--batch-size',
      '4',
      '--hidden',
      '64',
      '--dropout',
      '0.2',
      '--json',
    ];
    const straight = join(tmp, 'straight');
    expect(topdown([...args, '--out', straight]).code).toBe(0);

    // Kill hard as soon as the first checkpoint exists, i.e. during a later epoch. On a very fast machine the
    // run could finish first; then try again with a fresh folder.
    let killed = '';
    let done = 8;
    for (let attempt = 0; attempt < 3 && done >= 8; attempt++) {
      killed = join(tmp, `killed-${attempt}`);
      const child = spawn(process.execPath, [cli, ...args, '--out', killed], { stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', r));
      const deadline = Date.now() + 60_000;
      while (!existsSync(join(killed, 'checkpoint.bin')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2));
      }
      child.kill('SIGKILL');
      await exited;
      done = readCheckpointFile(join(killed, 'checkpoint.bin')).header.epochsDone as number;
    }
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(8);

    const resumed = topdown(['train', '--resume', killed, '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.out).epochs).toBe(8);
    expect(tensors(killed)).toEqual(tensors(straight));
    const lines = readFileSync(join(killed, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  }, 120_000);

  it('a config file is validated and overridden by flags; presets load', () => {
    const file = join(tmp, 'run.yaml');
    writeFileSync(file, 'hidden: [16]\nepochs: 1\nbatch-size: 32\nlr: 0.02\n');
    const out = join(tmp, 'run-config');
    const r = topdown([
      'train',
      '--config',
      file,
      '--data-dir',
      data,
      '--batch-size',
      '16',
      '--decay-epochs',
      '',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({
      hidden: [16],
      batchSize: 16,
      lr: 0.02,
      epochs: 1,
    });
  });

  it.each([
    [['--lr', '-1'], /--lr must be a number >= 0/],
    [['--dropout', '1'], /--dropout must be a number in \[0, 1\)/],
    [['--hidden', '0'], /--hidden must be a comma-separated list of positive integers/],
    [['--rule', 'bp', '--mirror'], /--mirror applies to rule pepita, not bp/],
    [['--data-dir', join(tmp, 'nowhere')], /mnist/],
    [['--out', join(import.meta.dirname, '..', 'package.json', 'run')], /cannot write to the output folder/],
  ])('bad input %j gives one line and exit 2, and leaves no output folder', (extra, message) => {
    const out = join(tmp, 'never-created');
    const r = topdown([...BASE, '--epochs', '1', '--out', out, ...extra]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(message);
    noStack(r.err);
  });

  it('resuming a folder without a checkpoint fails with one line (and creates nothing)', () => {
    const r = topdown(['train', '--resume', join(tmp, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^topdown: cannot open the run folder .*nowhere: no such file or folder \(ENOENT\)$/m,
    );
    expect(existsSync(join(tmp, 'nowhere'))).toBe(false);
    const empty = join(tmp, 'empty-folder');
    mkdirSync(empty);
    const e = topdown(['train', '--resume', empty]);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/^topdown: no checkpoint in .*empty-folder \(expected checkpoint.bin\)$/m);
  });

  it('refuses to change the maths of a run when resuming', () => {
    const out = join(tmp, 'run-json');
    const r = topdown(['train', '--resume', out, '--lr', '0.5']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot change --lr when resuming/);
  });
});
