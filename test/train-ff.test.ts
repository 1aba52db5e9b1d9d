import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { resolveTrainConfig, type TrainConfigInput } from '../src/train/config.js';
import { presetConfig } from '../src/train/presets.js';
import { RunFolder } from '../src/train/run-folder.js';
import { snapshotModel } from '../src/train/model.js';
import { TrainingSession } from '../src/train/trainer.js';

import { availableEngines } from './helpers.js';
import { syntheticDataset } from './train-helpers.js';

const engine = availableEngines()[0]!;
const tmp = mkdtempSync(join(tmpdir(), 'topdown-train-ff-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ff = (extra: TrainConfigInput = {}) =>
  resolveTrainConfig({
    rule: 'ff',
    hidden: [48, 48],
    bias: true,
    optimizer: 'adam',
    lr: 0.003,
    epochs: 4,
    batchSize: 20,
    decayEpochs: [],
    seed: 2,
    ...extra,
  });

describe('training with Forward-Forward', () => {
  it('defaults to length normalisation and no dropout, and refuses the settings it cannot use', () => {
    const c = ff();
    expect(c.normalization).toBe('sample-rms');
    expect(c.dropout).toBe(0);
    expect(resolveTrainConfig({ rule: 'bp' }).dropout).toBe(0.1);
    expect(() => ff({ dropout: 0.1 })).toThrow(/rule ff does not use dropout/);
    expect(() => ff({ normalization: 'batch-frobenius' })).toThrow(/sample-rms/);
    expect(() => resolveTrainConfig({ rule: 'bp', goodnessHistogramEpochs: [0] })).toThrow(
      /need rule pepita or ff/,
    );
    expect(presetConfig('ff-mnist')).toMatchObject({ hidden: [2000, 2000, 2000, 2000], rule: 'ff' });
  });

  it('learns, logs goodness of both passes per layer and both classifiers, and records histograms', () => {
    const data = syntheticDataset(4, 800, 200, 8, 4);
    const folder = new RunFolder(join(tmp, 'ff'));
    const session = new TrainingSession(ff({ goodnessHistogramEpochs: [0, 4] }), data, engine, {
      sink: folder,
    });
    const history = session.run();
    const last = history.last!;
    expect(last.test_acc).toBeGreaterThan(0.8);
    expect(last.test_acc_goodness).toBeGreaterThan(0.8);
    expect(last.goodness_pos).toHaveLength(2);
    const [pos, neg, loss] = [last.goodness_pos, last.goodness_neg, last.ff_loss] as number[][];
    expect(pos![0]!).toBeGreaterThan(neg![0]!);
    expect(loss!.every((v) => v > 0)).toBe(true);
    const hist = readFileSync(join(folder.dir, 'goodness-histograms.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(hist.map((h) => h.epoch)).toEqual([0, 4]);
    expect(hist[0].counts.reduce((a: number, b: number) => a + b, 0)).toBe(200);
    expect(hist[0].edges).toHaveLength(61);
    // FF separates its passes: the positive-minus-negative goodness grows with training
    expect(hist[1].mean).toBeGreaterThan(hist[0].mean);
  });

  it('resumes exactly with Adam and the negatives stream', () => {
    const data = syntheticDataset(6, 400, 100, 8, 4);
    const config = ff({ epochs: 3 });
    const straight = new TrainingSession(config, data, engine);
    straight.run();
    const folder = new RunFolder(join(tmp, 'resume'));
    const first = new TrainingSession(config, data, engine, {
      sink: folder,
      callbacks: [{ onEpochEnd: (logs, s) => void (logs.epoch === 1 && (s.stopTraining = true)) }],
    });
    first.run();
    const resumed = new TrainingSession(config, data, engine, {
      sink: folder,
      resume: folder.readCheckpoint(),
    });
    resumed.run();
    const tensors = (s: TrainingSession) => snapshotModel(s.model).tensors.map((t) => Array.from(t));
    expect(tensors(resumed)).toEqual(tensors(straight));
  });

  it('PEPITA logs the goodness of its clean and modulated passes and the Fig. S2 histogram', () => {
    const data = syntheticDataset(7, 400, 100, 8, 4);
    const folder = new RunFolder(join(tmp, 'pepita'));
    const config = resolveTrainConfig({
      rule: 'pepita',
      mode: 'goodness',
      hidden: [32, 32],
      epochs: 2,
      batchSize: 16,
      lr: 0.05,
      decayEpochs: [],
      goodnessHistogramEpochs: [2],
    });
    const history = new TrainingSession(config, data, engine, { sink: folder }).run();
    expect(history.last!.goodness_clean).toHaveLength(2);
    expect(history.last!.goodness_modulated).toHaveLength(2);
    const line = JSON.parse(readFileSync(join(folder.dir, 'goodness-histograms.jsonl'), 'utf8').trim());
    expect(line.epoch).toBe(2);
    expect(line.n).toBe(100);
  });
});
