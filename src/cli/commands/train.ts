import { Command, Option } from 'commander';

import { ENGINE_NAMES } from '../../core/engine.js';
import { TopdownUsageError } from '../../core/errors.js';
import { loadDataset, resolveDataDir } from '../../data/index.js';
import { FEEDBACK_INITS } from '../../feedback/top-down.js';
import { WEIGHT_INITS } from '../../nn/init.js';
import { NORMALIZATIONS } from '../../nn/network.js';
import { LAST_LAYER_ERRORS, MODULATION_SIGNS, PEPITA_MODES } from '../../rules/pepita.js';
import { RULE_NAMES } from '../../rules/registry.js';
import { writeGoodnessHistogramFigure } from '../../reports/goodness-figure.js';
import { FF_GOODNESS, FF_NEGATIVES } from '../../rules/ff.js';
import { OPTIMIZERS, readConfigFile, resolveTrainConfig, type TrainConfig } from '../../train/config.js';
import { presetConfig, PRESETS } from '../../train/presets.js';
import { defaultRunFolder, RunFolder } from '../../train/run-folder.js';
import { TrainingSession, type TrainCallbacks } from '../../train/trainer.js';
import { asArgParser, engineFromFlags } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { intList } from '../parse.js';
import { progressCallbacks } from '../progress.js';

const number = (name: string) =>
  asArgParser((v: string) => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n)) throw new TopdownUsageError(`${name} must be a number`);
    return n;
  });
const integer = (name: string) =>
  asArgParser((v: string) => {
    if (!/^\s*-?\d+\s*$/.test(v)) throw new TopdownUsageError(`${name} must be an integer`);
    return Number(v);
  });
const intListAllowZero = (name: string) =>
  asArgParser((v: string) => {
    if (v.trim() === '') return [];
    const items = v.split(',').map((s) => s.trim());
    if (items.some((s) => !/^-?\d+$/.test(s)))
      throw new TopdownUsageError(`${name} must be a comma-separated list of integers`);
    return items.map(Number);
  });

/** Flags that map one-to-one onto config keys (camelCase of the flag). */
const CONFIG_FLAGS = [
  'rule',
  'mode',
  'sign',
  'lastLayer',
  'data',
  'dataDir',
  'trainSubset',
  'testSubset',
  'valSplit',
  'standardize',
  'hidden',
  'activation',
  'init',
  'bias',
  'dropout',
  'normalization',
  'feedbackInit',
  'feedbackScale',
  'kolenPollack',
  'epochs',
  'batchSize',
  'lr',
  'momentum',
  'optimizer',
  'adamBeta1',
  'adamBeta2',
  'adamEps',
  'ffGoodness',
  'ffThreshold',
  'ffNegatives',
  'ffLabelValue',
  'ffPeerNormalization',
  'ffGoodnessEvalEvery',
  'goodnessHistogramEpochs',
  'weightDecay',
  'decayEpochs',
  'decayFactor',
  'decayTiming',
  'seed',
  'checkpointEvery',
  'engine',
  'threads',
] as const;
const MIRROR_FLAGS = {
  mirrorNoise: 'noise',
  mirrorLr: 'lr',
  mirrorWeightDecay: 'weightDecay',
  mirrorPeriod: 'period',
  preMirrorEpochs: 'preMirrorEpochs',
} as const;
/** What may differ when resuming (it does not change the maths of the run). */
const RESUME_FLAGS = new Set(['dataDir', 'engine', 'threads', 'epochs']);

type Flags = Record<string, unknown> & {
  config?: string;
  preset?: string;
  resume?: string;
  out?: string;
  json?: boolean;
  mirror?: boolean;
};

