/**
 * The forward pass into preallocated buffers, recording what the learning rules need: pre-activations a_l,
 * block outputs h_l (after activation, dropout and normalisation), pre-normalisation outputs and norms.
 */
import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';
import type { Rng } from '../core/rng.js';

import { activate, activationDerivative, type ActivationName } from './activations.js';
import { Conv2d, convOutput, MaxPool2 } from './conv.js';
import type { Network, Normalization } from './network.js';

/** Smallest norm divided by; an all-zero activity stays zero instead of becoming NaN. */
const NORM_FLOOR = 1e-30;

/**
 * Dropout masks for the hidden layers of one training step, values 0 or 1/keep. Held fixed across all the
 * passes of the step (the paper's consistent dropout) until {@link DropoutMasks.draw} is called again.
 */
export class DropoutMasks {
  readonly keep: number;
  /** One maxBatch x d_l mask per hidden layer (index 0..L-2). */
  readonly masks: Float32Array[];

  constructor(
    net: Network,
    readonly maxBatch: number,
    memory: FloatAllocator = HEAP,
  ) {
    this.keep = 1 - net.config.dropout;
    this.masks = [];
    for (let l = 0; l + 1 < net.depth; l++) this.masks.push(memory.floats(maxBatch * net.width(l + 1)));
  }

  /** Draws fresh masks for the first `rows` samples. */
  draw(rng: Rng, rows = this.maxBatch): void {
    for (const mask of this.masks)
      rng.fillDropoutMask(mask.subarray(0, (rows * mask.length) / this.maxBatch), this.keep);
  }
}

/** Buffers for one forward pass over batches of up to `maxBatch` rows. */
export class ForwardState {
  readonly maxBatch: number;
  /** a_l (pre-activation), index 0..L-1, maxBatch x d_l (a convolution's: maxBatch x filters positions). */
  readonly pre: Matrix[];
  /**
   * A pooled convolution's activation before its pooling (maxBatch x filters positions), computed when
   * {@link ForwardState.activityView} asks for it; null elsewhere.
   */
  readonly activated: (Matrix | null)[];
  /**
   * A pooled convolution's pre-activation pooled (maxBatch x d_l): the block pools a_l, then activates (the
   * same h_l for any non-decreasing activation, with a quarter of the activations), null elsewhere.
   */
  readonly pooledPre: (Matrix | null)[];
  /** Whether `activated[l]` holds the current pass's activation. */
  private readonly activatedFresh: boolean[];
  /** Each convolution layer's lowering (it keeps the pass's patches for the weight gradients); null for dense. */
  readonly convs: (Conv2d | null)[];
  /** Each pooled convolution's pooling (it keeps where the maxima were); null elsewhere. */
  readonly pools: (MaxPool2 | null)[];
  /** h_l (block output), index 0..L-1, maxBatch x d_l. */
  readonly post: Matrix[];
  /** Block outputs before normalisation (hidden layers; null without normalisation). */
  readonly unnormalized: (Matrix | null)[];
  /** Norms used by normalisation: one per sample (sample-l2) or one in all (batch-frobenius). */
  readonly norms: (Float64Array | null)[];
  /** The squared norms behind `norms` (sum of squares of the activity before normalisation, in float64). */
  readonly squares: (Float64Array | null)[];
  /** Rows of the current batch. */
  rows = 0;
  private inputMatrix: Matrix;
  private viewRows = -1;
  private preViews: Matrix[] = [];
  private postViews: Matrix[] = [];

