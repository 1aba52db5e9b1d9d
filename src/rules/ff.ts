/**
 * Forward-Forward (Hinton 2022; spec 2.11). Every hidden layer l has its own objective on the goodness
 * G_l = sum_j h_lj^2 (or the mean) of its raw activity: a logistic loss that pushes G above a threshold theta
 * for positive data (the input with its true label embedded) and below it for negative data (a wrong label),
 *
 *   L_l = mean_pos softplus(theta - G_l) + mean_neg softplus(G_l - theta) (+ peer normalisation),
 *
 * descended layer by layer: each layer sees the length-normalised activity of the layer below as a constant
 * (the network's `sample-rms` or `sample-l2` normalisation), so no gradient crosses layers. The network's output layer is a
 * linear softmax read-out trained by the delta rule on the last hidden layer's normalised activity for the
 * input with a neutral label (every label feature 1/C). Prediction: the read-out's argmax, or the label whose
 * embedding gives the largest goodness summed over the hidden layers (the first excluded when there are
 * several, as in Hinton's paper).
 */
import { z } from 'zod';

import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { Matrix } from '../core/matrix.js';
import { parseSection, type OptionSection } from '../core/options.js';
import type { Rng } from '../core/rng.js';
import { StateSet } from '../core/state.js';
import { argmaxRows } from '../metrics/accuracy.js';
import { activationDerivative } from '../nn/activations.js';
import { ForwardState, forward, type DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { embedLabels, embedNeutral, normalizeRows } from './ff-labels.js';
import { outputError } from './output-error.js';
import {
  defineRule,
  type Batch,
  type ExtraClassifier,
  type InputView,
  type LearningRule,
  type MetricValue,
  type RunShape,
  type SectionValues,
} from './rule.js';
import { Scratch } from './scratch.js';
import { measures, stepCostOf } from './step-cost.js';

export const FF_GOODNESS = ['sum', 'mean'] as const;
export type FfGoodness = (typeof FF_GOODNESS)[number];
/** Wrong label per sample drawn uniformly, every wrong label, or drawn from the model's own predictions. */
export const FF_NEGATIVES = ['random', 'all', 'hard'] as const;
export type FfNegatives = (typeof FF_NEGATIVES)[number];

/** The `ff` section. */
export const FF_SECTION = {
  key: 'ff',
  label: 'Forward-Forward',
  flagPrefix: 'ff-',
  schema: z
    .object({
      goodness: z.enum(FF_GOODNESS).default('sum').meta({
        description: "a layer's goodness: sum or mean of its squared activities",
      }),
      threshold: z
        .union([z.number().positive(), z.array(z.number().positive())])
        .optional()
        .meta({
          description: 'theta, one for every hidden layer or a list with one per layer',
          defaultText: 'layer width for sum, 2 for mean',
        }),
      negatives: z.enum(FF_NEGATIVES).default('random').meta({
        description:
          "negative labels: a random wrong one, every wrong one, or drawn from the read-out's predictions",
      }),
      labelValue: z.number().positive().default(1).meta({ description: 'value of the embedded label pixel' }),
      peerNormalization: z.number().nonnegative().default(0).meta({
        description: 'weight of the peer-normalisation penalty (0: off)',
      }),
      peerMomentum: z.number().min(0).lt(1).default(0.9).meta({
        description: 'momentum of the running unit means peer normalisation uses',
      }),
      goodnessEvalEvery: z.number().int().positive().default(1).meta({
        description:
          'evaluate the goodness classifier (one pass per label) every N epochs, and after the last',
        placeholder: 'N',
      }),
    })
    .strict(),
} satisfies OptionSection;
type FfSection = z.infer<typeof FF_SECTION.schema>;

export interface FfOptions {
  /** Goodness of a layer: sum (default) or mean of the squared activities. */
  goodness?: FfGoodness;
  /** theta, for every hidden layer or one per layer; default: the layer width for `sum` (1 per unit), 2 for `mean`. */
  threshold?: number | readonly number[];
  negatives?: FfNegatives;
  /** Value of the "on" label feature (default 1, the brightest pixel of [0, 1] images). */
  labelValue?: number;
  /** L2-normalise each input (after embedding the label) before the first layer (default true). */
  normalizeInput?: boolean;
  /** Weight of the peer-normalisation penalty on each unit's running mean activity (default 0: off). */
  peerNormalization?: number;
  /** Momentum of those running means (default 0.9). */
  peerMomentum?: number;
  /** Evaluate the goodness classifier every this many epochs (default 1). */
  goodnessEvalEvery?: number;
}

export type ResolvedFfOptions = Required<Omit<FfOptions, 'threshold'>> & {
  threshold: number | readonly number[] | null;
};

/** Fills in defaults (the `ff` section's own) and validates. */
export function resolveFfOptions(options: FfOptions = {}): ResolvedFfOptions {
  const { normalizeInput = true, threshold, ...section } = options;
  const r = parseSection(FF_SECTION, { ...section, ...(threshold !== undefined ? { threshold } : {}) });
  return { ...r, threshold: r.threshold ?? null, normalizeInput };
}

/** Why a network cannot be trained by FF (null: it can). */
function networkProblem(normalization: string, dropout: number): string | null {
  if (normalization !== 'sample-l2' && normalization !== 'sample-rms')
    return `rule ff length-normalises each hidden layer: it needs normalization "sample-rms" or "sample-l2", not "${normalization}"`;
  if (dropout > 0) return 'rule ff does not use dropout (set it to 0)';
  return null;
}

/** theta of a hidden layer of width d when none is given: 1 per unit for `sum`, 2 for `mean`. */
export function defaultThreshold(goodness: FfGoodness, d: number): number {
  return goodness === 'sum' ? d : 2;
}

/** log(1 + e^z) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** 1 / (1 + e^-z). */
export function logistic(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Per-layer averages over an epoch, reset when taken. */
export interface FfEpochMetrics extends Record<string, number[]> {
  /** Mean goodness of the positive pass per hidden layer. */
  goodness_pos: number[];
  /** Mean goodness of the negative pass per hidden layer. */
  goodness_neg: number[];
  /** Mean FF loss per hidden layer. */
  ff_loss: number[];
}

export class FfRule implements LearningRule {
  readonly name = 'ff';
  readonly options: ResolvedFfOptions;
  readonly classes: number;
  /** The stream negatives are drawn from (replaced when a checkpoint is restored). */
  rng: Rng;
  /** The stream diagnostics draw from (histograms, sample views), so that they never change training. */
  private diagnosticRng: Rng;
  /** The running means and the negatives stream, for checkpoints. */
  readonly state: StateSet;
  /** The goodness classifier. */
  readonly classifiers: readonly ExtraClassifier[];
  /** Running mean activity of each hidden layer's units (1 x d_l), for peer normalisation. */
  readonly peerMeans: Matrix[];
  /** The passes of {@link FfRule.twoPasses} and their inputs, allocated at its first call. */
  private diagnosticPasses: {
    positive: ForwardState;
    negative: ForwardState;
    xPos: Scratch;
    xNeg: Scratch;
  } | null = null;
  private readonly maxBatch: number;
  /** The neutral pass of the last step (the read-out's input). */
  readonly neutral: ForwardState;
  /**
   * The positive and negative passes of the last step as one pass over b + b k rows (positives first): one
   * product per layer instead of two, and one update product over both, which runs faster than two halves.
   */
  readonly paired: ForwardState;
  private readonly hidden: number;
  private readonly negPerSample: number;
  private readonly xNeu: Scratch;
  private readonly xPair: Scratch;
  private readonly deltas: Scratch[];
  private readonly derivative: Float32Array;
  private readonly error: Scratch;
  private readonly labels: Int32Array;
  private readonly negLabels: Int32Array;
  private readonly sums = { pos: [] as number[], neg: [] as number[], loss: [] as number[], steps: 0 };
  private predictState: ForwardState | null = null;
  /** Length of a normalised input: sqrt(d_0) with sample-rms layers, 1 with sample-l2. */
  private readonly inputScale: number;
  private predictX: Matrix | null = null;

  constructor(
    private readonly net: Network,
    private readonly engine: Engine,
    maxBatch: number,
    rng: Rng,
    options: FfOptions = {},
  ) {
    this.options = resolveFfOptions(options);
    this.rng = rng;
    this.diagnosticRng = rng.derive('diagnostics');
    const L = net.depth;
    if (L < 2)
      throw new TopdownUsageError('rule ff needs at least one hidden layer (and the read-out layer)');
    const norm = net.config.normalization;
    const problem = networkProblem(norm, net.config.dropout);
    if (problem) throw new TopdownUsageError(problem);
    this.inputScale = norm === 'sample-rms' ? Math.sqrt(net.width(0)) : 1;
    if (net.activationOf(L - 1) !== 'softmax') {
      throw new TopdownUsageError('rule ff trains a softmax read-out: the output activation must be softmax');
    }
    this.classes = net.width(L);
    if (this.classes > net.width(0)) {
      throw new TopdownUsageError(`cannot embed ${this.classes} labels into ${net.width(0)} input features`);
    }
    this.hidden = L - 1;
    this.negPerSample = this.options.negatives === 'all' ? this.classes - 1 : 1;
    const maxNeg = maxBatch * this.negPerSample;
    this.maxBatch = maxBatch;
    this.neutral = new ForwardState(net, maxBatch, engine);
    this.paired = new ForwardState(net, maxBatch + maxNeg, engine);
    const d0 = net.width(0);
    this.xNeu = new Scratch(maxBatch, d0, engine);
    this.xPair = new Scratch(maxBatch + maxNeg, d0, engine);
    const pairRows = maxBatch + maxNeg;
    this.deltas = Array.from(
      { length: this.hidden },
      (_, l) => new Scratch(pairRows, net.width(l + 1), engine),
    );
    this.derivative = engine.floats(pairRows * Math.max(...net.sizes.slice(1, -1)));
    this.error = new Scratch(maxBatch, this.classes, engine);
    this.labels = new Int32Array(maxBatch);
    this.negLabels = new Int32Array(maxNeg);
    this.peerMeans = Array.from({ length: this.hidden }, (_, l) => Matrix.zeros(1, net.width(l + 1), engine));
    const t = this.options.threshold;
    if (Array.isArray(t) && t.length !== this.hidden) {
      throw new TopdownUsageError(`FF threshold lists ${t.length} values for ${this.hidden} hidden layers`);
    }
    this.resetSums();
    const means: Record<string, Matrix> = {};
    this.peerMeans.forEach((m, l) => (means[`peerMean${l + 1}`] = m));
    this.state = new StateSet()
      .tensors(means)
      .rng('negatives', { get: () => this.rng, set: (r) => (this.rng = r) })
      .rng('diagnostics', { get: () => this.diagnosticRng, set: (r) => (this.diagnosticRng = r) })
      .value(
        'epochSums',
        () => this.sums,
        (v) => Object.assign(this.sums, v),
      );
    this.classifiers = [
      {
        metric: 'test_acc_goodness',
        label: 'goodness classifier',
        every: this.options.goodnessEvalEvery,
        predict: (x, out) => this.predictByGoodness(x, out),
      },
    ];
  }

  /** theta of hidden layer l. */
  threshold(l: number): number {
    const t = this.options.threshold;
    if (typeof t === 'number') return t;
    if (t) return t[l]!;
    return defaultThreshold(this.options.goodness, this.net.width(l + 1));
  }

  /** The input with the true label (positive) and a random wrong one (negative), without normalisation. */
  inputViews(batch: Batch): InputView[] {
    const b = batch.x.rows;
    const labels = new Int32Array(b);
    argmaxRows(batch.targets, labels);
    const rng = this.diagnosticRng;
    const wrong = Array.from(labels, (c) => (c + 1 + rng.int(0, this.classes - 2)) % this.classes);
    const positive = new Matrix(b, batch.x.cols);
    embedLabels(batch.x, labels, this.classes, this.options.labelValue, positive);
    const negative = new Matrix(b, batch.x.cols);
    embedLabels(batch.x, wrong, this.classes, this.options.labelValue, negative);
    return [
      { label: 'FF positive\n(true label)', images: positive, captions: Array.from(labels, String) },
      { label: 'FF negative\n(wrong label)', images: negative, captions: wrong.map(String) },
    ];
  }

  /** Turns raw inputs into what the network sees without a label: neutral label, then normalisation. */
  prepareInput(x: Matrix): void {
    embedNeutral(x, this.classes, this.options.labelValue, x);
    if (this.options.normalizeInput) normalizeRows(x, this.inputScale);
  }

  /** x with `labels` embedded (and normalised) into `out`. */
  labelledInput(x: Matrix, labels: ArrayLike<number>, out: Matrix): Matrix {
    embedLabels(x, labels, this.classes, this.options.labelValue, out);
    if (this.options.normalizeInput) normalizeRows(out, this.inputScale);
    return out;
  }

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    void masks; // FF runs without dropout (checked in the constructor)
    const { net, engine } = this;
    const b = batch.x.rows;
    const labels = this.labels;
    argmaxRows(batch.targets, labels);

    // neutral pass: the read-out's prediction (and the distribution hard negatives are drawn from)
    const xNeu = this.xNeu.rows(b);
    xNeu.copyFrom(batch.x);
    this.prepareInput(xNeu);
    forward(engine, this.neutral, xNeu, null);

    const nNeg = b * this.negPerSample;
    this.drawNegatives(b);
    const xPair = this.xPair.rows(b + nNeg);
    this.labelledInput(batch.x, labels, xPair.view(0, 0, b, xPair.cols));
    for (let k = 0; k < this.negPerSample; k++) {
      const rows = xPair.view(b + k * b, 0, b, xPair.cols);
      this.labelledInput(batch.x, this.negLabels.subarray(k * b, (k + 1) * b), rows);
    }
    const pair = this.paired;
    forward(engine, pair, xPair, null);

    for (let l = 0; l < this.hidden; l++) {
      const lossPos = this.layerDelta(pair, l, +1, 0, b);
      this.applyPeerNormalization(l, b);
      const lossNeg = this.layerDelta(pair, l, -1, b, nNeg);
      sink.addOuter(l, 1, this.deltas[l]!.rows(b + nNeg), pair.postView(l - 1));
      this.sums.loss[l]! += lossPos + lossNeg;
    }
    const e = this.error.rows(b);
    outputError(this.neutral.output, batch.targets, e);
    sink.addOuter(net.depth - 1, 1 / b, e, this.neutral.postView(net.depth - 2));
    this.sums.steps++;
    sink.step();
    return this.neutral;
  }

  /** The positive and negative passes of a batch (random wrong labels), without any update. */
  twoPasses(batch: Batch): { first: ForwardState; second: ForwardState } {
    const b = batch.x.rows;
    argmaxRows(batch.targets, this.labels);
    for (let i = 0; i < b; i++) {
      this.negLabels[i] = (this.labels[i]! + 1 + this.diagnosticRng.int(0, this.classes - 2)) % this.classes;
    }
    const d0 = this.net.width(0);
    const p = (this.diagnosticPasses ??= {
      positive: new ForwardState(this.net, this.maxBatch, this.engine),
      negative: new ForwardState(this.net, this.maxBatch, this.engine),
      xPos: new Scratch(this.maxBatch, d0, this.engine),
      xNeg: new Scratch(this.maxBatch, d0, this.engine),
    });
    forward(
      this.engine,
      p.positive,
      this.labelledInput(batch.x, this.labels.subarray(0, b), p.xPos.rows(b)),
      null,
    );
    const xNeg = this.labelledInput(batch.x, this.negLabels.subarray(0, b), p.xNeg.rows(b));
    forward(this.engine, p.negative, xNeg, null);
    return { first: p.positive, second: p.negative };
  }

  /**
   * Writes dL/da of hidden layer l for rows [start, start + n) of the pass `state` into the same rows of the
   * layer's delta buffer and returns their mean loss: sign +1 for positive data (push G up), -1 for negative.
   */
  private layerDelta(state: ForwardState, l: number, sign: 1 | -1, start: number, n: number): number {
    const d = this.net.width(l + 1);
    const h = state.unnormalized[l]!.data;
    const a = state.pre[l]!.data;
    const delta = this.deltas[l]!.rows(start + n).data;
    const theta = this.threshold(l);
    const mean = this.options.goodness === 'mean';
    const act = this.net.activationOf(l);
    if (act !== 'relu') activationDerivative(act, a, h, this.derivative, (start + n) * d);
    // the layer's normalisation already summed the squares of this activity, in the same order
    const squares = state.squares[l]!;
    let loss = 0;
    let gSum = 0;
    for (let i = start; i < start + n; i++) {
      const o = i * d;
      let g = squares[i]!;
      if (mean) g /= d;
      gSum += g;
      const z = sign * (theta - g); // loss softplus(z); dz/dG = -sign
      loss += softplus(z);
      const dLdG = (-sign * logistic(z)) / n;
      const scale = dLdG * (mean ? 2 / d : 2);
      if (act === 'relu') {
        for (let j = 0; j < d; j++) delta[o + j] = scale * h[o + j]!; // h * relu'(a) = h
      } else {
        for (let j = 0; j < d; j++) delta[o + j] = scale * h[o + j]! * this.derivative[o + j]!;
      }
    }
    (sign > 0 ? this.sums.pos : this.sums.neg)[l]! += gSum / n;
    return loss / n;
  }

  /**
   * Adds the peer-normalisation gradient to the positive rows' (the first n of the paired pass) delta of
   * layer l and updates the means.
   */
  private applyPeerNormalization(l: number, n: number): void {
    const lambda = this.options.peerNormalization;
    if (lambda === 0) return;
    const state = this.paired;
    const d = this.net.width(l + 1);
    const h = state.unnormalized[l]!.data;
    const a = state.pre[l]!.data;
    const means = this.peerMeans[l]!.data;
    const mu = this.options.peerMomentum;
    // running mean including this batch: m_j = mu m_j + (1 - mu) mean_i h_ij
    let avg = 0;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += h[i * d + j]!;
      means[j] = mu * means[j]! + ((1 - mu) * s) / n;
      avg += means[j]!;
    }
    avg /= d;
    // P = lambda mean_j (m_j - avg)^2, dP/dh_ij = 2 lambda (m_j - avg) (1 - mu) / (d n), times act'(a_ij)
    const delta = this.deltas[l]!.rows(n).data;
    const relu = this.net.activationOf(l) === 'relu';
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const k = i * d + j;
        const slope = relu ? (a[k]! > 0 ? 1 : 0) : this.derivative[k]!;
        delta[k] = delta[k]! + ((2 * lambda * (means[j]! - avg) * (1 - mu)) / (d * n)) * slope;
      }
    }
  }

  /** Fills negLabels (rows k * b + i: the k-th negative of sample i); never the true label. */
  private drawNegatives(b: number): void {
    const { classes, labels, negLabels, rng } = this;
    switch (this.options.negatives) {
      case 'random':
        for (let i = 0; i < b; i++) negLabels[i] = (labels[i]! + 1 + rng.int(0, classes - 2)) % classes;
        return;
      case 'all':
        for (let k = 0; k < classes - 1; k++) {
          for (let i = 0; i < b; i++) negLabels[k * b + i] = (labels[i]! + 1 + k) % classes;
        }
        return;
      case 'hard': {
        const y = this.neutral.output;
        for (let i = 0; i < b; i++) {
          const o = y.index(i, 0);
          let total = 0;
          for (let c = 0; c < classes; c++) if (c !== labels[i]) total += y.data[o + c]!;
          if (!(total > 1e-12)) {
            negLabels[i] = (labels[i]! + 1 + rng.int(0, classes - 2)) % classes;
            continue;
          }
          let u = rng.uniform() * total;
          let pick = -1;
          for (let c = 0; c < classes; c++) {
            if (c === labels[i]) continue;
            pick = c;
            u -= y.data[o + c]!;
            if (u < 0) break;
          }
          negLabels[i] = pick;
        }
        return;
      }
    }
  }

  /**
   * Predicts each row's label by the goodness its embedding produces, summed over the hidden layers (all but
   * the first when there are several); writes labels into `out` and, when given, the scores (rows x classes).
   */
  predictByGoodness(x: Matrix, out: Int32Array, scores?: Float64Array): void {
    const { net, classes } = this;
    const n = x.rows;
    if (!this.predictState || this.predictState.maxBatch < n) {
      this.predictState = new ForwardState(net, n, this.engine);
      this.predictX = Matrix.zeros(n, net.width(0), this.engine);
    }
    const state = this.predictState;
    const input = this.predictX!.view(0, 0, n, net.width(0));
    const score = scores ?? new Float64Array(n * classes);
    const first = this.hidden > 1 ? 1 : 0;
    const labels = new Int32Array(n);
    for (let c = 0; c < classes; c++) {
      labels.fill(c);
      this.labelledInput(x, labels, input);
      forward(this.engine, state, input, null);
      for (let l = first; l < this.hidden; l++) {
        const d = net.width(l + 1);
        const h = state.unnormalized[l]!.data;
        for (let i = 0; i < n; i++) {
          let g = 0;
          for (let j = 0; j < d; j++) g += h[i * d + j]! * h[i * d + j]!;
          score[i * classes + c]! += this.options.goodness === 'mean' ? g / d : g;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (score[i * classes + c]! > score[i * classes + best]!) best = c;
      out[i] = best;
    }
  }

  /** Per-layer goodness and loss averaged over the steps since the last call. */
  diagnostics(): FfEpochMetrics & Record<string, MetricValue> {
    const steps = Math.max(1, this.sums.steps);
    const out = {
      goodness_pos: this.sums.pos.map((s) => s / steps),
      goodness_neg: this.sums.neg.map((s) => s / steps),
      ff_loss: this.sums.loss.map((s) => s / steps),
    };
    this.resetSums();
    return out;
  }

  private resetSums(): void {
    this.sums.pos = new Array<number>(this.hidden).fill(0);
    this.sums.neg = new Array<number>(this.hidden).fill(0);
    this.sums.loss = new Array<number>(this.hidden).fill(0);
    this.sums.steps = 0;
  }
}

function ffSection(options: SectionValues): FfSection {
  return options.ff as FfSection;
}

/** Forward-Forward (spec 2.11). */
export const ff = defineRule({
  name: 'ff',
  description: 'Forward-Forward: every hidden layer separates positive from negative data by its goodness',
  sections: [FF_SECTION],
  passes: { first: 'positive', second: 'negative' },
  // What FF implementations train with: Adam (at its usual 0.001), length normalisation between layers, no
  // dropout.
  trainingDefaults: () => ({ optimizer: 'adam', dropout: 0, normalization: 'sample-rms' }),
  finalize(options, run: RunShape) {
    const o = ffSection(options);
    if (o.threshold !== undefined) return options;
    const threshold = run.hidden.map((d) => defaultThreshold(o.goodness, d));
    return { ...options, ff: { ...o, threshold } };
  },
  validate(options, run) {
    const problem = networkProblem(run.normalization, run.dropout);
    if (problem) return problem;
    const t = ffSection(options).threshold;
    if (Array.isArray(t) && t.length !== run.hidden.length)
      return `ff threshold lists ${t.length} values for ${run.hidden.length} hidden layers`;
    return null;
  },
  create(ctx, options) {
    return new FfRule(ctx.net, ctx.engine, ctx.maxBatch, ctx.rng.derive('negatives'), ffSection(options));
  },
  /**
   * The neutral pass (the read-out's input) is `forward`; the positive and negative passes run through every
   * layer (k negatives per sample: 1 for random and hard negatives, C - 1 for all); hidden layers get
   * delta_pos^T H_pos + delta_neg^T H_neg and the read-out E^T H_{L-1} of the neutral pass. The activities of
   * the neutral, positive and k negative passes are stored until the updates.
   */
  cost(shape, options) {
    const m = measures(shape);
    const { d, b, L, P } = m;
    const top = d[L]! * d[L - 1]!;
    const k = ffSection(options).negatives === 'all' ? d[L]! - 1 : 1;
    return stepCostOf(
      {
        forward: b * P,
        'positive-forward': b * P,
        'negative-forward': k * b * P,
        updates: (1 + k) * b * (P - top) + b * top,
      },
      (2 + k) * b * m.units,
    );
  },
});
