/**
 * Portable float32 GEMM in TypeScript: C = alpha * op(A) * op(B) + beta * C on row-major storage.
 *
 * Register-blocked 4x4 micro-kernels accumulate in float64 locals over a block of the shared dimension
 * (the block keeps the 4 rows of A and 4 columns of B in L1 cache); all four transpose combinations go
 * through the same kernels by describing op(A) and op(B) with a row step and a column step.
 * BLAS semantics: beta == 0 overwrites C without reading it; alpha == 0 or k == 0 only scales C.
 */

import type { SgemmFn } from './sgemm-type.js';

/** Shared-dimension block length: 4 rows of A plus 4 columns of B stay within 8 KiB. */
const K_BLOCK = 256;

/** Scales the m x n block of C by beta (beta == 0 writes zeros whatever C held). */
function scaleC(m: number, n: number, beta: number, c: Float32Array, cOff: number, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const row = cOff + i * ldc;
    if (beta === 0) {
      c.fill(0, row, row + n);
    } else {
      for (let j = row; j < row + n; j++) c[j] = beta * c[j]!;
    }
  }
}

/**
 * Raw-storage GEMM. Element (i, p) of op(A) is `a[aOff + i * lda + p]` (or `a[aOff + p * lda + i]` when
 * `transA`), likewise for B; element (i, j) of C is `c[cOff + i * ldc + j]`. Bounds are the caller's job.
 */
export const jsSgemm: SgemmFn = (
  transA,
  transB,
  m,
  n,
  k,
  alpha,
  a,
  aOff,
  lda,
  b,
  bOff,
  ldb,
  beta,
  c,
  cOff,
  ldc,
) => {
  if (m === 0 || n === 0) return;
  scaleC(m, n, beta, c, cOff, ldc);
  if (k === 0 || alpha === 0) return;
  // op(A)(i, p) = a[aOff + i * ars + p * acs]; op(B)(p, j) = b[bOff + p * brs + j * bcs]
  const ars = transA ? 1 : lda;
  const acs = transA ? lda : 1;
  const brs = transB ? 1 : ldb;
  const bcs = transB ? ldb : 1;
  for (let p0 = 0; p0 < k; p0 += K_BLOCK) {
    const kb = Math.min(K_BLOCK, k - p0);
    const aBase = aOff + p0 * acs;
    const bBase = bOff + p0 * brs;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        kernel4x4(
          kb,
          alpha,
          a,
          aBase + i * ars,
          ars,
          acs,
          b,
          bBase + j * bcs,
          brs,
          bcs,
          c,
          cOff + i * ldc + j,
          ldc,
        );
      }
      for (; j < n; j++) {
        kernel4x1(
          kb,
          alpha,
          a,
          aBase + i * ars,
          ars,
          acs,
          b,
          bBase + j * bcs,
          brs,
          c,
          cOff + i * ldc + j,
          ldc,
        );
      }
    }
    for (; i < m; i++) {
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        kernel1x4(kb, alpha, a, aBase + i * ars, acs, b, bBase + j * bcs, brs, bcs, c, cOff + i * ldc + j);
      }
      for (; j < n; j++) {
        kernel1x1(kb, alpha, a, aBase + i * ars, acs, b, bBase + j * bcs, brs, c, cOff + i * ldc + j);
      }
    }
  }
};

