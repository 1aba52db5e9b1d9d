import { isAbsolute, join, resolve as resolvePath } from 'node:path';

import { Command, Option } from 'commander';

import { TopdownInterruptedError, TopdownUsageError } from '../../core/errors.js';
import type { OptionField } from '../../core/options.js';
import { loadDataset, resolveDataDir } from '../../data/index.js';
import { writeGoodnessHistogramFigure } from '../../reports/goodness-figure.js';
import { checkEventsFolder, scalarTags, TfEventsWriter } from '../../reports/tensorboard.js';
import { writeTrainingFigure } from '../../reports/training-figure.js';
import { optionSections, ruleDefinition, ruleLabel, RULE_NAMES } from '../../rules/registry.js';
import { readConfigFile } from '../../train/config-file.js';
import { coreFields, resolveMergedConfig, resolveTrainConfig, type TrainConfig } from '../../train/config.js';
import { presetConfig, PRESETS } from '../../train/presets.js';
import { RunFolder } from '../../train/run-folder.js';
import { RESUMABLE_CHANGES, TrainingSession, type TrainCallbacks } from '../../train/trainer.js';
import { configEngine, engineFromFlags } from '../engine-flags.js';
import { PARENT_PID_ENV } from '../../runner/executor.js';
import type { CliIO } from '../io.js';
import { nonEmpty } from '../parse.js';
import { progressCallbacks } from '../progress.js';
import { addFlags, commanderOption, flagValues, rulesNote, sectionFlags } from '../schema-flags.js';

/** What may differ when resuming (it does not change the maths of the run). */
const RESUME_FLAGS = new Set(RESUMABLE_CHANGES);

type Flags = Record<string, unknown> & {
  config?: string;
  preset?: string;
  resume?: string;
  out?: string;
  json?: boolean;
  dryRun?: boolean;
  overwrite?: boolean;
  /** Internal (runners): replace only a run without a checkpoint (see RunFolder.claimNew). */
  overwriteUnfinished?: boolean;
};

/** Every option flag of `train`: the core options, then each section's flat aliases. */
export function trainFields(): { field: OptionField; rules: string[] }[] {
  return [
    ...coreFields().map((field) => ({ field, rules: [] as string[] })),
    ...sectionFlags(optionSections()),
  ];
}

/**
 * The default of a top-level option under `rule` (on MNIST) when it differs from the schema's (e.g. FF's
 * optimiser), as help shows it; undefined otherwise.
 */
function ruleDefaultNote(field: OptionField, rule: string | undefined): string | undefined {
  if (!rule || field.section !== null || field.name === 'rule') return undefined;
  const v = resolveTrainConfig({ rule }, 'defaults')[field.name];
  if (v === undefined || JSON.stringify(v) === JSON.stringify(field.default)) return undefined;
  return `${Array.isArray(v) ? v.join(',') : String(v)} for rule ${rule}${field.defaultText ? ' on mnist' : ''}`;
}

/**
 * Registers `train`. With `helpRule` (the `--rule` of a `--help` invocation), the help lists only the options
 * that apply to that rule, with the rule's own defaults.
 */
export function registerTrainCommands(program: Command, io: CliIO, helpRule?: string): void {
  const rule = helpRule && (RULE_NAMES as readonly string[]).includes(helpRule) ? helpRule : undefined;
  const used = rule ? new Set(ruleDefinition(rule).sections.map((s) => s.key)) : null;
  const train = program
    .command('train')
    .description(
      'train a network with a learning rule on a dataset; results, metrics and checkpoints go to --out' +
        (rule
          ? ` (options of rule ${rule}: ${ruleDefinition(rule).description})`
          : '\n(topdown train --help --rule NAME lists only the options of rule NAME)'),
    )
    .addOption(
      new Option('--preset <name>', 'start from the paper settings of a preset').choices(
        Object.keys(PRESETS),
      ),
    )
    .option(
      '--config <file>',
      'YAML or JSON config file (flags override it; it overrides the preset)',
      nonEmpty('--config'),
    )
    .option('--resume <dir>', 'continue the run saved in DIR (its config is used)', nonEmpty('--resume'))
    .option('--out <dir>', 'output folder (default: a fresh folder under runs/)', nonEmpty('--out'))
    .option('--json', 'print one JSON summary on stdout and no progress')
    .option('--dry-run', 'validate the options, print the resolved config and exit without training')
    .option('--overwrite', 'replace the run already in --out (its files are removed)')
    // for runners: replace only a run that left no checkpoint, decided under the run folder's lock
    .addOption(new Option('--overwrite-unfinished').hideHelp());
  const options = trainFields().map(({ field, rules }) => {
    const option = commanderOption(field, used ? '' : rulesNote(rules), ruleDefaultNote(field, rule));
    if (used && field.section !== null && !used.has(field.section)) option.hideHelp();
    return option;
  });
  addFlags(train, options);
  train.action((flags: Flags, command: Command) => runTrain(flags, command, io));
}

