import { writeFileSync, renameSync } from 'node:fs';

import { Command, Option } from 'commander';

import { TopdownUsageError } from '../../core/errors.js';
import { Matrix } from '../../core/matrix.js';
import { Rng } from '../../core/rng.js';
import { DATASET_NAMES } from '../../data/datasets.js';
import { fillBatch, fillTargets, labelsAt, loadDataset, resolveDataDir } from '../../data/index.js';
import { forward, ForwardState } from '../../nn/forward.js';
import { imageGridPng, type GridRow } from '../../reports/image-grid.js';
import { embedLabels } from '../../rules/ff-labels.js';
import { outputError } from '../../rules/output-error.js';
import { resolveTrainConfig, type TrainConfig } from '../../train/config.js';
import { buildModel, restoreModel } from '../../train/model.js';
import { RunFolder } from '../../train/run-folder.js';
import { engineFromFlags, engineOption, threadsOption, type EngineFlags } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { nonNegativeInt, positiveInt } from '../parse.js';

interface ShowSamplesFlags extends EngineFlags {
  data: (typeof DATASET_NAMES)[number];
  dataDir?: string;
  run?: string;
  count: number;
  seed: number;
  out: string;
  perturbationGain: number;
}

export function registerShowSamplesCommand(program: Command, io: CliIO): void {
  program
    .command('show-samples')
    .description(
      'write a PNG grid of what each rule feeds the network: x, FF positive and negative inputs, PEPITA x - F e',
    )
    .addOption(new Option('--data <name>', 'dataset').choices(DATASET_NAMES).default('mnist'))
    .option('--data-dir <dir>', 'data folder (default: TOPDOWN_DATA, else the per-user cache)')
    .option(
      '--run <dir>',
      "use this run's trained network and F for the modulated inputs (rule pepita or afa)",
    )
    .option('--count <n>', 'samples (columns)', positiveInt('--count'), 8)
    .option(
      '--seed <n>',
      'seed of the sample choice, the fresh network and F, and the negatives',
      nonNegativeInt('--seed'),
      0,
    )
    .option('--out <file>', 'PNG file to write', 'samples.png')
    .addOption(engineOption())
    .addOption(threadsOption())
    .action((flags: ShowSamplesFlags) => runShowSamples(flags, io));
}

function runShowSamples(flags: ShowSamplesFlags, io: CliIO): void {
  const checkpoint = flags.run ? new RunFolder(flags.run).readCheckpoint() : null;
  const config: TrainConfig = checkpoint
    ? checkpoint.config
    : resolveTrainConfig(
        { rule: 'pepita', data: flags.data, seed: flags.seed, batchSize: flags.count },
        'show-samples',
      );
  if (config.standardize) {
    throw new TopdownUsageError(
      'show-samples shows pixels in [0, 1]; it does not support runs trained with --standardize',
    );
  }
  const dataName = checkpoint ? config.data : flags.data;
  const n = flags.count;
  const data = loadDataset(dataName, {
    dataDir: resolveDataDir(flags.dataDir ?? config.dataDir),
    trainSubset: 1,
    testSubset: undefined,
  });
  const { engine } = engineFromFlags(flags, io);
  const rng = Rng.fromSeed(flags.seed).derive('show-samples');
  const indices = rng.permutation(data.test.count).slice(0, Math.min(n, data.test.count));
  const rows = indices.length;
  const x = new Matrix(rows, data.features);
  const targets = new Matrix(rows, data.classes);
  const labels = new Uint8Array(rows);
  fillBatch(data.test, data.features, indices, 0, rows, x.data, null);
  fillTargets(data.test, indices, 0, rows, data.classes, targets.data);
  labelsAt(data.test, indices, 0, rows, labels);

  // Forward-Forward: the true label (positive) and a random wrong one (negative) in the first pixels.
  const positive = new Matrix(rows, data.features);
  embedLabels(x, labels, data.classes, 1, positive);
  const wrong = Array.from(labels, (c) => (c + 1 + rng.int(0, data.classes - 2)) % data.classes);
  const negative = new Matrix(rows, data.features);
  embedLabels(x, wrong, data.classes, 1, negative);

  // PEPITA: x - F e with the error of a fresh (or the run's) network.
  const modelConfig = {
    ...config,
    batchSize: Math.max(config.batchSize, rows),
    rule: checkpoint ? config.rule : 'pepita',
  } as TrainConfig;
  const model = buildModel(modelConfig, data.features, data.classes, engine);
  if (checkpoint) restoreModel(model, checkpoint.model, flags.run!);
  const grid: GridRow[] = [
    { label: 'input x', images: imagesOf(x, (i) => `label ${labels[i]}`) },
    { label: 'FF positive\n(true label)', images: imagesOf(positive, (i) => `${labels[i]}`) },
    { label: 'FF negative\n(wrong label)', images: imagesOf(negative, (i) => `${wrong[i]}`) },
  ];
  const topDown = model.setup.topDown;
  if (topDown) {
    const state = new ForwardState(model.net, rows);
    const y = forward(engine, state, x, null);
    const e = new Matrix(rows, data.classes);
    outputError(y, targets, e);
    const fe = new Matrix(rows, data.features);
    engine.gemm(false, true, rows, topDown.matrix.rows, topDown.matrix.cols, 1, e, topDown.matrix, 0, fe);
    const sign = config.sign === 'plus' ? 1 : -1;
    const modulated = new Matrix(rows, data.features);
    for (let i = 0; i < modulated.data.length; i++) modulated.data[i] = x.data[i]! + sign * fe.data[i]!;
    const maxAbs = fe.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    grid.push(
      {
        label: `PEPITA modulated\nx ${sign < 0 ? '-' : '+'} F e`,
        images: imagesOf(modulated, (i) => `e_${labels[i]} = ${e.get(i, labels[i]!).toFixed(2)}`),
      },
      {
        label: `F e (max |F e|\n= ${maxAbs.toPrecision(2)})`,
        images: imagesOf(fe, () => ''),
        scaling: 'symmetric',
      },
    );
  }
  const [channels, height, width] = data.shape;
  const png = imageGridPng(grid, {
    width,
    height,
    channels: channels as 1 | 3,
    layout: 'chw',
    title: `${dataName}: what each rule feeds the network${checkpoint ? ` (run ${flags.run})` : ' (fresh network, seed ' + flags.seed + ')'}`,
  });
  const tmp = `${flags.out}.tmp-${process.pid}`;
  writeFileSync(tmp, png);
  renameSync(tmp, flags.out);
  io.err(`wrote ${flags.out} (${rows} samples)\n`);
}

function imagesOf(m: Matrix, caption: (i: number) => string) {
  return Array.from({ length: m.rows }, (_, i) => ({ pixels: m.row(i), caption: caption(i) }));
}
