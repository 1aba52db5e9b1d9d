import type { Engine } from '../core/engine-base.js';
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

/** Hyperparameters of {@link Sgd}, as in `torch.optim.SGD` (nesterov is not supported). */
export interface SgdOptions {
  /** Learning rate (>= 0); {@link Sgd.lr} can change it between steps. */
  lr: number;
  /** Momentum factor in [0, 1) (default 0: plain SGD). */
  momentum?: number;
  /** Coupled (L2) weight decay, added to the gradient as weightDecay * p (>= 0, default 0). */
  weightDecay?: number;
  /** Dampening of the gradient in the momentum update, in [0, 1] (default 0). */
  dampening?: number;
}

/** {@link SgdOptions} with every default filled in. */
export type ResolvedSgdOptions = Readonly<Required<SgdOptions>>;

/**
 * What {@link Sgd.state} saves for a checkpoint: exact copies of the update (momentum) buffers, which
 * parameters have stepped before, and the learning rate. Restoring it with {@link Sgd.loadState} makes the
 * following steps bit-identical to an uninterrupted run.
 */
export interface SgdState {
  /** The learning rate in use when the state was taken. */
  lr: number;
  /** Per parameter index: whether it has taken at least one step (its momentum buffer is live). */
  stepped: boolean[];
  /** Per weight matrix: its update buffer, row-major (rows x cols). */
  buffers: Float32Array[];
  /** Per parameter: its bias's update buffer, or null where it has no bias. */
  biasBuffers: (Float32Array | null)[];
}

function checkLr(lr: number): void {
  checkRange('lr', lr, lr >= 0, '>= 0');
}

/** Fills in {@link SgdOptions} defaults and validates, throwing a usage error that names the bad field. */
export function resolveSgdOptions(options: SgdOptions): ResolvedSgdOptions {
  const { lr, momentum = 0, weightDecay = 0, dampening = 0 } = options;
  checkLr(lr);
  checkRange('momentum', momentum, momentum >= 0 && momentum < 1, 'in [0, 1)');
  checkRange('weightDecay', weightDecay, weightDecay >= 0, '>= 0');
  checkRange('dampening', dampening, dampening >= 0 && dampening <= 1, 'in [0, 1]');
  return Object.freeze({ lr, momentum, weightDecay, dampening });
}

/**
 * A parameter and its update buffer as pairs of equal-length arrays for the `sgdUpdate` kernel: one pair when
 * the parameter is contiguous, one per row when it is a strided view. Built once, so steps do not allocate.
 */
interface Sweep {
  source: Matrix;
  w: Float32Array[];
  v: Float32Array[];
}

function makeSweep(p: Matrix, v: Matrix): Sweep {
  if (p.isContiguous) {
    return { source: p, w: [p.data.subarray(p.offset, p.offset + p.size)], v: [v.data] };
  }
  const w: Float32Array[] = [];
  const vs: Float32Array[] = [];
  for (let i = 0; i < p.rows; i++) {
    w.push(p.row(i));
    vs.push(v.row(i));
  }
  return { source: p, w, v: vs };
}

/**
 * Stochastic gradient descent with momentum and coupled weight decay, with exactly the semantics of
 * `torch.optim.SGD` (nesterov = false). For each parameter p whose gradient g was written in this step:
 *
 * ```text
 * d = g + weightDecay * p
 * if momentum != 0: buf = (first step of p) ? d : momentum * buf + (1 - dampening) * d;  d = buf
 * p -= lr * d
 * ```
 *
 * As a {@link GradientSink} it needs no gradient buffer: `addOuter` writes g straight into the per-parameter
 * buffer v that then becomes the momentum buffer. Its first call for a parameter in a step uses gemm's
 * beta = momentum (or 0 on the parameter's first step, or without momentum) with alpha scaled by
 * (1 - dampening) when beta = momentum; later calls in the step accumulate (beta = 1, same scaling).
 * {@link Sgd.step} then adds the decay and moves the parameter in one sweep per buffer. Parameters not
 * written in a step are left alone (no decay, momentum unchanged), like PyTorch parameters without a grad.
 * Biases are updated the same way, weight decay included. Nothing is allocated per step except the row of
 * ones for bias sums, when a larger batch than any before appears.
 */
