/**
 * Alignment angles (spec 7.1 and the gradient-alignment diagnostics): the angle between two matrices seen as
 * vectors, between F and the forward product (W_L ... W_1)^T, per layer between W_l^T and the feedback factor
 * F_l, and between a learning rule's update and the true (backprop) gradient.
 *
 * Every sum runs in float64 over the float32 views (offsets and strides respected); nothing is transposed or
 * copied except the forward product itself.
 */
import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { Matrix } from '../core/matrix.js';

const DEGREES_PER_RADIAN = 180 / Math.PI;

/** Running float64 sums for a cosine: <a, b>, ||a||^2 and ||b||^2. */
interface CosineSums {
  dot: number;
  aa: number;
  bb: number;
}

/**
 * The angle in degrees whose cosine is dot / (sqrt(aa) sqrt(bb)), the cosine clamped to [-1, 1] (rounding can
 * push it slightly outside). NaN when either squared norm is 0, or when any sum is NaN.
 */
function degreesFromSums({ dot, aa, bb }: CosineSums): number {
  if (aa === 0 || bb === 0) return NaN;
  const cosine = dot / (Math.sqrt(aa) * Math.sqrt(bb));
  // Math.min/max propagate NaN, so a NaN cosine stays NaN.
  return Math.acos(Math.min(1, Math.max(-1, cosine))) * DEGREES_PER_RADIAN;
}

/** Adds <vec a, vec b>, ||a||^2 and ||b||^2 (same shapes, already checked) to `sums`. */
function accumulate(a: Matrix, b: Matrix, sums: CosineSums): void {
  const ad = a.data;
  const bd = b.data;
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.rows; i++) {
    const ai = a.offset + i * a.stride;
    const bi = b.offset + i * b.stride;
    for (let j = 0; j < a.cols; j++) {
      const x = ad[ai + j]!;
      const y = bd[bi + j]!;
      dot += x * y;
      aa += x * x;
      bb += y * y;
    }
  }
  sums.dot += dot;
  sums.aa += aa;
  sums.bb += bb;
}

function checkSameShape(what: string, a: Matrix, b: Matrix): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new TopdownUsageError(`${what}: shapes differ (${a.rows}x${a.cols} vs ${b.rows}x${b.cols})`);
  }
}

/**
 * The angle in degrees between vec(a) and vec(b):
 * (180 / pi) arccos(<vec a, vec b> / (||a||_F ||b||_F)), computed in float64 with the cosine clamped to
 * [-1, 1]. 0 means parallel, 90 orthogonal, 180 anti-parallel; invariant to positive scaling of either
 * argument.
 *
 * @returns NaN when either matrix has norm 0 (or holds NaN)
 * @throws {@link TopdownUsageError} when the shapes differ
 */
export function angleDegrees(a: Matrix, b: Matrix): number {
  checkSameShape('angleDegrees', a, b);
  const sums = { dot: 0, aa: 0, bb: 0 };
  accumulate(a, b, sums);
  return degreesFromSums(sums);
}

/**
 * The angle in degrees between vec(a) and vec(b^T), without materialising b^T: a is r x c and b is c x r.
 * Same conventions as {@link angleDegrees}.
 *
 * @throws {@link TopdownUsageError} unless b has the shape of a^T
 */
export function angleDegreesTransposed(a: Matrix, b: Matrix): number {
  if (a.rows !== b.cols || a.cols !== b.rows) {
    throw new TopdownUsageError(
      `angleDegreesTransposed: b must be ${a.cols}x${a.rows} (the shape of a^T), got ${b.rows}x${b.cols}`,
    );
  }
  const ad = a.data;
  const bd = b.data;
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.rows; i++) {
    const ai = a.offset + i * a.stride;
    for (let j = 0; j < a.cols; j++) {
      const x = ad[ai + j]!;
      const y = bd[b.offset + j * b.stride + i]!; // (b^T)[i, j] = b[j, i]
      dot += x * y;
      aa += x * x;
      bb += y * y;
    }
  }
  return degreesFromSums({ dot, aa, bb });
}

/** Throws unless `weights` is a non-empty chain W_1 (d_1 x d_0), ..., W_L (d_L x d_{L-1}). */
function checkChain(what: string, weights: readonly Matrix[]): void {
  if (weights.length === 0) throw new TopdownUsageError(`${what}: at least one weight matrix is needed`);
  for (let l = 1; l < weights.length; l++) {
    const prev = weights[l - 1]!;
    const w = weights[l]!;
    if (w.cols !== prev.rows) {
      throw new TopdownUsageError(
        `${what}: W_${l + 1} is ${w.rows}x${w.cols} but W_${l} has ${prev.rows} rows; ` +
          `expected W_${l + 1} to have ${prev.rows} columns`,
      );
    }
  }
}

