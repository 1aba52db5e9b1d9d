/**
 * The argument objects of the engines' kernels (see `kernel-specs.ts`, where each kernel is declared); the
 * convolution kernels' are in `conv-kernels.ts`. Offsets and strides count elements; arrays are written in
 * place.
 */
import type { Matrix } from './matrix.js';

/** y += alpha x over the whole arrays (same length). */
export interface AxpyArgs {
  alpha: number;
  x: Float32Array;
  y: Float32Array;
}

/** x *= alpha over the whole array; alpha == 0 writes zeros. */
export interface ScalArgs {
  alpha: number;
  x: Float32Array;
}

/** A += alpha x y^T (A is x.length x y.length). */
export interface GerArgs {
  alpha: number;
  x: Float32Array;
  y: Float32Array;
  a: Matrix;
}

/** One SGD sweep: v += weightDecay w, then w -= lr v (same lengths). */
export interface SgdArgs {
  w: Float32Array;
  v: Float32Array;
  lr: number;
  weightDecay: number;
}

/** The per-step scalars of an Adam sweep. */
export interface AdamScalars {
  beta1: number;
  beta2: number;
  weightDecay: number;
  eps: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** 1 / sqrt(1 - beta2^t). */
  invBc2Sqrt: number;
}

/**
 * One Adam sweep (torch.optim.Adam) over a parameter p (rows x cols at pOff, row stride pStride) and its
 * contiguous gradient g and moments m, v.
 */
export interface AdamArgs {
  p: Float32Array;
  pOff: number;
  pStride: number;
  rows: number;
  cols: number;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
  scalars: AdamScalars;
}

/** out = f(x) elementwise (same lengths; out may be x). */
export interface UnaryArgs {
  x: Float32Array;
  out: Float32Array;
}

/** out = f(a, b) elementwise (same lengths; out may alias either). */
export interface BinaryArgs {
  a: Float32Array;
  b: Float32Array;
  out: Float32Array;
}

/** out = relu(a) - relu(b) over n values from each offset. */
export interface ReluDifferenceArgs {
  n: number;
  a: Float32Array;
  aOff: number;
  b: Float32Array;
  bOff: number;
  out: Float32Array;
  outOff: number;
}

/**
 * g = relu(a) and h = g scaled per row (rows x d, contiguous) to length `target` (at least `floor` in the
 * denominator), recording each row's norm and squared norm.
 */
export interface ReluNormalizeArgs {
  a: Float32Array;
  g: Float32Array;
  h: Float32Array;
  rows: number;
  d: number;
  target: number;
  floor: number;
  norms: Float64Array;
  squares: Float64Array;
}