  /**
   * @param memory - where the buffers live (the engine's memory, for the engine that computes on them)
   * @param keepPatches - keep the convolutions' patches for weight gradients (false for evaluation passes)
   */
  constructor(
    readonly net: Network,
    maxBatch: number,
    memory: FloatAllocator = HEAP,
    keepPatches = true,
  ) {
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1)
      throw new TopdownUsageError(`batch size must be >= 1`);
    this.maxBatch = maxBatch;
    const norm = net.config.normalization;
    this.pre = [];
    this.post = [];
    this.unnormalized = [];
    this.norms = [];
    this.squares = [];
    this.activated = [];
    this.pooledPre = [];
    this.activatedFresh = [];
    this.convs = [];
    this.pools = [];
    for (let l = 0; l < net.depth; l++) {
      const d = net.width(l + 1);
      const layer = net.layers[l]!;
      this.pre.push(Matrix.zeros(maxBatch, layer.preWidth, memory));
      this.convs.push(
        layer.kind === 'conv' ? new Conv2d(layer.geometry, maxBatch, memory, keepPatches) : null,
      );
      const pooled = layer.kind === 'conv' && layer.pool;
      this.activated.push(pooled ? Matrix.zeros(maxBatch, layer.preWidth, memory) : null);
      this.pooledPre.push(pooled ? Matrix.zeros(maxBatch, d, memory) : null);
      this.activatedFresh.push(false);
      if (pooled) {
        const out = convOutput(layer.geometry);
        this.pools.push(new MaxPool2(layer.geometry.filters, out.height, out.width, maxBatch));
      } else this.pools.push(null);
      this.post.push(Matrix.zeros(maxBatch, d, memory));
      const hidden = l + 1 < net.depth;
      this.unnormalized.push(hidden && norm !== 'none' ? Matrix.zeros(maxBatch, d, memory) : null);
      const groups = norm === 'batch-frobenius' ? 1 : maxBatch;
      this.norms.push(hidden && norm !== 'none' ? new Float64Array(groups) : null);
      this.squares.push(hidden && norm !== 'none' ? new Float64Array(groups) : null);
    }
    this.inputMatrix = new Matrix(0, net.width(0));
  }

  /** Sets the input batch (referenced, not copied) and the row count. */
  setInput(x: Matrix): void {
    if (x.cols !== this.net.width(0)) {
      throw new TopdownUsageError(
        `input has ${x.cols} features but the network expects ${this.net.width(0)}`,
      );
    }
    if (x.rows > this.maxBatch)
      throw new TopdownUsageError(`batch of ${x.rows} exceeds the buffers' ${this.maxBatch}`);
    this.inputMatrix = x;
    this.rows = x.rows;
  }

  /** h_0, the input batch. */
  get input(): Matrix {
    return this.inputMatrix;
  }

  /** a_l for the current rows (l = 0..L-1). Views are cached while the row count stays the same. */
  preView(l: number): Matrix {
    this.refreshViews();
    return this.preViews[l]!;
  }

  /** h_l for the current rows; l = -1 gives the input h_0. */
  postView(l: number): Matrix {
    if (l < 0) return this.inputMatrix;
    this.refreshViews();
    return this.postViews[l]!;
  }

  /**
   * What layer l's activity is for updates built from activities (PEPITA's): a pooled convolution's
   * activation before its pooling (filters x positions per row); every other layer's h_l.
   */
  activityView(l: number): Matrix {
    const act = this.activated[l];
    if (!act) return this.postView(l);
    if (!this.activatedFresh[l]) {
      applyActivation(this.net.activationOf(l), this.pre[l]!.data, act.data, this.rows, act.cols);
      this.activatedFresh[l] = true;
    }
    return act.view(0, 0, this.rows, act.cols);
  }

  /**
   * out = this pass's {@link ForwardState.activityView} of layer l minus `other`'s (the same rows), in one
   * sweep: a pooled convolution's activations before pooling are taken from the two pre-activations without
   * being stored.
   */
  activityDifference(engine: Engine, other: ForwardState, l: number, out: Matrix): void {
    const act = this.activated[l];
    const n = this.rows * (act ? act.cols : this.net.width(l + 1));
    const od = out.data;
    if (!act) {
      const a = this.post[l]!.data;
      const b = other.post[l]!.data;
      for (let i = 0; i < n; i++) od[i] = a[i]! - b[i]!;
      return;
    }
    const a = this.pre[l]!.data;
    const b = other.pre[l]!.data;
    if (this.net.activationOf(l) === 'relu') {
      engine.run('reluDifference', { n, a, aOff: 0, b, bOff: 0, out: od, outOff: 0 });
      return;
    }
    const pa = this.activityView(l).data;
    const pb = other.activityView(l).data;
    for (let i = 0; i < n; i++) od[i] = pa[i]! - pb[i]!;
  }

  /** Marks layer l's activation before pooling as out of date (a new pass went through the layer). */
  markPassed(l: number): void {
    this.activatedFresh[l] = false;
  }

  /** The network output h_L for the current rows. */
  get output(): Matrix {
    return this.postView(this.net.depth - 1);
  }

  private refreshViews(): void {
    if (this.viewRows === this.rows) return;
    this.preViews = this.pre.map((m) => m.view(0, 0, this.rows, m.cols));
    this.postViews = this.post.map((m) => m.view(0, 0, this.rows, m.cols));
    this.viewRows = this.rows;
  }
}