export class Sgd extends Optimizer {
  readonly kind = 'sgd';
  /** The validated options; `options.lr` is the initial learning rate. */
  readonly options: ResolvedSgdOptions;
  private readonly buffers: Matrix[];
  private readonly biasBuffers: (Matrix | null)[];
  private readonly weightSweeps: Sweep[];
  private readonly biasSweeps: (Sweep | null)[];
  /** 1 where addOuter wrote the parameter in the current step. */
  private readonly touched: Uint8Array;
  /** 1 where the parameter has stepped before (its buffer holds a momentum buffer). */
  private readonly stepped: Uint8Array;
  private readonly ones: OnesRow;

  /**
   * @param engine - computes the products and the update sweeps
   * @param params - the parameters to update in place (read again at every step, so replacing a matrix of
   *   the same shape in the set is allowed)
   * @param options - learning rate, momentum, weight decay, dampening
   */
  constructor(
    private readonly engine: Engine,
    params: ParameterSet,
    options: SgdOptions,
  ) {
    super(params, resolveSgdOptions(options).lr);
    this.options = resolveSgdOptions(options);
    checkParameterSet(params, 'Sgd');
    this.ones = new OnesRow(engine);
    const { weights, biases } = allocateLike(params, engine);
    this.buffers = weights;
    this.biasBuffers = biases;
    this.weightSweeps = params.weights.map((w, i) => makeSweep(w, weights[i]!));
    this.biasSweeps = params.biases.map((b, i) => (b ? makeSweep(b, biases[i]!) : null));
    this.touched = new Uint8Array(weights.length);
    this.stepped = new Uint8Array(weights.length);
  }

  protected get pending(): boolean {
    return this.touched.includes(1);
  }

  protected namedBuffers(): Record<string, Matrix> {
    return nameBuffers('momentum', this.buffers, this.biasBuffers);
  }

  protected counters(): { get(): number[]; set(values: number[]): void } {
    return {
      get: () => Array.from(this.stepped),
      set: (values) => {
        this.stepped.set(values.map((v) => (v ? 1 : 0)));
        this.touched.fill(0);
      },
    };
  }

  /** Adds alpha * post^T pre to parameter `index`'s gradient, and alpha * colsum(post) to its bias's. */
  addOuter(index: number, alpha: number, post: Matrix, pre: Matrix): void {
    const v = checkOuterArgs('Sgd.addOuter', index, this.buffers, post, pre);
    const { momentum, dampening } = this.options;
    // A live momentum buffer is decayed by the first write of the step and receives (1 - dampening) * g.
    const resumed = momentum !== 0 && this.stepped[index] === 1;
    const beta = this.touched[index] === 1 ? 1 : resumed ? momentum : 0;
    const scaled = resumed ? alpha * (1 - dampening) : alpha;
    writeOuter(this.engine, this.ones, scaled, post, pre, beta, v, this.biasBuffers[index] ?? null);
    this.touched[index] = 1;
  }

  /** Adds alpha * U to parameter `index`'s gradient through `write` (see {@link GradientSink.addUpdate}). */
  addUpdate(index: number, alpha: number, write: UpdateWriter): void {
    const v = checkUpdateIndex('Sgd.addUpdate', index, this.buffers);
    const { momentum, dampening } = this.options;
    const resumed = momentum !== 0 && this.stepped[index] === 1;
    const beta = this.touched[index] === 1 ? 1 : resumed ? momentum : 0;
    write(resumed ? alpha * (1 - dampening) : alpha, beta, v);
    this.touched[index] = 1;
  }

