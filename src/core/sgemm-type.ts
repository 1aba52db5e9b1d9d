/**
 * The raw-storage GEMM signature shared by both engines and the native addon:
 * C = alpha * op(A) * op(B) + beta * C, row-major, where op(A) is m x k, op(B) is k x n and C is m x n.
 * Element (i, j) of a stored matrix X with offset xOff and leading dimension ldx is `x[xOff + i * ldx + j]`;
 * with `transA`, A is stored k x m (likewise B). beta == 0 ignores what C held (even NaN).
 */
export type SgemmFn = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  b: Float32Array,
  bOff: number,
  ldb: number,
  beta: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
) => void;
