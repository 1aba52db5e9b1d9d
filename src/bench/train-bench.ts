/**
 * Training throughput: samples per second of one rule on synthetic data shaped like a dataset (uniform [0, 1)
 * pixels, random labels), the model built from a training config as `topdown train` builds it. The data are
 * drawn before timing so only training steps are measured.
 */
import type { Engine } from '../core/engine-base.js';
import { Matrix } from '../core/matrix.js';
import { Rng } from '../core/rng.js';
import { DATASETS, type DatasetName } from '../data/datasets.js';
import type { TrainConfig } from '../train/config.js';
import { buildModel } from '../train/model.js';

import { gemmReplayer, median as medianOf, roofline, watchSteps, type RooflineReport } from './roofline.js';

export interface TrainBenchOptions {
  /** The run to time (its rule, network, optimiser, dropout and batch size); built like `topdown train`'s. */
  config: TrainConfig;
  batches: number;
  warmup: number;
  /** Called after each timed batch (for progress display). */
  onBatch?: (done: number, total: number) => void;
  /** Measure the step's roofline after the timed batches (default true). */
  roofline?: boolean;
}

export interface TrainBenchResult {
  rule: string;
  data: DatasetName;
  sizes: number[];
  batch: number;
  batches: number;
  samples_per_s: number;
  ms_per_batch: number;
  /** Median over the timed batches, less sensitive to interruptions than the mean. */
  median_ms_per_batch: number;
  /** The step's products alone and its elementwise bytes, against the median step (see roofline.ts). */
  roofline?: RooflineReport;
}

/** Steps watched for the roofline (after the timed ones). */
const WATCHED_STEPS = 5;

const POOL = 8;

export function benchTrain(engine: Engine, o: TrainBenchOptions): TrainBenchResult {
  const { config } = o;
  const spec = DATASETS[config.data];
  const model = buildModel(config, spec.features, spec.classes, engine, spec.shape);
  const sizes = [...model.net.sizes];
  const batch = config.batchSize;
  const dataRng = Rng.fromSeed(config.seed).derive('bench-data');
  const pool = Array.from({ length: POOL }, () => {
    const x = Matrix.zeros(batch, spec.features, engine);
    dataRng.fillUniform(x.data);
    const targets = Matrix.zeros(batch, spec.classes, engine);
    for (let r = 0; r < batch; r++) targets.set(r, dataRng.int(0, spec.classes - 1), 1);
    return { x, targets };
  });
  model.rule.beginEpoch?.(model.rule.prelude?.epochs ?? 0);
  const step = (i: number): void => {
    model.masks?.draw(model.streams.dropout);
    model.rule.train(pool[i % POOL]!, model.optimizer, model.masks);
  };
  for (let i = 0; i < o.warmup; i++) step(i);
  // The products of a step, replayed alone after every timed step: interleaving keeps the ratio of the
  // two honest on a machine whose speed drifts.
  const replay =
    o.roofline === false
      ? null
      : gemmReplayer(engine, watchSteps(engine, 1, (i) => step(o.warmup + i)).gemms);
  replay?.();
  const times: number[] = [];
  const replays: number[] = [];
  let total = 0;
  for (let i = 0; i < o.batches; i++) {
    const t0 = performance.now();
    step(i);
    const dt = performance.now() - t0;
    times.push(dt);
    total += dt;
    if (replay) replays.push(replay());
    o.onBatch?.(i + 1, o.batches);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1]!;
  const watched = replay ? watchSteps(engine, WATCHED_STEPS, (i) => step(o.batches + i)) : null;
  return {
    rule: config.rule,
    data: config.data,
    sizes,
    batch,
    batches: o.batches,
    samples_per_s: (batch * o.batches) / (total / 1000),
    ms_per_batch: total / o.batches,
    median_ms_per_batch: median,
    ...(watched ? { roofline: roofline(engine, watched, median, medianOf(replays)) } : {}),
  };
}