/** a_l = h_{l-1} W_l^T + b_l for the current rows of `state`. */
export function computePreActivation(engine: Engine, state: ForwardState, l: number): void {
  const net = state.net;
  const w = net.weights[l]!;
  const prev = state.postView(l - 1);
  const conv = state.convs[l];
  if (conv) {
    conv.forward(engine, prev, w, state.preView(l));
    return;
  }
  const a = state.pre[l]!;
  const rows = state.rows;
  const bias = net.biases[l];
  if (bias) {
    for (let r = 0; r < rows; r++) a.data.set(bias.data.subarray(0, w.rows), r * w.rows);
  }
  engine.sgemm(
    false,
    true,
    rows,
    w.rows,
    w.cols,
    1,
    prev.data,
    prev.offset,
    prev.stride,
    w.data,
    0,
    w.cols,
    bias ? 1 : 0,
    a.data,
    0,
    w.rows,
  );
}

/** h_l from a_l: activation, then (hidden layers) dropout and normalisation. */
export function finishLayer(
  engine: Engine,
  state: ForwardState,
  l: number,
  masks: DropoutMasks | null,
): void {
  const net = state.net;
  if (state.convs[l]) {
    finishConvLayer(engine, state, l, masks);
    return;
  }
  const d = net.width(l + 1);
  const rows = state.rows;
  const n = rows * d;
  const hidden = l + 1 < net.depth;
  const unnormalized = state.unnormalized[l];
  const target = unnormalized ? unnormalized.data : state.post[l]!.data;
  const act = net.activationOf(l);
  const a = state.pre[l]!.data;
  if (hidden && masks && net.config.dropout > 0) {
    const mask = masks.masks[l]!;
    if (act === 'relu') {
      // one pass for the common case: relu and the dropout mask together, without branches (half the signs
      // of a map mispredict one); negatives become -0, NaN stays NaN
      for (let i = 0; i < n; i++) {
        const v = a[i]!;
        target[i] = v * +(v > 0) * mask[i]!;
      }
    } else {
      activate(act, a, target, rows, d);
      for (let i = 0; i < n; i++) target[i] = target[i]! * mask[i]!;
    }
  } else if (unnormalized && act === 'relu' && net.config.normalization !== 'batch-frobenius') {
    // one pass for Forward-Forward's layers: relu and the squared norm together, then the scaling
    const length = net.config.normalization === 'sample-rms' ? Math.sqrt(d) : 1;
    const [norms, squares] = [state.norms[l]!, state.squares[l]!];
    engine.run('reluNormalizeRows', {
      a,
      g: target,
      h: state.post[l]!.data,
      rows,
      d,
      target: length,
      floor: NORM_FLOOR,
      norms,
      squares,
    });
    return;
  } else {
    activate(act, a, target, rows, d);
  }
  if (unnormalized) normalize(state, l, unnormalized.data, state.post[l]!.data, rows, d);
}

/** h = act(a) over rows x cols values; relu without branches (half the signs of a map mispredict one). */
function applyActivation(
  act: ActivationName,
  a: Float32Array,
  h: Float32Array,
  rows: number,
  cols: number,
): void {
  if (act !== 'relu') {
    activate(act, a, h, rows, cols);
    return;
  }
  // negatives become -0 (as good as 0 in every later sum and product), NaN stays NaN
  for (let i = 0, n = rows * cols; i < n; i++) {
    const v = a[i]!;
    h[i] = v * +(v > 0);
  }
}

/**
 * A convolution block: activation (for a pooled one: 2x2 max-pooling of a_l, then the activation, equal to
 * pooling the activation for the non-decreasing activations there are), dropout and normalisation.
 */
