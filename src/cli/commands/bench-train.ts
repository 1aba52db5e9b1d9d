import { Option, type Command } from 'commander';

import { benchTrain } from '../../bench/train-bench.js';
import type { OptionField } from '../../core/options.js';
import { TopdownUsageError } from '../../core/errors.js';
import { ruleLabel } from '../../rules/registry.js';
import { resolveTrainConfig } from '../../train/config.js';
import { ruleOptions } from '../../train/model.js';
import { engineFromFlags } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { packageVersion } from '../package-info.js';
import { nonNegativeInt, positiveInt } from '../parse.js';
import { addFlags, commanderOption, flagValues, rulesNote } from '../schema-flags.js';

import { trainFields } from './train.js';

/** The shape benched unless `--data` says otherwise: the paper's CIFAR-10 net. */
const BENCH_DATA = { key: 'data', value: 'cifar10' } as const;

/** Options of `train` that do not shape a training step (data files, epochs, schedule, outputs). */
const NOT_TIMED = new Set([
  'dataDir',
  'trainSubset',
  'testSubset',
  'valSplit',
  'standardize',
  'epochs',
  'decayEpochs',
  'decayFactor',
  'decayTiming',
  'goodnessHistogramEpochs',
  'checkpointEvery',
]);

/** The `train` options `bench train` takes, with the rules each applies to (and its own default shape). */
export function benchFields(): { field: OptionField; rules: string[]; defaultNote?: string }[] {
  return trainFields()
    .filter(({ field }) => !NOT_TIMED.has(field.alias))
    .map((row) => (row.field.alias === BENCH_DATA.key ? { ...row, defaultNote: BENCH_DATA.value } : row));
}

/** Registers `bench train`: the model is built from the same options, defaults and path as `train`'s. */
export function registerBenchTrain(bench: Command, io: CliIO): void {
  const command = bench
    .command('train')
    .description(
      'training throughput (samples/s) of a learning rule on synthetic data shaped like a dataset; the model is built as topdown train builds it (same options and defaults, data shape cifar10 unless --data)',
    )
    .option('--batches <n>', 'timed batches', positiveInt('--batches'), 50)
    .option('--warmup <n>', 'untimed batches first', nonNegativeInt('--warmup'), 5)
    .addOption(new Option('--batch <n>', 'the same as --batch-size').argParser(positiveInt('--batch')))
    .option('--json', 'print one JSON object with samples_per_s, ms_per_batch, sizes, engine...');
  addFlags(
    command,
    benchFields().map((row) => commanderOption(row.field, rulesNote(row.rules), row.defaultNote)),
  );
  command.action((flags: Record<string, unknown>) => runBenchTrain(flags, io));
}

function runBenchTrain(flags: Record<string, unknown>, io: CliIO): void {
  const given = flagValues(
    flags,
    benchFields().map((f) => f.field),
  );
  if (flags.batch !== undefined) {
    if (given.batchSize !== undefined) throw new TopdownUsageError('give --batch or --batch-size, not both');
    given.batchSize = flags.batch;
  }
  const config = resolveTrainConfig({ [BENCH_DATA.key]: BENCH_DATA.value, ...given }, 'flags');
  const { engine } = engineFromFlags({ engine: config.engine, threads: config.threads }, io);
  const batches = flags.batches as number;
  const result = benchTrain(engine, {
    config,
    batches,
    warmup: flags.warmup as number,
    onBatch: io.errIsTTY
      ? (done, total) => io.err(`\r\x1b[K${config.rule}: batch ${done}/${total}`)
      : undefined,
  });
  if (io.errIsTTY) io.err('\r\x1b[K');
  const label = ruleLabel(config);
  if (flags.json) {
    io.out(
      JSON.stringify({
        version: packageVersion(),
        engine: engine.info(),
        label,
        options: ruleOptions(config),
        ...result,
      }) + '\n',
    );
    return;
  }
  const info = engine.info();
  io.out(
    [
      `rule ${label} on ${result.data}-shaped synthetic data, net ${result.sizes.join('-')}, batch ${result.batch}`,
      `engine ${info.name}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`,
      `${result.samples_per_s.toFixed(0)} samples/s (${result.ms_per_batch.toFixed(2)} ms per batch, median ${result.median_ms_per_batch.toFixed(2)}) over ${result.batches} batches`,
    ].join('\n') + '\n',
  );
}