  /** Updates every parameter written since the last step, then starts a new step. */
  step(): void {
    const { momentum, dampening, weightDecay } = this.options;
    const lr = this.lr;
    for (let i = 0; i < this.touched.length; i++) {
      if (this.touched[i] !== 1) continue;
      // v already holds momentum * buf + (1 - dampening) * g, so the decay term gets the same damping.
      const wd = momentum !== 0 && this.stepped[i] === 1 ? weightDecay * (1 - dampening) : weightDecay;
      this.sweep(this.weightSweeps, i, this.params.weights[i], this.buffers[i]!, lr, wd);
      const vb = this.biasBuffers[i];
      if (vb) this.sweep(this.biasSweeps, i, this.params.biases[i], vb, lr, wd);
      this.stepped[i] = 1;
      this.touched[i] = 0;
    }
  }

  /**
   * Exact copies of the momentum buffers, the stepped flags and the learning rate, for a checkpoint. Call it
   * between steps: it throws when updates have been written but not yet applied.
   */
  state(): SgdState {
    this.checkNoPendingUpdates('state');
    return {
      lr: this.lr,
      stepped: Array.from(this.stepped, (s) => s === 1),
      buffers: this.buffers.map((v) => v.data.slice()),
      biasBuffers: this.biasBuffers.map((v) => (v ? v.data.slice() : null)),
    };
  }

  /**
   * Restores a state from {@link Sgd.state} (copying it), including the learning rate, for an optimiser over
   * parameters of the same shapes. Updates written but not yet applied are discarded.
   */
  loadState(state: SgdState): void {
    const n = this.buffers.length;
    const fail = (what: string): never => {
      throw new TopdownUsageError(`Sgd.loadState: ${what}`);
    };
    if (state.stepped.length !== n || state.buffers.length !== n || state.biasBuffers.length !== n) {
      fail(`the state is for a different number of parameters (expected ${n})`);
    }
    checkLr(state.lr);
    for (let i = 0; i < n; i++) {
      if (state.buffers[i]!.length !== this.buffers[i]!.size) {
        fail(`buffer ${i} has ${state.buffers[i]!.length} elements, expected ${this.buffers[i]!.size}`);
      }
      const sb = state.biasBuffers[i] ?? null;
      const vb = this.biasBuffers[i] ?? null;
      if ((sb === null) !== (vb === null) || (sb && vb && sb.length !== vb.size)) {
        fail(`bias buffer ${i} does not match the parameter's bias`);
      }
    }
    for (let i = 0; i < n; i++) {
      this.buffers[i]!.data.set(state.buffers[i]!);
      const sb = state.biasBuffers[i];
      if (sb) this.biasBuffers[i]!.data.set(sb);
      this.stepped[i] = state.stepped[i] ? 1 : 0;
    }
    this.touched.fill(0);
    this.lr = state.lr;
  }

  private checkNoPendingUpdates(what: string): void {
    if (this.touched.includes(1)) {
      throw new TopdownUsageError(
        `Sgd.${what}() called with updates written but not applied; call step() first`,
      );
    }
  }

  private sweep(
    sweeps: (Sweep | null)[],
    i: number,
    p: Matrix | null | undefined,
    v: Matrix,
    lr: number,
    weightDecay: number,
  ): void {
    let s = sweeps[i];
    if (!s || p !== s.source) {
      // The set's matrix was replaced (e.g. by loading weights): rebuild the cached slices once.
      if (!p || p.rows !== v.rows || p.cols !== v.cols) {
        throw new TopdownUsageError(
          `Sgd.step: parameter ${i} was replaced by a matrix of a different shape (expected ${v.rows}x${v.cols})`,
        );
      }
      s = makeSweep(p, v);
      sweeps[i] = s;
    }
    for (let r = 0; r < s.w.length; r++)
      this.engine.run('sgdUpdate', { w: s.w[r]!, v: s.v[r]!, lr, weightDecay });
  }
}
