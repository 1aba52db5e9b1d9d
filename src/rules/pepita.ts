/**
 * PEPITA (spec 2.5, 2.10): a clean forward pass, the error e = y - t projected onto the input through F,
 * x_mod = x - F e (or x + F e), and a second, modulated pass with the same dropout masks. Updates
 * (G_l = Delta W_l / b, subtracted by the optimiser; h_0 = x):
 *
 * | mode | hidden and first layers | last layer |
 * |---|---|---|
 * | standard (ICLR code) | (h_l - h_l^mod)^T h_{l-1}^mod | e^T h_{L-1}^mod |
 * | forward | (h_l - h_l^mod)^T h_{l-1} | e^T h_{L-1} |
 * | hebbian (intended PEPITA-Hebbian) | h_l^T h_{l-1} - (h_l^mod)^T h_{l-1}^mod | y^T h_{L-1} - t^T h_{L-1}^mod |
 * | goodness (PEPITA as FF) | descends J_l = 1/2 ||h_l||^2 - 1/2 ||h_l^mod||^2 layer-locally: (dJ/da_l)^T h_{l-1} - (dJ/da_l^mod)^T h_{l-1}^mod (= hebbian for ReLU without dropout or normalisation) | as hebbian |
 * | time-local (Algorithm 2) | step 1: h_l^T h_{l-1}; step 2: -(h_l^mod)^T h_{l-1}^mod | y^T h_{L-1}; -t^T h_{L-1}^mod |
 *
 * `lastLayer: 'modulated-error'` uses the ICML code's (y^mod - t) in place of e (standard and forward modes).
 * Time-local applies the clean-pass update (one optimiser step) before the modulated pass, which then runs
 * with the updated weights; two optimiser steps per batch, as in the reference code. A network without hidden
 * layers uses the delta rule G = e^T x / b.
 *
 * Speed: the modulated first-layer pre-activation is a_1 - (W_1 F) e rather than W_1 x_mod, a d_1 x d_L
 * product per sample instead of d_1 x d_0 (set `firstLayerShortcut: false` for the direct product).
 *
 * Convolution layers (the ICML conv model, spec 2.12): h_l is the layer's activation before its pooling
 * (filters x positions), and the update is the average over output positions of the outer products of its
 * channels' values with the input patches, (1/P) sum_p (h_l - h_l^mod)[:, p]^T patch_p (the inputs of the
 * pass the mode names); `convAverage: 'positions-batch'` divides it once more by the batch size, as the ICML
 * code's `compute_delta_w_conv` (a mean over the batch) followed by its `/ batch_size` does.
 */
import { z } from 'zod';

import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { Matrix } from '../core/matrix.js';
import { parseSection, type OptionSection } from '../core/options.js';
import type { Stateful } from '../core/state.js';
import { MIRROR_SECTION, type MirrorConfig } from '../feedback/mirror.js';
import { matrixStats } from '../metrics/norms.js';
import {
  checkTopDownShape,
  MODULATION_SIGNS,
  TOP_DOWN_SECTION,
  TopDownFeedback,
  type ModulationSign,
  type TopDownConfig,
} from '../feedback/top-down.js';
import {
  backpropThroughBlock,
  ForwardState,
  finishLayer,
  forward,
  forwardFrom,
  type DropoutMasks,
} from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { modulationViews } from './modulation-views.js';
import { outputError } from './output-error.js';
import { withMirroring } from './pepita-mirroring.js';
import {
  defineRule,
  type Batch,
  type InputView,
  type LearningRule,
  type MetricValue,
  type SectionValues,
} from './rule.js';
import { addLayerUpdate } from './layer-update.js';
import { Scratch } from './scratch.js';
import { measures, stepCostOf, type CostShape, type StepCost } from './step-cost.js';

export { MODULATION_SIGNS, type ModulationSign };
export const PEPITA_MODES = ['standard', 'forward', 'hebbian', 'goodness', 'time-local'] as const;
export type PepitaMode = (typeof PEPITA_MODES)[number];
export const LAST_LAYER_ERRORS = ['first-pass-error', 'modulated-error'] as const;
export type LastLayerError = (typeof LAST_LAYER_ERRORS)[number];
export const CONV_AVERAGES = ['positions', 'positions-batch'] as const;
export type ConvAverage = (typeof CONV_AVERAGES)[number];

