import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { readCheckpointFile } from '../src/train/checkpoint-file.js';
import { readConfigFile } from '../src/train/config-file.js';
import { openTrainingSession } from '../src/train/open.js';
import { camelKeys, resolveTrainConfig, type TrainConfigInput } from '../src/train/config.js';
import { buildModel, restoreModel, snapshotModel } from '../src/train/model.js';
import { presetConfig, PRESETS } from '../src/train/presets.js';
import { RunFolder } from '../src/train/run-folder.js';
import { TrainingDivergedError, TrainingSession } from '../src/train/trainer.js';

import { availableEngines } from './helpers.js';
import { syntheticDataset, writeSyntheticMnist } from './train-helpers.js';

const engine = availableEngines()[0]!;
const tmp = mkdtempSync(join(tmpdir(), 'topdown-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const small = (extra: TrainConfigInput = {}) =>
  resolveTrainConfig({
    hidden: [32],
    epochs: 4,
    batchSize: 16,
    lr: 0.05,
    decayEpochs: [],
    seed: 3,
    ...extra,
  });

function weightsOf(session: TrainingSession): number[][] {
  return snapshotModel(session.model).tensors.map((t) => Array.from(t));
}

describe('training loop', () => {
  it('a tiny PEPITA run learns a synthetic task and logs every epoch', () => {
    const data = syntheticDataset(1);
    const epochs: number[] = [];
    const session = new TrainingSession(small({ epochs: 5 }), data, engine, {
      callbacks: [{ onEpochEnd: (logs) => void epochs.push(logs.epoch) }],
    });
    const history = session.run();
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
    const last = history.last!;
    expect(last.test_acc).toBeGreaterThan(0.85);
    expect(last.train_acc).toBeGreaterThan(0.7);
    expect(last.angle_deg).toBeGreaterThan(0);
    expect(last.angle_deg).toBeLessThan(180);
    expect(last.weight_norms).toHaveLength(2);
    expect(last.samples_per_s).toBeGreaterThan(0);
    // 600 samples, batch 16: 37 full batches, the last partial batch dropped
    expect(last.train_acc * 37 * 16).toBeCloseTo(Math.round(last.train_acc * 37 * 16), 6);
  });

  it('every rule trains through the loop; FA reports its feedback angles', () => {
    for (const rule of ['bp', 'fa', 'dfa', 'drtp', 'afa'] as const) {
      const history = new TrainingSession(small({ rule, epochs: 3 }), syntheticDataset(2), engine).run();
      // chance is 0.25; DRTP (targets, not errors, projected) learns the slowest
      expect(history.last!.test_acc, rule).toBeGreaterThan(rule === 'drtp' ? 0.45 : 0.6);
      if (rule === 'fa') expect(history.last!.layer_angles_deg).toHaveLength(1);
    }
  });

  it('stopTraining ends the run after the epoch; a validation split is evaluated', () => {
    const session = new TrainingSession(small({ valSplit: 100 }), syntheticDataset(3), engine, {
      callbacks: [{ onEpochEnd: (logs, s) => void (logs.epoch === 2 && (s.stopTraining = true)) }],
    });
    const history = session.run();
    expect(history.epochs).toHaveLength(2);
    expect(history.last!.val_acc).toBeGreaterThan(0);
  });

  it('resuming from a checkpoint gives byte-identical weights to the uninterrupted run', () => {
    const data = syntheticDataset(4);
    const config = small({
      dropout: 0.2,
      weightDecay: 1e-3,
      rule: 'pepita',
      feedbackInit: 'normal',
      mirror: { period: 2 },
    });
    const straight = new TrainingSession(config, data, engine);
    straight.run();

    const folder = new RunFolder(join(tmp, 'resume'));
    const first = new TrainingSession(config, data, engine, {
      sink: folder,
      callbacks: [{ onEpochEnd: (logs, s) => void (logs.epoch === 2 && (s.stopTraining = true)) }],
    });
    first.run();
    const checkpoint = folder.readCheckpoint();
    expect(checkpoint.epochsDone).toBe(2);
    const resumed = new TrainingSession(config, data, engine, { sink: folder, resume: checkpoint });
    const history = resumed.run();
    expect(history.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(weightsOf(resumed)).toEqual(weightsOf(straight));
    const lines = readFileSync(join(folder.dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).epoch)).toEqual([1, 2, 3, 4]);
  });

  it('stops with a message naming epoch and batch when the loss blows up, keeping the last good checkpoint', () => {
    const folder = new RunFolder(join(tmp, 'diverge'));
    // lr x 1e30 after the first epoch: the weights overflow and the loss turns NaN
    const config = small({ lr: 0.05, decayEpochs: [0], decayFactor: 1e30 });
    const session = new TrainingSession(config, syntheticDataset(5), engine, { sink: folder });
    expect(() => session.run()).toThrow(TrainingDivergedError);
    expect(() => session.run()).toThrow(/training diverged at epoch 2, batch \d+: the loss is/);
    expect(folder.readCheckpoint().epochsDone).toBe(1);
  });

  it("honours the config's subsets, and open() loads the dataset and engine the config names", () => {
    const s = new TrainingSession(small({ trainSubset: 100, testSubset: 50 }), syntheticDataset(12), engine);
    expect([s.data.train.count, s.data.test.count]).toEqual([100, 50]);
    const dir = join(tmp, 'open-data');
    writeSyntheticMnist(dir, 2, 300, 100);
    const opened = openTrainingSession({
      dataDir: dir,
      trainSubset: 200,
      hidden: [8],
      epochs: 1,
      batchSize: 16,
      engine: 'js',
    });
    expect([opened.data.train.count, opened.data.test.count]).toEqual([200, 100]);
    expect(opened.engine.name).toBe('js');
    expect(opened.run().last!.test_acc).toBeGreaterThan(0.1);
    expect(() => new TrainingSession(small({ data: 'cifar10' }), syntheticDataset(1), engine)).toThrow(
      /the config trains on cifar10 but the dataset given is mnist/,
    );
  });

  it('restoring into a differently shaped network fails with a clear message', () => {
    const a = buildModel(small(), 64, 4, engine);
    const b = buildModel(small({ hidden: [16] }), 64, 4, engine);
    expect(() => restoreModel(b, snapshotModel(a), 'run-a')).toThrow(
      /checkpoint run-a is for a 64-32-4 network, not 64-16-4/,
    );
  });
});

describe('checkpoint files', () => {
  it('reject damaged files with a one-line reason', () => {
    const folder = new RunFolder(join(tmp, 'ck'));
    const session = new TrainingSession(small({ epochs: 1 }), syntheticDataset(6), engine, { sink: folder });
    session.run();
    const bytes = readFileSync(folder.checkpointPath);
    expect(readCheckpointFile(folder.checkpointPath).tensors.length).toBeGreaterThan(0);
    writeFileSync(folder.checkpointPath, bytes.subarray(0, bytes.length - 10));
    expect(() => folder.readCheckpoint()).toThrow(/damaged or not a topdown checkpoint: expected \d+ bytes/);
    writeFileSync(folder.checkpointPath, 'hello');
    expect(() => folder.readCheckpoint()).toThrow(/wrong magic number/);
    expect(() => new RunFolder(join(tmp, 'nothing')).readCheckpoint()).toThrow(/no checkpoint in/);
  });

  it('an output path that is a file is refused', () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    expect(() => new RunFolder(file)).toThrow(/is a file, not a folder/);
    expect(() => new RunFolder(join(file, 'below'))).toThrow(/cannot write to the output folder/);
  });
});

describe('configuration', () => {
  it('fills the paper defaults', () => {
    const c = resolveTrainConfig({});
    expect(c).toMatchObject({
      rule: 'pepita',
      hidden: [1024],
      epochs: 100,
      batchSize: 64,
      lr: 0.1,
      momentum: 0.9,
      dropout: 0.1,
    });
    expect(c.decayEpochs).toEqual([60, 90]);
    expect(resolveTrainConfig({ data: 'cifar10' }).lr).toBe(0.01);
    expect(resolveTrainConfig({ data: 'cifar10', lr: 0.5 }).lr).toBe(0.5);
  });

  it.each([
    [{ lrr: 0.1 }, /unknown option "lrr"/],
    [{ lr: -1 }, /lr: Too small/],
    [{ dropout: 1 }, /dropout: Too big/],
    [{ hidden: [1024, 0] }, /hidden.1: Too small/],
    [{ rule: 'bp', mirror: {} }, /mirror applies to rule pepita, not bp/],
    [{ mirror: {} }, /weight mirroring needs feedback init "normal"/],
    [{ rule: 'bp', feedbackScale: 0.1 }, /feedbackScale applies to rules pepita, afa, not bp/],
    [{ kolenPollack: true }, /kolenPollack applies to rule fa, not pepita/],
    [{ rule: 'fa', mode: 'hebbian' }, /mode applies to rule pepita, not fa/],
    [{ decayEpochs: [90, 60] }, /decayEpochs: must be increasing/],
    [{ rule: 'hebb' }, /rule: must be one of pepita/],
  ])('rejects %j', (input, message) => {
    expect(() => resolveTrainConfig(input, 'config')).toThrow(message);
  });

  it('reads YAML and JSON files with kebab-case keys', () => {
    const yaml = join(tmp, 'c.yaml');
    writeFileSync(yaml, 'rule: fa\nweight-decay: 0.001\nhidden: [64, 32]\nmirror:\n  pre-mirror-epochs: 2\n');
    expect(readConfigFile(yaml)).toEqual({
      rule: 'fa',
      weightDecay: 0.001,
      hidden: [64, 32],
      mirror: { preMirrorEpochs: 2 },
    });
    const json = join(tmp, 'c.json');
    writeFileSync(json, '{"batch-size": 32}');
    expect(readConfigFile(json)).toEqual({ batchSize: 32 });
    writeFileSync(json, '{"batch-size": ');
    expect(() => readConfigFile(json)).toThrow(/is not valid JSON/);
    expect(() => readConfigFile(join(tmp, 'missing.yaml'))).toThrow(/cannot read config file .*ENOENT/);
    expect(camelKeys({ 'a-b-c': 1 })).toEqual({ aBC: 1 });
  });

  it('every preset resolves to a valid config', () => {
    for (const name of Object.keys(PRESETS))
      expect(() => resolveTrainConfig(presetConfig(name), name)).not.toThrow();
    expect(resolveTrainConfig(presetConfig('pepita-cifar10'))).toMatchObject({
      data: 'cifar10',
      lr: 0.01,
      hidden: [1024],
    });
    expect(() => presetConfig('nope')).toThrow(/unknown preset "nope"/);
  });
});
