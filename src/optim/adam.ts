import type { AdamScalars, Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';

import { checkRange, nameBuffers, Optimizer } from './optimizer.js';
import {
  allocateLike,
  checkOuterArgs,
  checkParameterSet,
  checkUpdateIndex,
  OnesRow,
  writeOuter,
} from './outer.js';
import type { ParameterSet, UpdateWriter } from './sink.js';

/** Hyperparameters of {@link Adam}, as in `torch.optim.Adam` (amsgrad and maximize are not supported). */
export interface AdamOptions {
  /** Learning rate (>= 0); {@link Adam.lr} can change it between steps. */
  lr: number;
  /** Decay of the first-moment (mean) average, in [0, 1) (default 0.9; torch's betas[0]). */
  beta1?: number;
  /** Decay of the second-moment (uncentred variance) average, in [0, 1) (default 0.999; torch's betas[1]). */
  beta2?: number;
  /** Added to the denominator for numerical stability (>= 0, default 1e-8). */
  eps?: number;
  /** Coupled (L2) weight decay, added to the gradient as weightDecay * p (>= 0, default 0). */
  weightDecay?: number;
}

/** {@link AdamOptions} with every default filled in. */
export type ResolvedAdamOptions = Readonly<Required<AdamOptions>>;

/**
 * What {@link Adam.state} saves for a checkpoint: exact copies of the moment buffers, the per-parameter step
 * counts and the learning rate. Restoring it with {@link Adam.loadState} makes the following steps
 * bit-identical to an uninterrupted run.
 */
export interface AdamState {
  /** The learning rate in use when the state was taken. */
  lr: number;
  /** Per parameter index: the number of steps it has taken (torch's state['step']; 0 = never stepped). */
  steps: number[];
  /** Per weight matrix: its first-moment average (torch's exp_avg), row-major (rows x cols). */
  m: Float32Array[];
  /** Per weight matrix: its second-moment average (torch's exp_avg_sq), row-major (rows x cols). */
  v: Float32Array[];
  /** Per parameter: its bias's first-moment average, or null where it has no bias. */
  biasM: (Float32Array | null)[];
  /** Per parameter: its bias's second-moment average, or null where it has no bias. */
  biasV: (Float32Array | null)[];
}

function checkLr(lr: number): void {
  checkRange('lr', lr, lr >= 0, '>= 0');
}

/** Fills in {@link AdamOptions} defaults and validates, throwing a usage error that names the bad field. */
export function resolveAdamOptions(options: AdamOptions): ResolvedAdamOptions {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = options;
  checkLr(lr);
  checkRange('beta1', beta1, beta1 >= 0 && beta1 < 1, 'in [0, 1)');
  checkRange('beta2', beta2, beta2 >= 0 && beta2 < 1, 'in [0, 1)');
  checkRange('eps', eps, eps >= 0, '>= 0');
  checkRange('weightDecay', weightDecay, weightDecay >= 0, '>= 0');
  return Object.freeze({ lr, beta1, beta2, eps, weightDecay });
}

/**
 * Adam with coupled (L2) weight decay, with exactly the semantics of `torch.optim.Adam` (amsgrad = false,
 * maximize = false). For each parameter p whose gradient g was written in this step:
 *
 * ```text
 * t += 1
 * g = g + weightDecay * p
 * m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 * p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * ```
 *
 * As a {@link GradientSink}, `addOuter` writes g into a per-parameter float32 gradient buffer with the
 * engine's gemm (beta = 0 for the parameter's first write in a step, so the buffer is never cleared; 1 for
 * later writes). {@link Adam.step} then updates m, v and p in one fused sweep per buffer (the engine's
 * `adamUpdate`: float32 arithmetic as PyTorch's, the same bits on every engine). Parameters not written in a step are left alone (m, v and t unchanged), like
 * PyTorch parameters without a grad. Biases are updated the same way, weight decay included, sharing their
 * weight's step count. Strided parameter views are updated in place. Nothing is allocated per step except
 * the row of ones for bias sums, when a larger batch than any before appears.
 */
export class Adam extends Optimizer {
  readonly kind = 'adam';
  /** The validated options; `options.lr` is the initial learning rate. */
  readonly options: ResolvedAdamOptions;
  private readonly grads: Matrix[];
  private readonly biasGrads: (Matrix | null)[];
  private readonly m: Matrix[];
  private readonly v: Matrix[];
  private readonly biasM: (Matrix | null)[];
  private readonly biasV: (Matrix | null)[];
  /** 1 where addOuter wrote the parameter in the current step. */
  private readonly touched: Uint8Array;
  /** Per parameter: the number of steps taken. */
  private readonly steps: Float64Array;
  private readonly ones: OnesRow;

  /**
   * @param engine - computes the products (the update sweep runs in TypeScript)
   * @param params - the parameters to update in place (read again at every step, so replacing a matrix of
   *   the same shape in the set is allowed)
   * @param options - learning rate, betas, eps, weight decay
   */
  constructor(
    private readonly engine: Engine,
    params: ParameterSet,
    options: AdamOptions,
  ) {
    super(params, resolveAdamOptions(options).lr);
    this.options = resolveAdamOptions(options);
    checkParameterSet(params, 'Adam');
    this.ones = new OnesRow(engine);
    const g = allocateLike(params, engine);
    const m = allocateLike(params, engine);
    const v = allocateLike(params, engine);
    this.grads = g.weights;
    this.biasGrads = g.biases;
    this.m = m.weights;
    this.biasM = m.biases;
    this.v = v.weights;
    this.biasV = v.biases;
    this.touched = new Uint8Array(this.grads.length);
    this.steps = new Float64Array(this.grads.length);
  }

  protected get pending(): boolean {
    return this.touched.includes(1);
  }

  protected namedBuffers(): Record<string, Matrix> {
    return { ...nameBuffers('m', this.m, this.biasM), ...nameBuffers('v', this.v, this.biasV) };
  }

  protected counters(): { get(): number[]; set(values: number[]): void } {
    return {
      get: () => Array.from(this.steps),
      set: (values) => {
        this.steps.set(values);
        this.touched.fill(0);
      },
    };
  }

  /** Adds alpha * post^T pre to parameter `index`'s gradient, and alpha * colsum(post) to its bias's. */
  addOuter(index: number, alpha: number, post: Matrix, pre: Matrix): void {
    const g = checkOuterArgs('Adam.addOuter', index, this.grads, post, pre);
    const beta = this.touched[index] === 1 ? 1 : 0;
    writeOuter(this.engine, this.ones, alpha, post, pre, beta, g, this.biasGrads[index] ?? null);
    this.touched[index] = 1;
  }

  /** Adds alpha * U to parameter `index`'s gradient through `write` (see {@link GradientSink.addUpdate}). */
  addUpdate(index: number, alpha: number, write: UpdateWriter): void {
    const g = checkUpdateIndex('Adam.addUpdate', index, this.grads);
    write(alpha, this.touched[index] === 1 ? 1 : 0, g);
    this.touched[index] = 1;
  }

  /** Updates every parameter written since the last step, then starts a new step. */
  step(): void {
    const { beta1, beta2, eps, weightDecay } = this.options;
    const lr = this.lr;
    for (let i = 0; i < this.touched.length; i++) {
      if (this.touched[i] !== 1) continue;
      const t = this.steps[i]! + 1;
      const scalars: AdamScalars = {
        beta1,
        beta2,
        weightDecay,
        eps,
        stepSize: lr / (1 - beta1 ** t),
        invBc2Sqrt: 1 / Math.sqrt(1 - beta2 ** t),
      };
      const w = this.checkedParameter(this.params.weights[i], this.grads[i]!, i, 'parameter');
      const bias = this.biasGrads[i];
      // Check both before moving either, so a shape error leaves the parameter untouched.
      const b = bias ? this.checkedParameter(this.params.biases[i], bias, i, 'bias') : null;
      sweep(this.engine, w, this.grads[i]!, this.m[i]!, this.v[i]!, scalars);
      if (b) sweep(this.engine, b, bias!, this.biasM[i]!, this.biasV[i]!, scalars);
      this.steps[i] = t;
      this.touched[i] = 0;
    }
  }

  /**
   * Exact copies of the moment buffers, the step counts and the learning rate, for a checkpoint. Call it
   * between steps: it throws when updates have been written but not yet applied.
   */
  state(): AdamState {
    if (this.touched.includes(1)) {
      throw new TopdownUsageError(
        'Adam.state() called with updates written but not applied; call step() first',
      );
    }
    return {
      lr: this.lr,
      steps: Array.from(this.steps),
      m: this.m.map((x) => x.data.slice()),
      v: this.v.map((x) => x.data.slice()),
      biasM: this.biasM.map((x) => (x ? x.data.slice() : null)),
      biasV: this.biasV.map((x) => (x ? x.data.slice() : null)),
    };
  }

  /**
   * Restores a state from {@link Adam.state} (copying it), including the learning rate, for an optimiser
   * over parameters of the same shapes. Updates written but not yet applied are discarded.
   */
  loadState(state: AdamState): void {
    const n = this.grads.length;
    const fail = (what: string): never => {
      throw new TopdownUsageError(`Adam.loadState: ${what}`);
    };
    const lists = [state.steps, state.m, state.v, state.biasM, state.biasV];
    if (lists.some((list) => !Array.isArray(list) || list.length !== n)) {
      fail(`the state is for a different number of parameters (expected ${n})`);
    }
    checkLr(state.lr);
    for (let i = 0; i < n; i++) {
      const t = state.steps[i]!;
      if (!Number.isSafeInteger(t) || t < 0)
        fail(`step count ${i} must be an integer >= 0; got ${String(t)}`);
      const size = this.grads[i]!.size;
      for (const [name, x] of [
        ['m', state.m[i]],
        ['v', state.v[i]],
      ] as const) {
        if (!(x instanceof Float32Array) || x.length !== size) {
          fail(`${name} buffer ${i} must be a Float32Array of ${size} elements`);
        }
      }
      const bias = this.biasGrads[i] ?? null;
      for (const [name, x] of [
        ['bias m', state.biasM[i] ?? null],
        ['bias v', state.biasV[i] ?? null],
      ] as const) {
        if (bias === null ? x !== null : !(x instanceof Float32Array) || x.length !== bias.size) {
          fail(`${name} buffer ${i} does not match the parameter's bias`);
        }
      }
    }
    for (let i = 0; i < n; i++) {
      this.m[i]!.data.set(state.m[i]!);
      this.v[i]!.data.set(state.v[i]!);
      const bm = state.biasM[i];
      const bv = state.biasV[i];
      if (bm) this.biasM[i]!.data.set(bm);
      if (bv) this.biasV[i]!.data.set(bv);
      this.steps[i] = state.steps[i]!;
    }
    this.touched.fill(0);
    this.lr = state.lr;
  }

  /** The set's current matrix for parameter i, checked against its buffer's shape (it may be replaced). */
  private checkedParameter(p: Matrix | null | undefined, g: Matrix, i: number, what: string): Matrix {
    if (!p || p.rows !== g.rows || p.cols !== g.cols) {
      throw new TopdownUsageError(
        `Adam.step: ${what} ${i} was replaced by a matrix of a different shape (expected ${g.rows}x${g.cols})`,
      );
    }
    return p;
  }
}

function sweep(engine: Engine, p: Matrix, g: Matrix, m: Matrix, v: Matrix, scalars: AdamScalars): void {
  const [pStride, rows, cols] = p.isContiguous ? [p.size, 1, p.size] : [p.stride, p.rows, p.cols];
  engine.run('adamUpdate', {
    p: p.data,
    pOff: p.offset,
    pStride,
    rows,
    cols,
    g: g.data,
    m: m.data,
    v: v.data,
    scalars,
  });
}