// prettier-ignore -- keeps the 4x4 accumulator grid readable
function kernel4x4(
  kb: number,
  alpha: number,
  a: Float32Array,
  ai: number,
  ars: number,
  acs: number,
  b: Float32Array,
  bj: number,
  brs: number,
  bcs: number,
  c: Float32Array,
  ci: number,
  ldc: number,
): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  let pa = ai;
  let pb = bj;
  for (let p = 0; p < kb; p++) {
    const a0 = a[pa]!,
      a1 = a[pa + ars]!,
      a2 = a[pa + 2 * ars]!,
      a3 = a[pa + 3 * ars]!;
    const b0 = b[pb]!,
      b1 = b[pb + bcs]!,
      b2 = b[pb + 2 * bcs]!,
      b3 = b[pb + 3 * bcs]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
    pa += acs;
    pb += brs;
  }
  let r = ci;
  c[r] = c[r]! + alpha * c00;
  c[r + 1] = c[r + 1]! + alpha * c01;
  c[r + 2] = c[r + 2]! + alpha * c02;
  c[r + 3] = c[r + 3]! + alpha * c03;
  r += ldc;
  c[r] = c[r]! + alpha * c10;
  c[r + 1] = c[r + 1]! + alpha * c11;
  c[r + 2] = c[r + 2]! + alpha * c12;
  c[r + 3] = c[r + 3]! + alpha * c13;
  r += ldc;
  c[r] = c[r]! + alpha * c20;
  c[r + 1] = c[r + 1]! + alpha * c21;
  c[r + 2] = c[r + 2]! + alpha * c22;
  c[r + 3] = c[r + 3]! + alpha * c23;
  r += ldc;
  c[r] = c[r]! + alpha * c30;
  c[r + 1] = c[r + 1]! + alpha * c31;
  c[r + 2] = c[r + 2]! + alpha * c32;
  c[r + 3] = c[r + 3]! + alpha * c33;
}

function kernel4x1(
  kb: number,
  alpha: number,
  a: Float32Array,
  ai: number,
  ars: number,
  acs: number,
  b: Float32Array,
  bj: number,
  brs: number,
  c: Float32Array,
  ci: number,
  ldc: number,
): void {
  let c0 = 0,
    c1 = 0,
    c2 = 0,
    c3 = 0;
  let pa = ai;
  let pb = bj;
  for (let p = 0; p < kb; p++) {
    const bv = b[pb]!;
    c0 += a[pa]! * bv;
    c1 += a[pa + ars]! * bv;
    c2 += a[pa + 2 * ars]! * bv;
    c3 += a[pa + 3 * ars]! * bv;
    pa += acs;
    pb += brs;
  }
  c[ci] = c[ci]! + alpha * c0;
  c[ci + ldc] = c[ci + ldc]! + alpha * c1;
  c[ci + 2 * ldc] = c[ci + 2 * ldc]! + alpha * c2;
  c[ci + 3 * ldc] = c[ci + 3 * ldc]! + alpha * c3;
}

function kernel1x4(
  kb: number,
  alpha: number,
  a: Float32Array,
  ai: number,
  acs: number,
  b: Float32Array,
  bj: number,
  brs: number,
  bcs: number,
  c: Float32Array,
  ci: number,
): void {
  let c0 = 0,
    c1 = 0,
    c2 = 0,
    c3 = 0;
  let pa = ai;
  let pb = bj;
  for (let p = 0; p < kb; p++) {
    const av = a[pa]!;
    c0 += av * b[pb]!;
    c1 += av * b[pb + bcs]!;
    c2 += av * b[pb + 2 * bcs]!;
    c3 += av * b[pb + 3 * bcs]!;
    pa += acs;
    pb += brs;
  }
  c[ci] = c[ci]! + alpha * c0;
  c[ci + 1] = c[ci + 1]! + alpha * c1;
  c[ci + 2] = c[ci + 2]! + alpha * c2;
  c[ci + 3] = c[ci + 3]! + alpha * c3;
}

function kernel1x1(
  kb: number,
  alpha: number,
  a: Float32Array,
  ai: number,
  acs: number,
  b: Float32Array,
  bj: number,
  brs: number,
  c: Float32Array,
  ci: number,
): void {
  let acc = 0;
  let pa = ai;
  let pb = bj;
  for (let p = 0; p < kb; p++) {
    acc += a[pa]! * b[pb]!;
    pa += acs;
    pb += brs;
  }
  c[ci] = c[ci]! + alpha * acc;
}