/** The `pepita` section. */
export const PEPITA_SECTION = {
  key: 'pepita',
  label: 'PEPITA',
  flagPrefix: '',
  schema: z
    .object({
      mode: z.enum(PEPITA_MODES).default('standard').meta({
        description: 'standard (ICLR code), forward, hebbian, goodness (PEPITA as FF), time-local',
      }),
      lastLayer: z.enum(LAST_LAYER_ERRORS).default('first-pass-error').meta({
        description: 'last-layer error: first-pass-error (ICLR code) or modulated-error (ICML code)',
      }),
      convAverage: z.enum(CONV_AVERAGES).optional().meta({
        description:
          "a convolution's update: the mean over output positions, or that / batch size again (positions-batch: the ICML code)",
        defaultText: 'positions',
      }),
    })
    .strict(),
} satisfies OptionSection;

export interface PepitaOptions {
  mode?: PepitaMode;
  sign?: ModulationSign;
  lastLayer?: LastLayerError;
  convAverage?: ConvAverage;
  firstLayerShortcut?: boolean;
}

export type ResolvedPepitaOptions = Required<PepitaOptions>;

/** Fills in defaults (the sections' own) and validates. */
export function resolvePepitaOptions(options: PepitaOptions = {}): ResolvedPepitaOptions {
  const { mode, lastLayer, convAverage } = parseSection(PEPITA_SECTION, {
    mode: options.mode,
    lastLayer: options.lastLayer,
    convAverage: options.convAverage,
  });
  const { sign } = parseSection(TOP_DOWN_SECTION, { sign: options.sign });
  return {
    mode,
    lastLayer,
    sign,
    convAverage: convAverage ?? 'positions',
    firstLayerShortcut: options.firstLayerShortcut ?? true,
  };
}

export class PepitaRule implements LearningRule {
  readonly name = 'pepita';
  readonly options: ResolvedPepitaOptions;
  /** The clean pass of the last step. */
  readonly clean: ForwardState;
  /** The modulated pass of the last step. */
  readonly modulated: ForwardState;
  private readonly error: Scratch;
  private readonly modError: Scratch;
  private readonly xMod: Scratch;
  private readonly diffs: Scratch[];
  private readonly w1f: Matrix | null;
  private readonly blockScratch: Float32Array;
  private readonly goodnessSums: { clean: number[]; modulated: number[]; steps: number };
  readonly state: Stateful;

