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
 */
import type { Engine } from '../core/engine.js';
import { TopdownUsageError } from '../core/errors.js';
import { Matrix } from '../core/matrix.js';
import { checkTopDownShape, type TopDownFeedback } from '../feedback/top-down.js';
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

import { outputError } from './output-error.js';
import type { Batch, LearningRule } from './rule.js';
import { Scratch } from './scratch.js';

export const PEPITA_MODES = ['standard', 'forward', 'hebbian', 'goodness', 'time-local'] as const;
export type PepitaMode = (typeof PEPITA_MODES)[number];
export const MODULATION_SIGNS = ['minus', 'plus'] as const;
/** `minus`: x_mod = x - F e (ICLR code, default; required for weight mirroring); `plus`: x + F e. */
export type ModulationSign = (typeof MODULATION_SIGNS)[number];
export const LAST_LAYER_ERRORS = ['first-pass-error', 'modulated-error'] as const;
export type LastLayerError = (typeof LAST_LAYER_ERRORS)[number];

export interface PepitaOptions {
  mode?: PepitaMode;
  sign?: ModulationSign;
  lastLayer?: LastLayerError;
  firstLayerShortcut?: boolean;
}

export type ResolvedPepitaOptions = Required<PepitaOptions>;

export function resolvePepitaOptions(options: PepitaOptions = {}): ResolvedPepitaOptions {
  const r = {
    mode: options.mode ?? 'standard',
    sign: options.sign ?? 'minus',
    lastLayer: options.lastLayer ?? 'first-pass-error',
    firstLayerShortcut: options.firstLayerShortcut ?? true,
  };
  const check = (value: string, allowed: readonly string[], what: string): void => {
    if (!allowed.includes(value))
      throw new TopdownUsageError(`${what} must be one of ${allowed.join(', ')}; got "${value}"`);
  };
  check(r.mode, PEPITA_MODES, 'PEPITA mode');
  check(r.sign, MODULATION_SIGNS, 'modulation sign');
  check(r.lastLayer, LAST_LAYER_ERRORS, 'last-layer error');
  return r;
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
    this.clean = new ForwardState(net, maxBatch);
    this.modulated = new ForwardState(net, maxBatch);
    const dL = net.width(net.depth);
    this.error = new Scratch(maxBatch, dL);
    this.modError = new Scratch(maxBatch, dL);
    this.xMod = new Scratch(maxBatch, s[0]!);
    this.diffs = s.slice(1, -1).map((d) => new Scratch(maxBatch, d));
    this.w1f = net.depth > 1 ? new Matrix(s[1]!, dL) : null;
    this.blockScratch = new Float32Array(maxBatch * Math.max(1, ...s.slice(1, -1)));
    this.goodnessSums = { clean: [], modulated: [], steps: 0 };
    this.resetGoodness();
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
        const cleanPost = l === L - 1 ? clean.output : clean.postView(l);
        const modPost = l === L - 1 ? batch.targets : mod.postView(l);
        sink.addOuter(l, 1 / b, cleanPost, clean.postView(l - 1));
        sink.addOuter(l, -1 / b, modPost, mod.postView(l - 1));
      }
    } else {
      const pre = mode === 'forward' ? clean : mod;
      for (let l = 0; l < L - 1; l++) {
        const diff = this.diffs[l]!.rows(b);
        subtractInto(clean.postView(l), mod.postView(l), diff);
        sink.addOuter(l, 1 / b, diff, pre.postView(l - 1));
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
    backpropThroughBlock(state, l, out.data, masks, this.blockScratch);
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
   * Per hidden layer, the mean goodness ||h_l||^2 of the clean and modulated passes over the steps since the
   * last call (FF's positive and negative phases, spec 2.11); resets the sums.
   */
  takeEpochMetrics(): { goodness_clean: number[]; goodness_modulated: number[] } {
    const steps = Math.max(1, this.goodnessSums.steps);
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
    for (let l = 0; l < L; l++) sink.addOuter(l, 1 / b, clean.postView(l), clean.postView(l - 1));
    sink.step();
    const mod = this.modulated;
    forward(engine, mod, this.modulate(batch.x, e), masks);
    for (let l = 0; l < L; l++) {
      sink.addOuter(l, -1 / b, l === L - 1 ? batch.targets : mod.postView(l), mod.postView(l - 1));
    }
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
    finishLayer(mod, 0, masks);
    forwardFrom(engine, mod, 1, masks);
  }
}

function subtractInto(a: Matrix, b: Matrix, out: Matrix): void {
  const n = a.rows * a.cols;
  const ad = a.data;
  const bd = b.data;
  const od = out.data;
  // All three are contiguous row blocks starting at offset 0 (forward-state views and scratch).
  for (let i = 0; i < n; i++) od[i] = ad[i]! - bd[i]!;
}

/** Mean over the rows of ||h_l||^2, on the activity before normalisation when the layer normalises. */
function meanSquaredNorm(state: ForwardState, l: number): number {
  const raw = state.unnormalized[l];
  const m = raw ? raw.view(0, 0, state.rows, raw.cols) : state.postView(l);
  let s = 0;
  for (let i = 0; i < m.rows; i++) {
    const o = m.index(i, 0);
    for (let j = 0; j < m.cols; j++) s += m.data[o + j]! * m.data[o + j]!;
  }
  return m.rows > 0 ? s / m.rows : 0;
}
