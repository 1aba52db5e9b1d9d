import { Option, type Command } from 'commander';

import type { RooflineReport } from '../../bench/roofline.js';
import { benchTrain } from '../../bench/train-bench.js';
import type { OptionField } from '../../core/options.js';
import { TopdownUsageError } from '../../core/errors.js';
import { ruleLabel } from '../../rules/registry.js';
import { resolveMergedConfig, resolveTrainConfig } from '../../train/config.js';
import { presetConfig, PRESETS } from '../../train/presets.js';
import { ruleOptions } from '../../train/model.js';
import { configEngine, enginesToMeasure, RATIO_PAIRS } from '../engine-flags.js';
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
      'training throughput (samples/s) of a learning rule on synthetic data shaped like a dataset, on every available engine unless --engine names one; the model is built as topdown train builds it (same options and defaults, data shape cifar10 unless --data)',
    )
    .option('--batches <n>', 'timed batches', positiveInt('--batches'), 50)
    .option('--warmup <n>', 'untimed batches first', nonNegativeInt('--warmup'), 5)
    .addOption(new Option('--batch <n>', 'the same as --batch-size').argParser(positiveInt('--batch')))
    .addOption(
      new Option('--preset <name>', "time a preset's step (flags override it)").choices(Object.keys(PRESETS)),
    )
    .option('--no-roofline', "skip timing the step's products alone (the roofline, on the first engine)")
    .option('--json', 'print one JSON object with samples_per_s, ms_per_batch, sizes, engine, roofline...');
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
  const preset = flags.preset ? (presetConfig(flags.preset as string) as Record<string, unknown>) : {};
  const config = flags.preset
    ? resolveMergedConfig([preset, `preset ${flags.preset as string}`], [given, 'flags'])
    : resolveTrainConfig({ [BENCH_DATA.key]: BENCH_DATA.value, ...given }, 'flags');
  const engine = configEngine(config.engine, given.engine !== undefined);
  const engines = enginesToMeasure({ engine, threads: config.threads }, io);
  const batches = flags.batches as number;
  const runs = engines.map((engine, i) => ({
    engine,
    result: benchTrain(engine, {
      config,
      batches,
      warmup: flags.warmup as number,
      // the roofline replays the first engine's products only (it is what `auto` would train on)
      roofline: i === 0 && flags.roofline !== false,
      onBatch: io.errIsTTY
        ? (done, total) => io.err(`\r\x1b[K${config.rule} on ${engine.name}: batch ${done}/${total}`)
        : undefined,
    }),
  }));
  if (io.errIsTTY) io.err('\r\x1b[K');
  const label = ruleLabel(config);
  const first = runs[0]!;
  const ratios: Partial<Record<(typeof RATIO_PAIRS)[number][2], number>> = {};
  for (const [top, bottom, key] of RATIO_PAIRS) {
    const a = runs.find((r) => r.engine.name === top);
    const b = runs.find((r) => r.engine.name === bottom);
    if (a && b) ratios[key] = a.result.samples_per_s / b.result.samples_per_s;
  }
  if (flags.json) {
    io.out(
      JSON.stringify({
        version: packageVersion(),
        engine: first.engine.info(),
        label,
        options: ruleOptions(config),
        ...first.result,
        engines: runs.map((r) => ({
          engine: r.engine.info(),
          samples_per_s: r.result.samples_per_s,
          ms_per_batch: r.result.ms_per_batch,
          median_ms_per_batch: r.result.median_ms_per_batch,
        })),
        ratios,
      }) + '\n',
    );
    return;
  }
  const result = first.result;
  const lines = [
    `rule ${label} on ${result.data}-shaped synthetic data, net ${result.sizes.join('-')}, batch ${result.batch}`,
  ];
  for (const r of runs) {
    const info = r.engine.info();
    lines.push(
      `engine ${info.name}, ${info.threads} thread${info.threads === 1 ? '' : 's'}: ${r.result.samples_per_s.toFixed(0)} samples/s (${r.result.ms_per_batch.toFixed(2)} ms per batch, median ${r.result.median_ms_per_batch.toFixed(2)}) over ${r.result.batches} batches`,
    );
  }
  const ratioText = RATIO_PAIRS.filter(([, , key]) => ratios[key] !== undefined).map(
    ([a, b, key]) => `${a}/${b} ${ratios[key]!.toFixed(2)}`,
  );
  if (ratioText.length > 0) lines.push(`throughput ratios (same run): ${ratioText.join(', ')}`);
  if (result.roofline) lines.push(...rooflineLines(result.roofline, result.median_ms_per_batch));
  io.out(lines.join('\n') + '\n');
}

function rooflineLines(r: RooflineReport, stepMs: number): string[] {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  const elementwiseMs = r.roofline_ms - r.gemm_ms;
  return [
    `roofline ${r.roofline_ms.toFixed(2)} ms: ${r.gemm_calls} products (${r.gemm_gflop.toFixed(2)} GFLOP) alone ${r.gemm_ms.toFixed(2)} ms (${(r.gemm_gflop / (r.gemm_ms / 1000)).toFixed(0)} GFLOP/s) + ${mb(r.elementwise_bytes.activities + r.elementwise_bytes.optimizer)} MB elementwise (activities ${mb(r.elementwise_bytes.activities)}, optimiser ${mb(r.elementwise_bytes.optimizer)}) at ${r.bandwidth_gbps.toFixed(1)} GB/s ${elementwiseMs.toFixed(2)} ms`,
    `in the step: products ${r.gemm_in_step_ms.toFixed(2)} ms, optimiser sweeps ${r.sweep_in_step_ms.toFixed(2)} ms, the rest ${Math.max(0, stepMs - r.gemm_in_step_ms - r.sweep_in_step_ms).toFixed(2)} ms`,
    `step / roofline ${r.step_over_roofline.toFixed(2)}`,
    r.physical_roofline_ms === null || r.peak_gflops === null
      ? 'physical roofline: not measured (needs the native addon for the FMA peak)'
      : `physical roofline ${r.physical_roofline_ms.toFixed(2)} ms (products at the measured FMA peak, ${r.peak_gflops.toFixed(0)} GFLOP/s, + the same elementwise bytes): step / physical roofline ${r.step_over_physical!.toFixed(2)}`,
  ];
}