  constructor(
    private readonly net: Network,
    private readonly engine: Engine,
    maxBatch: number,
    readonly feedback: TopDownFeedback,
    options: PepitaOptions = {},
  ) {
    this.options = resolvePepitaOptions(options);
    const s = net.sizes;
    checkTopDownShape(s, feedback);
    this.clean = new ForwardState(net, maxBatch, engine);
    this.modulated = new ForwardState(net, maxBatch, engine);
    const dL = net.width(net.depth);
    this.error = new Scratch(maxBatch, dL, engine);
    this.modError = new Scratch(maxBatch, dL, engine);
    this.xMod = new Scratch(maxBatch, s[0]!, engine);
    if (net.convolutional && this.options.mode === 'goodness')
      throw new TopdownUsageError("PEPITA's goodness mode trains fully connected networks only");
    // a hidden layer's activity: a pooled convolution's is its activation before pooling
    this.diffs = s.slice(1, -1).map((_, l) => new Scratch(maxBatch, net.preWidth(l), engine));
    this.w1f = net.depth > 1 && !net.convolutional ? Matrix.zeros(s[1]!, dL, engine) : null;
    this.blockScratch = engine.floats(maxBatch * Math.max(1, ...s.slice(1, -1)));
    this.goodnessSums = { clean: [], modulated: [], steps: 0 };
    this.resetGoodness();
    // F, and the goodness sums of the epoch in progress (a checkpoint may be taken inside an epoch)
    this.state = feedback.stateSet().value(
      'goodnessSums',
      () => this.goodnessSums,
      (v) => Object.assign(this.goodnessSums, v),
    );
  }

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    if (this.options.mode === 'time-local') return this.trainTimeLocal(batch, sink, masks);
    const { net, clean } = this;
    const L = net.depth;
    const e = this.cleanPass(batch, masks);
    const b = clean.rows;
    if (L === 1) {
      sink.addOuter(0, 1 / b, e, batch.x);
      sink.step();
      return clean;
    }
    const xMod = this.modulate(batch.x, e);
    this.modulatedPass(xMod, e, masks);
    const mod = this.modulated;
    const mode = this.options.mode;
    if (mode === 'goodness') {
      for (let l = 0; l < L - 1; l++) {
        sink.addOuter(l, 1 / b, this.goodnessDelta(clean, l, masks), clean.postView(l - 1));
        sink.addOuter(l, -1 / b, this.goodnessDelta(mod, l, masks), mod.postView(l - 1));
      }
      sink.addOuter(L - 1, 1 / b, clean.output, clean.postView(L - 2));
      sink.addOuter(L - 1, -1 / b, batch.targets, mod.postView(L - 2));
    } else if (mode === 'hebbian') {
      for (let l = 0; l < L; l++) {
        const cleanPost = l === L - 1 ? clean.output : clean.activityView(l);
        const modPost = l === L - 1 ? batch.targets : mod.activityView(l);
        this.addUpdate(sink, clean, l, 1 / b, cleanPost);
        this.addUpdate(sink, mod, l, -1 / b, modPost);
      }
    } else {
      const pre = mode === 'forward' ? clean : mod;
      for (let l = 0; l < L - 1; l++) {
        const diff = this.diffs[l]!.rows(b);
        clean.activityDifference(this.engine, mod, l, diff);
        this.addUpdate(sink, pre, l, 1 / b, diff);
      }
      let top = e;
      if (this.options.lastLayer === 'modulated-error') {
        top = this.modError.rows(b);
        outputError(mod.output, batch.targets, top);
      }
      sink.addOuter(L - 1, 1 / b, top, pre.postView(L - 2));
    }
    this.recordGoodness();
    sink.step();
    return clean;
  }

  /**
   * sink[l] += alpha * (the update of layer l from `activity`, with the inputs of `state`'s pass): an outer
   * product, or for a convolution the mean over its output positions (and over the batch once more with
   * `convAverage: 'positions-batch'`).
   */
  private addUpdate(
    sink: GradientSink,
    state: ForwardState,
    l: number,
    alpha: number,
    activity: Matrix,
  ): void {
    const conv = state.convs[l];
    if (conv) {
      alpha /= conv.positions;
      if (this.options.convAverage === 'positions-batch') alpha /= state.rows;
    }
    addLayerUpdate(this.engine, sink, l, state, l, alpha, activity);
  }

  /** The clean and modulated passes of a batch, without dropout and without any update. */
  twoPasses(batch: Batch): { first: ForwardState; second: ForwardState } {
    const e = this.cleanPass(batch, null);
    this.modulatedPass(this.modulate(batch.x, e), e, null);
    return { first: this.clean, second: this.modulated };
  }

  /** d(1/2 ||h_l||^2)/da_l for the pass `state` (through dropout and normalisation), in a diff buffer. */
  private goodnessDelta(state: ForwardState, l: number, masks: DropoutMasks | null): Matrix {
    const out = this.diffs[l]!.rows(state.rows);
    out.copyFrom(state.postView(l));
    backpropThroughBlock(this.engine, state, l, out.data, masks, this.blockScratch);
    return out;
  }

  /** Adds this step's mean ||h_l||^2 of both passes (hidden layers, before normalisation) to the epoch sums. */
  private recordGoodness(): void {
    const L = this.net.depth;
    for (let l = 0; l < L - 1; l++) {
      this.goodnessSums.clean[l]! += meanSquaredNorm(this.clean, l);
      this.goodnessSums.modulated[l]! += meanSquaredNorm(this.modulated, l);
    }
    this.goodnessSums.steps++;
  }

  /**
   * F's alignment with the forward weights and its std (see {@link TopDownFeedback.diagnostics}), and per
   * hidden layer the mean goodness ||h_l||^2 of the clean and modulated passes over the steps since the last
   * call (FF's positive and negative phases, spec 2.11); resets the sums.
   */
  diagnostics(): Record<string, MetricValue> {
    // F's angle to the product of the forward weights is defined for fully connected networks only
    const feedback = this.net.convolutional
      ? { feedback_std: matrixStats(this.feedback.matrix).std }
      : this.feedback.diagnostics(this.engine, this.net.weights);
    return { ...feedback, ...this.takeGoodness() };
  }

  /** The modulated input x -+ F e and F e itself, with the error of a clean pass without dropout. */
  inputViews(batch: Batch): InputView[] {
    const e = this.cleanPass(batch, null);
    return modulationViews(this.engine, this.feedback, this.options.sign, batch.x, batch.targets, e);
  }

  /** The goodness sums of {@link PepitaRule.diagnostics} alone. */
  takeGoodness(): { goodness_clean?: number[]; goodness_modulated?: number[] } {
    const steps = this.goodnessSums.steps;
    if (steps === 0) return {}; // no PEPITA step since the last call (e.g. a pre-mirroring epoch)
    const out = {
      goodness_clean: this.goodnessSums.clean.map((g) => g / steps),
      goodness_modulated: this.goodnessSums.modulated.map((g) => g / steps),
    };
    this.resetGoodness();
    return out;
  }

  private resetGoodness(): void {
    const hidden = Math.max(0, this.net.depth - 1);
    this.goodnessSums.clean = new Array<number>(hidden).fill(0);
    this.goodnessSums.modulated = new Array<number>(hidden).fill(0);
    this.goodnessSums.steps = 0;
  }

  /** Algorithm 2: clean-pass update applied, then the modulated pass with the updated weights. */
  private trainTimeLocal(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    const { engine, net, clean } = this;
    const L = net.depth;
    const e = this.cleanPass(batch, masks);
    const b = clean.rows;
    for (let l = 0; l < L; l++) this.addUpdate(sink, clean, l, 1 / b, clean.activityView(l));
    sink.step();
    const mod = this.modulated;
    forward(engine, mod, this.modulate(batch.x, e), masks);
    for (let l = 0; l < L; l++) {
      this.addUpdate(sink, mod, l, -1 / b, l === L - 1 ? batch.targets : mod.activityView(l));
    }
    this.recordGoodness();
    sink.step();
    return clean;
  }

  /** The clean forward pass; returns the output error e = y - t. */
  private cleanPass(batch: Batch, masks: DropoutMasks | null): Matrix {
    forward(this.engine, this.clean, batch.x, masks);
    const e = this.error.rows(this.clean.rows);
    outputError(this.clean.output, batch.targets, e);
    return e;
  }

  /** x_mod = x -+ e F^T into the scratch buffer. */
  private modulate(x: Matrix, e: Matrix): Matrix {
    const b = x.rows;
    const xMod = this.xMod.rows(b);
    xMod.copyFrom(x);
    const f = this.feedback.matrix;
    const sign = this.options.sign === 'minus' ? -1 : 1;
    this.engine.gemm(false, true, b, f.rows, f.cols, sign, e, f, 1, xMod);
    return xMod;
  }

  private modulatedPass(xMod: Matrix, e: Matrix, masks: DropoutMasks | null): void {
    const { engine, clean, modulated: mod } = this;
    if (!this.options.firstLayerShortcut || !this.w1f) {
      forward(engine, mod, xMod, masks);
      return;
    }
    // a_1^mod = W_1 (x -+ F e) + b_1 = a_1 -+ (W_1 F) e
    const w1 = this.net.weights[0]!;
    const f = this.feedback.matrix;
    const w1f = this.w1f;
    engine.gemm(false, false, w1.rows, f.cols, w1.cols, 1, w1, f, 0, w1f);
    mod.setInput(xMod);
    const b = xMod.rows;
    const a1 = mod.preView(0);
    a1.copyFrom(clean.preView(0));
    engine.gemm(false, true, b, w1f.rows, w1f.cols, this.options.sign === 'minus' ? -1 : 1, e, w1f, 1, a1);
    finishLayer(engine, mod, 0, masks);
    forwardFrom(engine, mod, 1, masks);
  }
}

