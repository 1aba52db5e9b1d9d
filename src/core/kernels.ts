/**
 * Elementwise kernels the learning rules need, on Float32Array ranges. Pure TypeScript: these passes are
 * memory-bound and shared by both engines. NaN inputs give NaN outputs throughout.
 */
import erf64 from '@stdlib/math-base-special-erf';

import { TopdownUsageError } from './errors.js';
import type { AdamArgs } from './kernel-args.js';
import type { Matrix } from './matrix.js';

function checkSameLength(x: Float32Array, out: Float32Array, what: string): void {
  if (x.length !== out.length) {
    throw new TopdownUsageError(`${what}: input has ${x.length} elements but output has ${out.length}`);
  }
}

/** out = max(x, 0) elementwise (out may be x). */
export function relu(x: Float32Array, out: Float32Array = x): Float32Array {
  checkSameLength(x, out, 'relu');
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = v < 0 ? 0 : v;
  }
  return out;
}

/** out = 1 where x > 0, 0 where x <= 0 (the ReLU derivative mask; NaN stays NaN). */
export function reluMask(x: Float32Array, out: Float32Array = x): Float32Array {
  checkSameLength(x, out, 'reluMask');
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    out[i] = v > 0 ? 1 : v <= 0 ? 0 : v;
  }
  return out;
}

/** out = x * mask elementwise (applies a derivative or dropout mask; out may alias either input). */
export function multiply(x: Float32Array, mask: Float32Array, out: Float32Array = x): Float32Array {
  checkSameLength(x, out, 'multiply');
  checkSameLength(mask, out, 'multiply');
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * mask[i]!;
  return out;
}

/** out = a - b elementwise (the error e = output - target, or the input modulation x - F e). */
export function subtract(a: Float32Array, b: Float32Array, out: Float32Array = a): Float32Array {
  checkSameLength(a, out, 'subtract');
  checkSameLength(b, out, 'subtract');
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}

/** The error function in float64 (W. J. Cody-grade accuracy, from stdlib's fdlibm port). */
export function erf(x: number): number {
  return erf64(x);
}

/** out = erf(x / scale) elementwise; the theory's activation is erf(x / sqrt(2)) (scale = Math.SQRT2). */
export function erfInPlace(x: Float32Array, out: Float32Array = x, scale = 1): Float32Array {
  checkSameLength(x, out, 'erf');
  const inv = 1 / scale;
  for (let i = 0; i < x.length; i++) out[i] = erf64(x[i]! * inv);
  return out;
}

/** out = d/dx erf(x / scale) = 2 / (sqrt(pi) * scale) * exp(-(x / scale)^2) elementwise. */
export function erfDerivative(x: Float32Array, out: Float32Array = x, scale = 1): Float32Array {
  checkSameLength(x, out, 'erfDerivative');
  const inv = 1 / scale;
  const factor = 2 / (Math.sqrt(Math.PI) * scale);
  for (let i = 0; i < x.length; i++) {
    const u = x[i]! * inv;
    out[i] = factor * Math.exp(-u * u);
  }
  return out;
}

/**
 * Row-wise softmax, numerically stable (subtracts each row's maximum). `out` may be `x`; both must have the
 * same shape. A row containing NaN becomes all NaN; a row of -Infinity except one finite entry gives a one-hot.
 */