/** The config keys the user set on the command line (commander leaves the others undefined). */
function flagConfig(flags: Flags): Record<string, unknown> {
  return flagValues(
    flags,
    trainFields().map((f) => f.field),
  );
}

/**
 * The runner's pid that TOPDOWN_PARENT_PID names, to stop when it dies; undefined when there is none to
 * watch. The variable is internal (the runner sets it for the children it starts), so a value that is not a
 * pid, or that names a live process other than this one's parent (a stray export), is ignored; a dead one is
 * kept, since the runner may have died while this process started.
 */
function parentToWatch(): number | undefined {
  const value = process.env[PARENT_PID_ENV] ?? '';
  if (!/^\d{1,10}$/.test(value)) return undefined;
  const pid = Number(value);
  if (pid <= 1 || pid === process.pid) return undefined;
  if (pid === process.ppid) return pid;
  try {
    process.kill(pid, 0);
    return undefined; // alive and not our parent: not our runner
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? pid : undefined;
  }
}

async function runTrain(flags: Flags, _command: Command, io: CliIO): Promise<void> {
  const cli = flagConfig(flags);
  let config: TrainConfig;
  let folder: RunFolder;
  let outDir: string;
  let resume = null;
  if (flags.resume) {
    if (flags.preset || flags.config || flags.out !== undefined || flags.overwrite)
      throw new TopdownUsageError(
        '--resume takes the run from its folder; drop --preset, --config, --out and --overwrite',
      );
    const changed = Object.keys(cli).filter((k) => !RESUME_FLAGS.has(k));
    if (changed.length) {
      throw new TopdownUsageError(
        `cannot change ${changed.map((k) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ')} when resuming`,
      );
    }
    // read first (nothing is created for a path that is not a run), then claimed once validated
    const existing = RunFolder.forReading(flags.resume);
    outDir = existing.dir;
    resume = existing.readCheckpoint();
    config = resolveTrainConfig({ ...resume.config, ...cli }, 'flags');
    if (config.epochs < resume.epochsDone)
      throw new TopdownUsageError(
        `--epochs ${config.epochs} is below the ${resume.epochsDone} epochs already done`,
      );
  } else {
    const preset = flags.preset ? (presetConfig(flags.preset) as Record<string, unknown>) : {};
    const file = flags.config ? readConfigFile(flags.config) : {};
    const fileSource = flags.config ? `config file ${flags.config}` : 'preset';
    config = resolveMergedConfig([preset, `preset ${flags.preset}`], [file, fileSource], [cli, 'flags']);
    if (flags.overwrite && flags.out === undefined)
      throw new TopdownUsageError('--overwrite replaces the run in --out: give --out too');
    outDir = flags.out ?? '';
  }
  // a relative data folder is kept as the absolute one it meant, so the run's config works from anywhere
  if (config.dataDir && !isAbsolute(config.dataDir))
    config = { ...config, dataDir: resolvePath(config.dataDir) };
  // TOPDOWN_ENGINE stands in for `auto`; the run's config.json then records the engine it chose
  config = { ...config, engine: configEngine(config.engine, cli.engine !== undefined) };
  if (flags.dryRun) {
    io.out(JSON.stringify(config, null, 2) + '\n');
    return;
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
  const before = resume?.environment;
  if (before) {
    // resuming elsewhere works, but the numbers then differ in their last bits from an uninterrupted run
    const now = session.environment();
    if (before.dataset !== now.dataset)
      io.err(
        `topdown: notice: the dataset differs from the one this run was trained on (${before.dataset.slice(0, 19)}..., now ${now.dataset.slice(0, 19)}...)\n`,
      );
    if (before.engine !== now.engine || before.threads !== now.threads)
      io.err(
        `topdown: notice: this run was trained on the ${before.engine} engine with ${before.threads} thread(s), now ${now.engine} with ${now.threads}: the resumed run will not be bit-identical to an uninterrupted one\n`,
      );
  }
  // The output folder is created and claimed only once everything has been validated, so a bad start leaves
  // nothing; it stays locked to this process until the run ends.
  const eventsDir = outDir && config.tensorboard ? join(outDir, 'tensorboard') : null;
  if (eventsDir) checkEventsFolder(eventsDir);
  if (resume) {
    folder = RunFolder.claimExisting(outDir);
    folder.truncateMetrics(resume.history.at(-1)?.epoch ?? -Infinity);
  } else if (outDir) {
    folder = RunFolder.claimNew(outDir, flags.overwriteUnfinished ? 'unfinished' : Boolean(flags.overwrite));
  } else {
    folder = RunFolder.claimDefault(config.rule, config.data);
  }
  const claimed = folder;
  const release = (): void => claimed.release();
  process.once('exit', release);
  session.sink = folder;
  if (config.tensorboard) {
    const events = new TfEventsWriter(join(folder.dir, 'tensorboard'));
    callbacks.push({
      onEpochEnd: (logs) => events.scalars(logs.epoch, scalarTags(logs as Record<string, unknown>)),
      onTrainEnd: () => events.close(),
    });
  }
  folder.writeConfig(config);
  // Training yields to the event loop between batches: the first Ctrl-C (or SIGTERM) stops after the
  // current batch with a checkpoint of the epoch so far, a second one quits at once (the last checkpoint,
  // written atomically, stays intact).
  let signalled: NodeJS.Signals | null = null;
  const codeOf = (signal: NodeJS.Signals): number => (signal === 'SIGTERM' ? 143 : 130);
  const stop = (signal: NodeJS.Signals): void => {
    if (signalled) {
      io.err('\ntopdown: quitting now; the last checkpoint is intact\n');
      release();
      process.exit(codeOf(signal));
    }
    signalled = signal;
    session.requestStop('batch');
    io.err('\ntopdown: stopping after this batch and saving a checkpoint; press Ctrl-C again to quit now\n');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // started by a runner: if it dies without a word (kill -9), stop as on SIGTERM rather than train on orphaned
  const parent = parentToWatch();
  const watch =
    parent !== undefined
      ? setInterval(() => {
          if (process.ppid !== parent && !signalled) stop('SIGTERM');
        }, 500)
      : undefined;
  watch?.unref();
  let history;
  try {
    history = await session.runAsync();
  } finally {
    clearInterval(watch);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.off('exit', release);
    release();
  }
  const stoppedBy = signalled as NodeJS.Signals | null;
  if (stoppedBy) {
    const at = session.interruptedAt;
    const where = at ? `epoch ${at.epoch}, batch ${at.batch}` : `the end of epoch ${session.completedEpochs}`;
    throw new TopdownInterruptedError(
      `stopped by ${stoppedBy} at ${where}; checkpoint in ${folder.dir}: continue with topdown train --resume ${folder.dir}`,
      codeOf(stoppedBy),
    );
  }
  if (config.goodnessHistogramEpochs.length) {
    await writeGoodnessHistogramFigure(folder.dir, (m) => io.err(`topdown: ${m}\n`));
  }
  try {
    await writeTrainingFigure(folder.dir, `${ruleLabel(config)} on ${config.data}`);
  } catch (error) {
    // the run is saved; a figure that cannot be drawn is worth a line, not a failure
    io.err(`topdown: no training-curve figure: ${(error as Error).message.split('\n')[0]}\n`);
  }
  const last = history.last;
  const training = history.epochs.filter((e) => e.phase === undefined);
  const classifiers = session.model.rule.classifiers ?? [];
  const extra: Record<string, unknown> = {};
  for (const key of [
    'val_acc',
    ...(session.model.definition.summary ?? []),
    ...classifiers.map((c) => c.metric),
  ])
    if (last?.[key] !== undefined) extra[key] = last[key];
  const summary = {
    test_acc: last?.test_acc ?? null,
    train_acc: last?.train_acc ?? null,
    test_loss: last?.test_loss ?? null,
    epochs: session.completedEpochs,
    samples_per_s: training.length
      ? training.reduce((s, e) => s + e.samples_per_s, 0) / training.length
      : null,
    ...extra,
    rule: config.rule,
    data: config.data,
    sizes: session.model.net.sizes,
    engine: engine.name,
    out: folder.dir,
  };
  if (flags.json) io.out(JSON.stringify(summary) + '\n');
  else {
    const pct = (v: unknown): string => `${((typeof v === 'number' ? v : NaN) * 100).toFixed(2)}%`;
    const others = classifiers
      .filter((c) => last?.[c.metric] !== undefined)
      .map((c) => `, ${c.label} ${pct(last?.[c.metric])}`)
      .join('');
    io.out(
      `test accuracy ${pct(last?.test_acc)}${others} after ${session.completedEpochs} epoch${session.completedEpochs === 1 ? '' : 's'}; results in ${folder.dir}\n`,
    );
  }
}