/** Mean over the rows of ||h_l||^2, on the activity before normalisation when the layer normalises. */
function meanSquaredNorm(state: ForwardState, l: number): number {
  const raw = state.unnormalized[l];
  const m = raw ? raw.view(0, 0, state.rows, raw.cols) : state.postView(l);
  const d = m.data;
  const cols = m.cols;
  let s = 0;
  for (let i = 0; i < m.rows; i++) {
    const o = m.index(i, 0);
    for (let j = 0; j < cols; j++) {
      const v = d[o + j]!;
      s += v * v;
    }
  }
  return m.rows > 0 ? s / m.rows : 0;
}

/** What the rule reads from its sections. */
function pepitaSettings(options: SectionValues): {
  pepita: z.infer<typeof PEPITA_SECTION.schema>;
  feedback: TopDownConfig;
  mirror: MirrorConfig | undefined;
} {
  return {
    pepita: options.pepita as z.infer<typeof PEPITA_SECTION.schema>,
    feedback: options.feedback as TopDownConfig,
    mirror: options.mirror as MirrorConfig | undefined,
  };
}

/**
 * One step's cost. Standard, forward, hebbian and goodness: the modulated input X - E F^T (b d_0 d_L), W_1 F
 * once (d_1 d_0 d_L), the modulated pass E (W_1 F)^T plus layers 2..L (b d_L d_1 + b (P - d_0 d_1)), and
 * outer products per layer (two per layer for hebbian and goodness); both passes' activities are stored.
 * Time-local: the clean pass with each layer updated at once, then X - E F^T and a full modulated pass
 * through the updated weights (the W_1 F shortcut does not apply), then its updates; it stores no first-pass
 * activity. Mirroring adds the noise pass and factor gradients (2 b P) and the product F_1...F_L. With
 * convolutions there is no shortcut: the modulated pass is a full forward pass (w1f 0, b P); a convolution's
 * update, a sum over positions of outer products, costs its forward product.
 */
