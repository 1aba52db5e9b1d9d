import { benchTrain, type TrainBenchOptions } from '../../bench/train-bench.js';
import type { TopDownOptions } from '../../feedback/top-down.js';
import type { PepitaMode } from '../../rules/pepita.js';
import type { RuleName } from '../../rules/registry.js';
import { engineFromFlags, type EngineFlags } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { packageVersion } from '../package-info.js';

export interface BenchTrainFlags extends EngineFlags, Omit<TrainBenchOptions, 'rule' | 'onBatch'> {
  rule: RuleName;
  mode?: PepitaMode;
  feedbackInit?: NonNullable<TopDownOptions['init']>;
  json?: boolean;
}

export function runBenchTrain(flags: BenchTrainFlags, io: CliIO): void {
  const { engine } = engineFromFlags(flags, io);
  const result = benchTrain(engine, {
    ...flags,
    rule: {
      rule: flags.rule,
      pepita: flags.mode ? { mode: flags.mode } : {},
      topDown: flags.feedbackInit ? { init: flags.feedbackInit } : {},
    },
    onBatch: io.errIsTTY
      ? (done, total) => io.err(`\r\x1b[K${flags.rule}: batch ${done}/${total}`)
      : undefined,
  });
  if (io.errIsTTY) io.err('\r\x1b[K');
  if (flags.json) {
    io.out(
      JSON.stringify({
        version: packageVersion(),
        engine: engine.info(),
        mode: flags.mode ?? null,
        ...result,
      }) + '\n',
    );
    return;
  }
  const info = engine.info();
  io.out(
    [
      `rule ${result.rule}${flags.mode ? ` (${flags.mode})` : ''} on ${result.data}-shaped synthetic data, net ${result.sizes.join('-')}, batch ${result.batch}`,
      `engine ${info.name}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`,
      `${result.samples_per_s.toFixed(0)} samples/s (${result.ms_per_batch.toFixed(2)} ms per batch, median ${result.median_ms_per_batch.toFixed(2)}) over ${result.batches} batches`,
    ].join('\n') + '\n',
  );
}
