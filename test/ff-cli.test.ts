import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeSyntheticMnist } from './train-helpers.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'topdown-cli-ff-'));
const data = join(tmp, 'data');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => writeSyntheticMnist(data, 5, 600, 120));

function topdown(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const FF = ['train', '--rule', 'ff', '--data', 'mnist', '--data-dir', data, '--hidden', '64,64', '--bias'];
const SMALL = [
  '--epochs',
  '2',
  '--batch-size',
  '20',
  '--optimizer',
  'adam',
  '--lr',
  '0.003',
  '--decay-epochs',
  '',
];

describe('Forward-Forward from the command line (spawned)', () => {
  it('train --rule ff logs both classifiers and per-layer goodness, and draws the goodness histograms', () => {
    const out = join(tmp, 'ff-run');
    const r = topdown([...FF, ...SMALL, '--goodness-histogram-epochs', '0,2', '--out', out, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ rule: 'ff', sizes: [784, 64, 64, 10], epochs: 2 });
    // (learning itself is tested in rules-ff and train-ff; two short epochs only check the plumbing here)
    expect(summary.test_acc_goodness).toBeGreaterThanOrEqual(0);
    expect(summary.test_acc_goodness).toBeLessThanOrEqual(1);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[1].goodness_pos).toHaveLength(2);
    expect(lines[1].goodness_neg).toHaveLength(2);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ normalization: 'sample-rms', dropout: 0, optimizer: 'adam' });
    expect(readFileSync(join(out, 'goodness-histograms.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(readFileSync(join(out, 'goodness-histograms.svg'), 'utf8')).toContain('epoch 2');
    expect(Array.from(readFileSync(join(out, 'goodness-histograms.png')).subarray(0, 8))).toEqual(PNG);
    const evaluated = JSON.parse(topdown(['eval', out, '--data-dir', data, '--json']).out);
    expect(evaluated.test_acc_goodness).toBe(summary.test_acc_goodness);
    expect(evaluated.test_acc).toBe(summary.test_acc);
    // the checkpoint resumes (Adam state, negatives stream)
    const resumed = topdown(['train', '--resume', out, '--epochs', '3', '--json']);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.out).epochs).toBe(3);
  });

  it('show-samples writes the grid of inputs, FF positives and negatives and PEPITA modulated inputs', () => {
    const file = join(tmp, 'samples.png');
    const r = topdown(['show-samples', '--data', 'mnist', '--data-dir', data, '--count', '5', '--out', file]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/wrote .*samples\.png \(5 samples\)/);
    expect(Array.from(readFileSync(file).subarray(0, 8))).toEqual(PNG);
    // from a trained PEPITA run: its network and F
    const run = join(tmp, 'pepita-run');
    expect(
      topdown([
        'train',
        '--data',
        'mnist',
        '--data-dir',
        data,
        '--hidden',
        '32',
        '--epochs',
        '1',
        '--out',
        run,
        '--json',
      ]).code,
    ).toBe(0);
    const fromRun = topdown([
      'show-samples',
      '--run',
      run,
      '--data-dir',
      data,
      '--count',
      '3',
      '--out',
      join(tmp, 'run.png'),
    ]);
    expect(fromRun.code).toBe(0);
    expect(existsSync(join(tmp, 'run.png'))).toBe(true);
  });

  it.each([
    [[...FF, '--dropout', '0.2'], /rule ff does not use dropout/],
    [[...FF, '--normalization', 'batch-frobenius'], /sample-rms/],
    [
      ['train', '--data', 'mnist', '--data-dir', data, '--rule', 'bp', '--goodness-histogram-epochs', '1'],
      /pepita or ff/,
    ],
    [['show-samples', '--count', '0'], /--count must be a positive integer/],
    [['show-samples', '--run', join(tmp, 'nowhere')], /nowhere/],
  ])('bad input %j: one line, exit 2', (args, message) => {
    const r = topdown(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