export function softmaxRows(x: Matrix, out: Matrix = x): Matrix {
  if (x.rows !== out.rows || x.cols !== out.cols) {
    throw new TopdownUsageError(
      `softmaxRows: input is ${x.rows}x${x.cols} but output is ${out.rows}x${out.cols}`,
    );
  }
  const xs = x.data;
  const os = out.data;
  for (let i = 0; i < x.rows; i++) {
    const xi = x.offset + i * x.stride;
    const oi = out.offset + i * out.stride;
    let max = -Infinity;
    let hasNaN = false;
    for (let j = 0; j < x.cols; j++) {
      const v = xs[xi + j]!;
      if (v > max) max = v;
      else if (v !== v) hasNaN = true;
    }
    if (hasNaN || max === Infinity) {
      // exp(inf - inf) is NaN: a row with +Infinity has no finite softmax, and NaN poisons the row.
      for (let j = 0; j < x.cols; j++) os[oi + j] = hasNaN ? NaN : xs[xi + j] === Infinity ? NaN : 0;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < x.cols; j++) {
      const e = Math.exp(xs[xi + j]! - max);
      os[oi + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < x.cols; j++) os[oi + j] = os[oi + j]! * inv;
  }
  return out;
}

/** The signature of {@link reluDifference}, shared by the engines and the native addon. */
export type ReluDifferenceFn = (
  n: number,
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  out: Float32Array,
  outOff: number,
) => void;

/**
 * The difference of two ReLU activities from their pre-activations, n values from each offset:
 * out = a (a > 0) - b (b > 0) (NaN stays NaN; relu(-0) = -0 * 0 = -0).
 */
export const reluDifference: ReluDifferenceFn = (n, a, aOff, b, bOff, out, outOff) => {
  for (let i = 0; i < n; i++) {
    const u = a[aOff + i]!;
    const v = b[bOff + i]!;
    out[outOff + i] = u * +(u > 0) - v * +(v > 0);
  }
};

/**
 * Rows of a relu layer normalised per sample: g = relu(a); squares[r] = sum_j g_rj^2 (float64, in order);
 * norms[r] = sqrt(squares[r]); h = g * target / max(norm, floor) (in float64, then rounded).
 */
export function reluNormalizeRows(
  a: Float32Array,
  g: Float32Array,
  h: Float32Array,
  rows: number,
  d: number,
  target: number,
  floor: number,
  norms: Float64Array,
  squares: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let s = 0;
    for (let j = o; j < o + d; j++) {
      const v = a[j]!;
      const gj = v < 0 ? 0 : v;
      g[j] = gj;
      s += gj * gj;
    }
    const norm = Math.sqrt(s);
    squares[r] = s;
    norms[r] = norm;
    const inv = target / Math.max(norm, floor);
    for (let j = o; j < o + d; j++) h[j] = g[j]! * inv;
  }
}

/** y += alpha * x (same lengths; the sum formed in double, rounded once). */
export function axpy(alpha: number, x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) y[i] = y[i]! + alpha * x[i]!;
}

/** x *= alpha; alpha == 0 writes zeros (even over NaN). */
export function scal(alpha: number, x: Float32Array): void {
  if (alpha === 0) {
    x.fill(0);
    return;
  }
  for (let i = 0; i < x.length; i++) x[i] = alpha * x[i]!;
}

/** v += weightDecay * w, then w -= lr * v (same lengths), float32 rounding at each step. */
export function sgdSweep(w: Float32Array, v: Float32Array, lr: number, weightDecay: number): void {
  const f = Math.fround;
  const wd = f(weightDecay);
  const rate = f(lr);
  for (let i = 0; i < w.length; i++) {
    const vi = f(v[i]! + f(wd * w[i]!));
    v[i] = vi;
    w[i] = w[i]! - f(rate * vi);
  }
}

/** One Adam sweep, as `KERNELS.adamUpdate` declares it. */
export function adamSweep({ p, pOff, pStride, rows, cols, g, m, v, scalars: s }: AdamArgs): void {
  // float32 arithmetic, each operation rounded (Math.fround), as the native sweep computes without FMA
  const f = Math.fround;
  const beta1 = f(s.beta1);
  const beta2 = f(s.beta2);
  const wd = f(s.weightDecay);
  const eps = f(s.eps);
  const stepSize = f(s.stepSize);
  const invBc2Sqrt = f(s.invBc2Sqrt);
  // 1 - beta formed in double, then rounded, as PyTorch passes it
  const c1 = f(1 - s.beta1);
  const c2 = f(1 - s.beta2);
  for (let r = 0; r < rows; r++) {
    const pRow = pOff + r * pStride;
    const bRow = r * cols;
    for (let j = 0; j < cols; j++) {
      const k = pRow + j;
      const b = bRow + j;
      const pk = p[k]!;
      const gk = f(g[b]! + f(wd * pk));
      const mk = f(f(beta1 * m[b]!) + f(c1 * gk));
      const vk = f(f(beta2 * v[b]!) + f(f(c2 * gk) * gk));
      m[b] = mk;
      v[b] = vk;
      p[k] = f(pk - f(f(stepSize * mk) / f(f(f(Math.sqrt(vk)) * invBc2Sqrt) + eps)));
    }
  }
}

/** A += alpha x y^T (A is x.length x y.length; products and sums in double). */
export function ger(alpha: number, x: Float32Array, y: Float32Array, a: Matrix): void {
  for (let i = 0; i < x.length; i++) {
    const s = alpha * x[i]!;
    const row = a.offset + i * a.stride;
    for (let j = 0; j < y.length; j++) a.data[row + j] = a.data[row + j]! + s * y[j]!;
  }
}