export function registerTrainCommands(program: Command, io: CliIO): void {
  const train = program
    .command('train')
    .description(
      'train a network with a learning rule on a dataset; results, metrics and checkpoints go to --out',
    )
    .addOption(
      new Option('--preset <name>', 'start from the paper settings of a preset').choices(
        Object.keys(PRESETS),
      ),
    )
    .option('--config <file>', 'YAML or JSON config file (flags override it; it overrides the preset)')
    .option('--resume <dir>', 'continue the run saved in DIR (its config is used)')
    .option('--out <dir>', 'output folder (default: a fresh folder under runs/)')
    .option('--json', 'print one JSON summary on stdout and no progress')
    .addOption(new Option('--rule <name>', 'learning rule (default pepita)').choices(RULE_NAMES))
    .addOption(new Option('--mode <mode>', 'PEPITA mode (default standard)').choices(PEPITA_MODES))
    .addOption(
      new Option('--sign <sign>', 'PEPITA/AFA modulation x - F e (minus) or x + F e').choices(
        MODULATION_SIGNS,
      ),
    )
    .addOption(new Option('--last-layer <error>', 'PEPITA last-layer error').choices(LAST_LAYER_ERRORS))
    .addOption(
      new Option('--data <name>', 'dataset (default mnist)').choices([
        'mnist',
        'fashion-mnist',
        'cifar10',
        'cifar100',
      ]),
    )
    .option('--data-dir <dir>', 'data folder (default: TOPDOWN_DATA, else the per-user cache)')
    .option('--train-subset <n>', 'use the first N training samples', integer('--train-subset'))
    .option('--test-subset <n>', 'use the first N test samples', integer('--test-subset'))
    .option('--val-split <n>', 'hold out N training samples for validation', integer('--val-split'))
    .option('--standardize', 'per-channel standardisation of the pixels')
    .option('--hidden <widths>', 'hidden widths, e.g. 1024,1024 (default 1024)', intList('--hidden'))
    .addOption(
      new Option('--activation <name>', 'hidden activation (default relu)').choices([
        'relu',
        'tanh',
        'sigmoid',
        'erf',
        'identity',
      ]),
    )
    .addOption(new Option('--init <name>', 'forward weight init (default he_uniform)').choices(WEIGHT_INITS))
    .option('--bias', 'add biases (the paper uses none)')
    .option('--dropout <p>', 'hidden dropout probability (default 0.1)', number('--dropout'))
    .addOption(
      new Option('--normalization <kind>', 'hidden activation normalisation (default none)').choices(
        NORMALIZATIONS,
      ),
    )
    .addOption(
      new Option('--feedback-init <init>', 'F initialisation (default uniform)').choices(FEEDBACK_INITS),
    )
    .option('--feedback-scale <s>', 'F scale, the paper Bstd (default 0.05)', number('--feedback-scale'))
    .option('--mirror', 'weight mirroring of F (PEPITA with --feedback-init normal)')
    .option('--mirror-noise <s>', 'mirroring noise amplitude (default 0.1)', number('--mirror-noise'))
    .option('--mirror-lr <r>', 'mirroring learning rate (default 0.1)', number('--mirror-lr'))
    .option(
      '--mirror-weight-decay <w>',
      'mirroring weight decay (default 0.5)',
      number('--mirror-weight-decay'),
    )
    .option(
      '--mirror-period <n>',
      'mirror in epochs e with (e + 1) % n == 0 (default 1)',
      integer('--mirror-period'),
    )
    .option(
      '--pre-mirror-epochs <n>',
      'epochs of mirroring only at the start (default 0)',
      integer('--pre-mirror-epochs'),
    )
    .option('--kolen-pollack', 'FA learns its feedback by Kolen-Pollack')
    .option('--epochs <n>', 'epochs (default 100)', integer('--epochs'))
    .option('--batch-size <n>', 'mini-batch size (default 64)', integer('--batch-size'))
    .option(
      '--lr <rate>',
      'learning rate (default 0.1 for MNIST/Fashion-MNIST, 0.01 for CIFAR)',
      number('--lr'),
    )
    .option('--momentum <m>', 'SGD momentum (default 0.9)', number('--momentum'))
    .addOption(new Option('--optimizer <name>', 'sgd (default) or adam').choices(OPTIMIZERS))
    .option('--adam-beta1 <b>', 'Adam beta1 (default 0.9)', number('--adam-beta1'))
    .option('--adam-beta2 <b>', 'Adam beta2 (default 0.999)', number('--adam-beta2'))
    .option('--adam-eps <e>', 'Adam epsilon (default 1e-8)', number('--adam-eps'))
    .addOption(
      new Option('--ff-goodness <kind>', 'FF goodness: sum (default) or mean of squares').choices(
        FF_GOODNESS,
      ),
    )
    .option(
      '--ff-threshold <theta>',
      'FF threshold (default: layer width for sum, 2 for mean)',
      number('--ff-threshold'),
    )
    .addOption(
      new Option('--ff-negatives <how>', 'FF negative labels (default random)').choices(FF_NEGATIVES),
    )
    .option(
      '--ff-label-value <v>',
      'value of the embedded label pixel (default 1)',
      number('--ff-label-value'),
    )
    .option(
      '--ff-peer-normalization <w>',
      'FF peer-normalisation weight (default 0)',
      number('--ff-peer-normalization'),
    )
    .option(
      '--ff-goodness-eval-every <n>',
      'evaluate FF goodness accuracy every N epochs (default 1)',
      integer('--ff-goodness-eval-every'),
    )
    .option(
      '--goodness-histogram-epochs <list>',
      'epochs (0 = before training) at which to record the ||h_1||^2 - ||h_1^mod||^2 histogram',
      intListAllowZero('--goodness-histogram-epochs'),
    )
    .option('--weight-decay <w>', 'coupled weight decay (default 0)', number('--weight-decay'))
    .option(
      '--decay-epochs <list>',
      'epochs after which lr is multiplied by --decay-factor (default 60,90)',
      intListAllowZero('--decay-epochs'),
    )
    .option('--decay-factor <g>', 'learning-rate decay factor (default 0.1)', number('--decay-factor'))
    .addOption(
      new Option(
        '--decay-timing <when>',
        'decay at the end of the epoch (ICLR code) or its start (ICML code)',
      ).choices(['end', 'start']),
    )
    .option('--seed <n>', 'random seed (default 0)', integer('--seed'))
    .option('--checkpoint-every <n>', 'checkpoint every N epochs (default 1)', integer('--checkpoint-every'))
    .addOption(new Option('--engine <name>', 'compute engine (default auto)').choices(ENGINE_NAMES))
    .option('--threads <n>', 'OpenBLAS threads (default all cores)', integer('--threads'));
  train.action((flags: Flags, command: Command) => runTrain(flags, command, io));
}