function finishConvLayer(engine: Engine, state: ForwardState, l: number, masks: DropoutMasks | null): void {
  const net = state.net;
  const rows = state.rows;
  const d = net.width(l + 1);
  const unnormalized = state.unnormalized[l];
  const out = unnormalized ?? state.post[l]!;
  const pooledPre = state.pooledPre[l];
  const preWidth = net.preWidth(l);
  const act = net.activationOf(l);
  state.markPassed(l);
  if (pooledPre) {
    state.pools[l]!.forward(engine, state.preView(l), pooledPre.view(0, 0, rows, d));
    applyActivation(act, pooledPre.data, out.data, rows, d);
  } else applyActivation(act, state.pre[l]!.data, out.data, rows, preWidth);
  if (masks && net.config.dropout > 0 && l + 1 < net.depth) {
    const mask = masks.masks[l]!;
    const target = out.data;
    for (let i = 0; i < rows * d; i++) target[i] = target[i]! * mask[i]!;
  }
  if (unnormalized) normalize(state, l, unnormalized.data, state.post[l]!.data, rows, d);
}

function normalize(
  state: ForwardState,
  l: number,
  g: Float32Array,
  h: Float32Array,
  rows: number,
  d: number,
): void {
  normalizeActivity(state.net.config.normalization, g, h, rows, d, state.norms[l]!, state.squares[l]!);
}

/**
 * h = g / ||g|| per sample (`sample-l2`), h = sqrt(d) g / ||g|| per sample (`sample-rms`) or h = g / ||g|| over
 * the whole rows x d block (`batch-frobenius`), recording the
 * norms (rows of them, or one). A zero activity stays zero.
 */
export function normalizeActivity(
  kind: Normalization,
  g: Float32Array,
  h: Float32Array,
  rows: number,
  d: number,
  norms: Float64Array,
  squares?: Float64Array,
): void {
  if (kind === 'none') throw new TopdownUsageError('normalizeActivity called without a normalisation');
  const perSample = kind !== 'batch-frobenius';
  const groups = perSample ? rows : 1;
  const len = perSample ? d : rows * d;
  const target = kind === 'sample-rms' ? Math.sqrt(d) : 1;
  for (let k = 0; k < groups; k++) {
    const o = k * len;
    let s = 0;
    for (let j = o; j < o + len; j++) s += g[j]! * g[j]!;
    const norm = Math.sqrt(s);
    norms[k] = norm;
    if (squares) squares[k] = s;
    const inv = target / Math.max(norm, NORM_FLOOR);
    for (let j = o; j < o + len; j++) h[j] = g[j]! * inv;
  }
}

/**
 * Applies the (symmetric) Jacobian of the normalisation of hidden layer l to `v` in place:
 * v <- (v - h <h, v>) / ||g|| per normalisation group.
 */
function normalizationJacobian(state: ForwardState, l: number, v: Float32Array): void {
  const norms = state.norms[l];
  if (!norms) return;
  const h = state.post[l]!.data;
  const d = state.net.width(l + 1);
  const kind = state.net.config.normalization;
  const perSample = kind !== 'batch-frobenius';
  const groups = perSample ? state.rows : 1;
  const len = perSample ? d : state.rows * d;
  // h = s g / ||g|| with s = sqrt(d) (sample-rms) or 1: J = (s / ||g||) (I - u u^T), u = h / s
  const s = kind === 'sample-rms' ? Math.sqrt(d) : 1;
  for (let k = 0; k < groups; k++) {
    const o = k * len;
    let dot = 0;
    for (let j = o; j < o + len; j++) dot += h[j]! * v[j]!;
    dot /= s * s;
    const norm = norms[k]!;
    const inv = norm > NORM_FLOOR ? s / norm : 0;
    for (let j = o; j < o + len; j++) v[j] = (v[j]! - h[j]! * dot) * inv;
  }
}

/** v <- v * act'(a_l) * dropout mask (the diagonal part of hidden block l's Jacobian). */
function diagonalJacobian(
  state: ForwardState,
  l: number,
  v: Float32Array,
  masks: DropoutMasks | null,
  scratch: Float32Array,
): void {
  const net = state.net;
  const d = net.width(l + 1);
  const rows = state.rows;
  const n = rows * d;
  const act = net.activationOf(l);
  const a = state.pre[l]!.data;
  const mask = masks && net.config.dropout > 0 ? masks.masks[l]! : null;
  if (act === 'relu') {
    // one pass, without branches (half the signs of a map mispredict one): the derivative is a 0/1 factor
    if (mask) for (let i = 0; i < n; i++) v[i] = v[i]! * mask[i]! * +(a[i]! > 0);
    else for (let i = 0; i < n; i++) v[i] = v[i]! * +(a[i]! > 0);
    return;
  }
  if (mask) for (let i = 0; i < n; i++) v[i] = v[i]! * mask[i]!;
  if (act === 'identity') return;
  // tanh and sigmoid derivatives need the activation's own output (before dropout and normalisation).
  activate(act, a, scratch, rows, d);
  activationDerivative(act, a, scratch, scratch, n);
  for (let i = 0; i < n; i++) v[i] = v[i]! * scratch[i]!;
}