function pepitaCost(shape: CostShape, options: SectionValues): StepCost {
  const { pepita, mirror } = pepitaSettings(options);
  const m = measures(shape);
  const { d, b, L, P } = m;
  const d0 = d[0]!;
  const d1 = d[1]!;
  const dL = d[L]!;
  const breakdown: Record<string, number> = { forward: b * P };
  let peak: number;
  if (pepita.mode === 'time-local') {
    breakdown.modulation = b * d0 * dL;
    breakdown['modulated-forward'] = b * P;
    breakdown.updates = 2 * b * P;
    peak = b * d0 + b * dL + b * m.widestPair;
  } else {
    if (L === 1) {
      // single layer: the delta rule G_1 = E^T X (forward + updates only)
      breakdown.modulation = 0;
      breakdown.w1f = 0;
      breakdown['modulated-forward'] = 0;
      breakdown.updates = b * P;
    } else {
      breakdown.modulation = b * d0 * dL;
      breakdown.w1f = m.dense ? d1 * d0 * dL : 0;
      breakdown['modulated-forward'] = m.dense ? b * dL * d1 + b * (P - d0 * d1) : b * P;
      breakdown.updates = (pepita.mode === 'hebbian' || pepita.mode === 'goodness' ? 2 : 1) * b * P;
    }
    peak = 2 * b * m.units;
  }
  if (mirror) {
    let product = 0;
    for (let l = 2; l <= L; l++) product += d0 * d[l - 1]! * d[l]!;
    breakdown.mirroring = 2 * b * P + product;
  }
  return stepCostOf(breakdown, peak);
}

/** PEPITA and its variants (spec 2.5, 2.7, 2.10, 2.11). */
export const pepita = defineRule({
  name: 'pepita',
  description: 'PEPITA: two forward passes, the second on the input modulated by the error through F',
  convolutional: true,
  sections: [PEPITA_SECTION, TOP_DOWN_SECTION, MIRROR_SECTION],
  variants: PEPITA_MODES.filter((mode) => mode !== 'standard').map((mode) => ({
    label: `pepita --mode ${mode}`,
    options: { pepita: { mode } },
  })),
  passes: { first: 'clean', second: 'modulated' },
  summary: ['angle_deg'],
  trainingDefaults(options) {
    // Time-local applies the clean pass's large Hebbian product and the modulated pass's anti-Hebbian one
    // as two separate optimiser steps, so it needs far smaller steps (a hundredth of the dataset's rate: 1e-3
    // on MNIST, 1e-4 on CIFAR as in the paper) and gains from more of them (batch 32).
    const mode = (options.pepita as { mode?: PepitaMode } | undefined)?.mode;
    return mode === 'time-local' ? { lrFactor: 0.01, batchSize: 32 } : {};
  },
  validate(options) {
    const { feedback, mirror } = pepitaSettings(options);
    if (!mirror) return null;
    if (feedback.init !== 'normal') return 'weight mirroring needs feedback init "normal" (factorised F)';
    if (feedback.sign !== 'minus') return 'weight mirroring needs the modulation sign "minus"';
    return null;
  },
  create(ctx, options) {
    const { pepita: p, feedback, mirror } = pepitaSettings(options);
    if (mirror && ctx.net.convolutional)
      throw new TopdownUsageError('weight mirroring needs a fully connected network (F mirrors W_L...W_1)');
    const topDown = TopDownFeedback.create(ctx.net.sizes, feedback, ctx.rng.derive('feedback'), ctx.engine);
    const rule = new PepitaRule(ctx.net, ctx.engine, ctx.maxBatch, topDown, { ...p, sign: feedback.sign });
    return mirror ? withMirroring(ctx, rule, mirror) : rule;
  },
  cost: pepitaCost,
});