/** The config keys the user set on the command line (commander leaves the others undefined). */
function flagConfig(flags: Flags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_FLAGS) if (flags[key] !== undefined) out[key] = flags[key];
  const mirror: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(MIRROR_FLAGS))
    if (flags[flag] !== undefined) mirror[key] = flags[flag];
  if (flags.mirror || Object.keys(mirror).length > 0) out.mirror = mirror;
  return out;
}

function mergeConfig(
  preset: Record<string, unknown>,
  file: Record<string, unknown>,
  cli: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...preset, ...file, ...cli };
  const mirrors = [preset.mirror, file.mirror, cli.mirror].filter((m) => m !== undefined) as Record<
    string,
    unknown
  >[];
  if (mirrors.length) merged.mirror = Object.assign({}, ...mirrors);
  return merged;
}

function runTrain(flags: Flags, _command: Command, io: CliIO): void {
  const cli = flagConfig(flags);
  let config: TrainConfig;
  let folder: RunFolder | null = null;
  let outDir: string;
  let resume = null;
  if (flags.resume) {
    if (flags.preset || flags.config || flags.out)
      throw new TopdownUsageError(
        '--resume takes the run from its folder; drop --preset, --config and --out',
      );
    const changed = Object.keys(cli).filter((k) => !RESUME_FLAGS.has(k));
    if (changed.length) {
      throw new TopdownUsageError(
        `cannot change ${changed.map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ')} when resuming`,
      );
    }
    folder = new RunFolder(flags.resume);
    outDir = folder.dir;
    resume = folder.readCheckpoint();
    config = resolveTrainConfig({ ...resume.config, ...cli }, 'flags');
    if (config.epochs < resume.epochsDone)
      throw new TopdownUsageError(
        `--epochs ${config.epochs} is below the ${resume.epochsDone} epochs already done`,
      );
    folder.truncateMetrics(resume.epochsDone);
  } else {
    const preset = flags.preset ? (presetConfig(flags.preset) as Record<string, unknown>) : {};
    const file = flags.config ? readConfigFile(flags.config) : {};
    resolveTrainConfig(
      mergeConfig(preset, file, {}),
      flags.config ? `config file ${flags.config}` : 'preset',
    );
    config = resolveTrainConfig(mergeConfig(preset, file, cli), 'flags');
    outDir = flags.out ?? defaultRunFolder(config.rule, config.data);
  }
  const { engine } = engineFromFlags({ engine: config.engine, threads: config.threads }, io);
  const data = loadDataset(config.data, {
    dataDir: resolveDataDir(config.dataDir),
    trainSubset: config.trainSubset,
    testSubset: config.testSubset,
  });
  const callbacks: TrainCallbacks[] = [];
  if (!flags.json) callbacks.push(progressCallbacks(io, config.epochs, io.errIsTTY));
  const session = new TrainingSession(config, data, engine, { callbacks, resume });
  // The output folder is created only once everything has been validated, so a bad start leaves nothing.
  folder ??= new RunFolder(outDir);
  session.sink = folder;
  folder.writeConfig(config);
  const stop = (): void => {
    if (session.stopTraining) process.exit(130);
    session.stopTraining = true;
    io.err('\ntopdown: stopping after this epoch (its checkpoint is kept); press Ctrl-C again to quit now\n');
  };
  process.on('SIGINT', stop);
  let history;
  try {
    history = session.run();
  } finally {
    process.off('SIGINT', stop);
  }
  if (config.goodnessHistogramEpochs.length) {
    writeGoodnessHistogramFigure(folder.dir, config.rule, (m) => io.err(`topdown: ${m}\n`));
  }
  const last = history.last;
  const summary = {
    test_acc: last?.test_acc ?? null,
    train_acc: last?.train_acc ?? null,
    test_loss: last?.test_loss ?? null,
    epochs: session.completedEpochs,
    samples_per_s: history.epochs.length
      ? history.epochs.reduce((s, e) => s + e.samples_per_s, 0) / history.epochs.length
      : null,
    ...(last?.angle_deg !== undefined ? { angle_deg: last.angle_deg } : {}),
    ...(last?.val_acc !== undefined ? { val_acc: last.val_acc } : {}),
    ...(last?.test_acc_goodness !== undefined ? { test_acc_goodness: last.test_acc_goodness } : {}),
    rule: config.rule,
    data: config.data,
    sizes: session.model.net.sizes,
    engine: engine.name,
    out: folder.dir,
  };
  if (flags.json) io.out(JSON.stringify(summary) + '\n');
  else
    io.out(
      `test accuracy ${((last?.test_acc ?? NaN) * 100).toFixed(2)}% after ${session.completedEpochs} epoch${session.completedEpochs === 1 ? '' : 's'}; results in ${folder.dir}\n`,
    );
}