/**
 * The forward product W_L ... W_2 W_1 (d_L x d_0) of `weights` = [W_1, ..., W_L] (W_l is d_l x d_{l-1}),
 * computed with `engine` from the output side, (((W_L W_{L-1}) W_{L-2}) ...) W_1, which costs
 * d_L sum_{l<L} d_l d_{l-1} multiply-adds (cheap because d_L, the number of classes, is small).
 *
 * @returns a new contiguous d_L x d_0 matrix (a copy of W_1 when L = 1)
 * @throws {@link TopdownUsageError} when the list is empty or consecutive shapes do not chain
 */
export function forwardProduct(engine: Engine, weights: readonly Matrix[]): Matrix {
  checkChain('forwardProduct', weights);
  const last = weights[weights.length - 1]!;
  let acc = last.clone();
  for (let l = weights.length - 2; l >= 0; l--) {
    const w = weights[l]!;
    const next = new Matrix(acc.rows, w.cols);
    engine.gemm(false, false, acc.rows, w.cols, w.rows, 1, acc, w, 0, next);
    acc = next;
  }
  return acc;
}

/**
 * Spec 7.1: the angle in degrees between (W_L ... W_1)^T and the feedback matrix F (stored d_0 x d_L).
 * With the modulation x - F e, alignment shows as a small angle; with x + F e as an angle near 180.
 *
 * @param engine - computes the forward product
 * @param weights - [W_1, ..., W_L]
 * @param feedback - F, d_0 x d_L
 * @throws {@link TopdownUsageError} on shapes that do not fit
 */
export function feedbackAlignmentAngle(engine: Engine, weights: readonly Matrix[], feedback: Matrix): number {
  checkChain('feedbackAlignmentAngle', weights);
  const d0 = weights[0]!.cols;
  const dL = weights[weights.length - 1]!.rows;
  if (feedback.rows !== d0 || feedback.cols !== dL) {
    throw new TopdownUsageError(
      `feedbackAlignmentAngle: F must be ${d0}x${dL} (d_0 x d_L), got ${feedback.rows}x${feedback.cols}`,
    );
  }
  return angleDegreesTransposed(feedback, forwardProduct(engine, weights));
}

/**
 * Spec 7.1, factorised F = F_1 ... F_L: per layer l, the angle in degrees between W_l^T and F_l
 * (F_l is d_{l-1} x d_l, W_l is d_l x d_{l-1}). Element l - 1 of the result is layer l's angle.
 *
 * @throws {@link TopdownUsageError} when the lists differ in length or a factor is not shaped like W_l^T
 */
export function layerAlignmentAngles(weights: readonly Matrix[], factors: readonly Matrix[]): number[] {
  if (weights.length !== factors.length) {
    throw new TopdownUsageError(
      `layerAlignmentAngles: ${weights.length} weight matrices but ${factors.length} feedback factors`,
    );
  }
  return weights.map((w, l) => {
    const f = factors[l]!;
    if (f.rows !== w.cols || f.cols !== w.rows) {
      throw new TopdownUsageError(
        `layerAlignmentAngles: F_${l + 1} must be ${w.cols}x${w.rows} (the shape of W_${l + 1}^T), ` +
          `got ${f.rows}x${f.cols}`,
      );
    }
    return angleDegreesTransposed(f, w);
  });
}

/** Result of {@link updateAngles}. */
export interface UpdateAngles {
  /** Angle in degrees between a[l] and b[l], per layer (NaN where either is zero). */
  perLayer: number[];
  /** Angle in degrees between the concatenations vec(a[0]) | vec(a[1]) | ... and the same of b. */
  total: number;
}

/**
 * Angles between two lists of same-shaped matrices, typically a learning rule's update and the true
 * (backprop) gradient on the same batch: per layer, and for all layers together (the angle between the
 * concatenated vectors, which weighs each layer by its norms rather than averaging the per-layer angles).
 *
 * @throws {@link TopdownUsageError} when the lists differ in length or a pair differs in shape
 */
export function updateAngles(a: readonly Matrix[], b: readonly Matrix[]): UpdateAngles {
  if (a.length !== b.length) {
    throw new TopdownUsageError(`updateAngles: ${a.length} matrices vs ${b.length}`);
  }
  const total = { dot: 0, aa: 0, bb: 0 };
  const perLayer = a.map((x, l) => {
    const y = b[l]!;
    checkSameShape(`updateAngles (layer ${l + 1})`, x, y);
    const sums = { dot: 0, aa: 0, bb: 0 };
    accumulate(x, y, sums);
    total.dot += sums.dot;
    total.aa += sums.aa;
    total.bb += sums.bb;
    return degreesFromSums(sums);
  });
  return { perLayer, total: degreesFromSums(total) };
}
