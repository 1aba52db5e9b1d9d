import { Command, Option } from 'commander';

import { TopdownUsageError } from '../../core/errors.js';
import { writeAtomic } from '../../core/files.js';
import { Matrix } from '../../core/matrix.js';
import { Rng } from '../../core/rng.js';
import { DATASET_NAMES } from '../../data/datasets.js';
import { fillBatch, fillTargets, labelsAt, loadDataset, resolveDataDir } from '../../data/index.js';
import { imageGridPng, type GridRow } from '../../reports/image-grid.js';
import { DEFAULT_RULE, RULES } from '../../rules/registry.js';
import type { InputView, RuleDefinition } from '../../rules/rule.js';
import { resolveTrainConfig, type TrainConfig } from '../../train/config.js';
import { buildModel, restoreModel } from '../../train/model.js';
import { RunFolder } from '../../train/run-folder.js';
import { engineFromFlags, engineOption, threadsOption, type EngineFlags } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { nonEmpty, nonNegativeInt, positiveInt } from '../parse.js';

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
      'write a PNG grid of what each rule feeds the network besides x (labelled inputs, inputs modulated by the error)',
    )
    .addOption(new Option('--data <name>', 'dataset').choices(DATASET_NAMES).default('mnist'))
    .option('--data-dir <dir>', 'data folder (default: TOPDOWN_DATA, else the per-user cache)')
    .option(
      '--run <dir>',
      "use this run's trained model for its rule's rows (the other rules' rows come from fresh models)",
      nonEmpty('--run'),
    )
    .option('--count <n>', 'samples (columns)', positiveInt('--count'), 8)
    .option(
      '--seed <n>',
      'seed of the sample choice, the fresh network and F, and the negatives',
      nonNegativeInt('--seed'),
      0,
    )
    .option('--out <file>', 'PNG file to write', nonEmpty('--out'), 'samples.png')
    .addOption(engineOption())
    .addOption(threadsOption())
    .action((flags: ShowSamplesFlags) => runShowSamples(flags, io));
}

function runShowSamples(flags: ShowSamplesFlags, io: CliIO): void {
  const checkpoint = flags.run ? RunFolder.forReading(flags.run).readCheckpoint() : null;
  const config: TrainConfig = checkpoint
    ? checkpoint.config
    : resolveTrainConfig(
        { rule: DEFAULT_RULE, data: flags.data, seed: flags.seed, batchSize: flags.count },
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

  // Every rule that shows what it feeds the network: the run's own from its trained model, the others fresh.
  const grid: GridRow[] = [{ label: 'input x', images: imagesOf(x, (i) => `label ${labels[i]}`) }];
  const batchSize = Math.max(config.batchSize, rows);
  const shown: InputView[] = [];
  for (const def of RULES as readonly RuleDefinition[]) {
    const fromRun = checkpoint !== null && def.name === config.rule;
    let model;
    try {
      const ruleConfig = fromRun
        ? { ...config, batchSize }
        : resolveTrainConfig({ rule: def.name, data: dataName, seed: flags.seed, batchSize }, 'show-samples');
      model = buildModel(ruleConfig, data.features, data.classes, engine, data.shape);
    } catch {
      continue; // a rule that cannot be built on this dataset with its defaults shows nothing
    }
    if (!model.rule.inputViews) continue;
    if (fromRun) restoreModel(model, checkpoint.model, flags.run!);
    for (const view of model.rule.inputViews({ x, targets })) {
      // rules drawing the same views from the same seed (PEPITA's and AFA's fresh F) show them once
      if (shown.some((v) => v.label === view.label && sameValues(v.images.data, view.images.data))) continue;
      shown.push(view);
      grid.push({
        label: `${def.name}: ${view.label}`,
        images: imagesOf(view.images, (i) => view.captions[i] ?? ''),
        ...(view.signed
          ? { scaling: view.perImage ? ('symmetric-each' as const) : ('symmetric' as const) }
          : {}),
      });
    }
  }
  const [channels, height, width] = data.shape;
  const png = imageGridPng(grid, {
    width,
    height,
    channels: channels as 1 | 3,
    layout: 'chw',
    title: `${dataName}: what each rule feeds the network${checkpoint ? ` (run ${flags.run})` : ' (fresh network, seed ' + flags.seed + ')'}`,
  });
  writeAtomic(flags.out, png);
  io.err(`wrote ${flags.out} (${rows} samples)\n`);
}

function imagesOf(m: Matrix, caption: (i: number) => string) {
  return Array.from({ length: m.rows }, (_, i) => ({ pixels: m.row(i), caption: caption(i) }));
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