/** Runs layers from..L-1 (a_l then h_l), using the input or outputs already in `state`. */
export function forwardFrom(
  engine: Engine,
  state: ForwardState,
  from: number,
  masks: DropoutMasks | null,
): void {
  for (let l = from; l < state.net.depth; l++) {
    computePreActivation(engine, state, l);
    finishLayer(engine, state, l, masks);
  }
}

/**
 * The full forward pass of `x` (b x d_0) through `state.net`, recording everything in `state`; `masks` null
 * means no dropout (evaluation). Returns the output h_L (a view into `state`).
 */
export function forward(engine: Engine, state: ForwardState, x: Matrix, masks: DropoutMasks | null): Matrix {
  state.setInput(x);
  forwardFrom(engine, state, 0, masks);
  return state.output;
}

/**
 * Turns dL/dh_l (in `grad`, current rows x d_l, contiguous) into dL/da_l, back through normalisation,
 * dropout and the activation of hidden layer l: in place, or into `out` (a convolution's a_l is wider than
 * its pooled h_l: rows x filters positions; `grad` is then overwritten). `scratch` holds at least rows x
 * (the wider of d_l and a_l's width) values.
 */
export function backpropThroughBlock(
  engine: Engine,
  state: ForwardState,
  l: number,
  grad: Float32Array,
  masks: DropoutMasks | null,
  scratch: Float32Array,
  out: Float32Array = grad,
): void {
  normalizationJacobian(state, l, grad);
  if (!state.convs[l]) {
    diagonalJacobian(state, l, grad, masks, scratch);
    if (out !== grad) out.set(grad.subarray(0, state.rows * state.net.width(l + 1)));
    return;
  }
  const net = state.net;
  const rows = state.rows;
  const d = net.width(l + 1);
  if (masks && net.config.dropout > 0) {
    const mask = masks.masks[l]!;
    for (let i = 0; i < rows * d; i++) grad[i] = grad[i]! * mask[i]!;
  }
  const preWidth = net.preWidth(l);
  const pool = state.pools[l];
  const act = net.activationOf(l);
  if (pool) {
    // through the activation at the pooled pre-activations, then to where each maximum was
    activationJacobian(act, state.pooledPre[l]!.data, grad, rows, d, scratch);
    pool.backward(engine, new Matrix(rows, d, grad, 0, d), new Matrix(rows, preWidth, out, 0, preWidth));
    return;
  }
  if (out !== grad) out.set(grad.subarray(0, rows * d));
  activationJacobian(act, state.pre[l]!.data, out, rows, preWidth, scratch);
}

/** v <- v * act'(a) over rows x cols values. */
function activationJacobian(
  act: ActivationName,
  a: Float32Array,
  v: Float32Array,
  rows: number,
  cols: number,
  scratch: Float32Array,
): void {
  const n = rows * cols;
  if (act === 'identity') return;
  if (act === 'relu') {
    for (let i = 0; i < n; i++) v[i] = v[i]! * +(a[i]! > 0); // branch-free, as applyActivation
    return;
  }
  activate(act, a, scratch, rows, cols);
  activationDerivative(act, a, scratch, scratch, n);
  for (let i = 0; i < n; i++) v[i] = v[i]! * scratch[i]!;
}

/**
 * Forward-mode counterpart: turns a perturbation of a_l (in `tangent`) into the resulting perturbation of h_l,
 * in place: activation derivative and dropout, then normalisation.
 */
export function tangentThroughBlock(
  state: ForwardState,
  l: number,
  tangent: Float32Array,
  masks: DropoutMasks | null,
  scratch: Float32Array,
): void {
  if (state.convs[l])
    throw new TopdownUsageError('forward-mode tangents go through fully connected layers only');
  diagonalJacobian(state, l, tangent, masks, scratch);
  normalizationJacobian(state, l, tangent);
}
