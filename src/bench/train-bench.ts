/**
 * Training throughput: samples per second of one rule on synthetic data shaped like a dataset (uniform [0, 1)
 * pixels, random labels), with the paper's optimiser and dropout. The data are drawn before timing so only
 * training steps are measured.
 */
import type { Engine } from '../core/engine.js';
import { Matrix } from '../core/matrix.js';
import { DATASETS, type DatasetName } from '../data/datasets.js';
import { Rng } from '../core/rng.js';
import { DropoutMasks } from '../nn/forward.js';
import { Network } from '../nn/network.js';
import { Sgd } from '../optim/sgd.js';
import { createRule, type RuleConfig } from '../rules/registry.js';

export interface TrainBenchOptions {
  rule: RuleConfig;
  data: DatasetName;
  hidden: readonly number[];
  batch: number;
  batches: number;
  warmup: number;
  dropout: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  seed: number;
  /** Called after each timed batch (for progress display). */
  onBatch?: (done: number, total: number) => void;
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
}

const POOL = 8;

export function benchTrain(engine: Engine, o: TrainBenchOptions): TrainBenchResult {
  const spec = DATASETS[o.data];
  const shape = { inputs: spec.features, classes: spec.classes };
  const sizes = [shape.inputs, ...o.hidden, shape.classes];
  const rng = Rng.fromSeed(o.seed);
  const net = Network.create({ sizes, dropout: o.dropout }, rng);
  const opts = { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay };
  const setup = createRule(o.rule, net, engine, o.batch, rng, (params) => new Sgd(engine, params, opts));
  const sgd = new Sgd(engine, net, opts);
  const masks = o.dropout > 0 ? new DropoutMasks(net, o.batch) : null;
  const maskRng = rng.derive('dropout');
  const dataRng = rng.derive('data');
  const pool = Array.from({ length: POOL }, () => {
    const x = new Matrix(o.batch, shape.inputs);
    dataRng.fillUniform(x.data);
    const targets = new Matrix(o.batch, shape.classes);
    for (let r = 0; r < o.batch; r++) targets.set(r, dataRng.int(0, shape.classes - 1), 1);
    return { x, targets };
  });
  const step = (i: number): void => {
    masks?.draw(maskRng);
    setup.rule.train(pool[i % POOL]!, sgd, masks);
  };
  for (let i = 0; i < o.warmup; i++) step(i);
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < o.batches; i++) {
    const t0 = performance.now();
    step(i);
    times.push(performance.now() - t0);
    o.onBatch?.(i + 1, o.batches);
  }
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  return {
    rule: o.rule.rule,
    data: o.data,
    sizes,
    batch: o.batch,
    batches: o.batches,
    samples_per_s: (o.batch * o.batches) / (total / 1000),
    ms_per_batch: total / o.batches,
    median_ms_per_batch: times[times.length >> 1]!,
  };
}
