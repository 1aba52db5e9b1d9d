// The GEMM check shared by the engines' tests: a product in padded, offset storage against the float64
// reference, within float32 rounding, with nothing outside C's view written.
import { expect } from 'vitest';

import type { Engine } from '../src/core/engine.js';
import type { Rng } from '../src/core/rng.js';

import { referenceGemm } from './helpers.js';

/** What C holds outside its view (checked untouched). */
export const SENTINEL = 12345.5;

/** One product: shapes, scalars and storage layout. */
export interface GemmCase {
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  /** Extra columns in each stored matrix beyond what the view needs (stride > cols). */
  pad: number;
  /** Elements before each view's (0, 0). */
  offset: number;
}

/**
 * Runs one case on `engine` with A, B and C stored inside larger buffers (offset, padded stride), C holding
 * NaN garbage when beta == 0, and checks the view against the float64 reference and everything outside the
 * view for being untouched. Operands live where the engine computes (`engine.floats`). Returns C's storage.
 */
export function checkGemmCase(
  engine: Engine,
  transA: boolean,
  transB: boolean,
  c: GemmCase,
  rng: Rng,
): Float32Array {
  const { m, n, k, alpha, beta, pad, offset } = c;
  const aRows = transA ? k : m;
  const aCols = transA ? m : k;
  const bRows = transB ? n : k;
  const bCols = transB ? k : n;
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = n + pad;
  const a = rng.fillNormal(engine.floats(offset + aRows * lda + pad));
  const b = rng.fillNormal(engine.floats(offset + bRows * ldb + pad));
  const cBuf = engine.floats(offset + m * ldc + pad).fill(SENTINEL);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) cBuf[offset + i * ldc + j] = beta === 0 ? NaN : rng.normal();
  }
  const before = cBuf.slice();
  const ref = referenceGemm(
    transA,
    transB,
    m,
    n,
    k,
    alpha,
    a,
    offset,
    lda,
    b,
    offset,
    ldb,
    beta,
    before,
    offset,
    ldc,
  );
  engine.sgemm(transA, transB, m, n, k, alpha, a, offset, lda, b, offset, ldb, beta, cBuf, offset, ldc);
  const eps = 2 ** -23;
  for (let idx = 0; idx < cBuf.length; idx++) {
    const rel = idx - offset;
    const i = Math.floor(rel / ldc);
    const j = rel - i * ldc;
    const inView = rel >= 0 && i < m && j < n;
    if (!inView) {
      expect(cBuf[idx], `element ${idx} outside the C view was written`).toBe(before[idx]);
      continue;
    }
    const expected = ref.value[i * n + j]!;
    const tol = (k + 4) * eps * ref.scale[i * n + j]! + 1e-30;
    const got = cBuf[idx]!;
    if (!(Math.abs(got - expected) <= tol)) {
      throw new Error(
        `${engine.name} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta}: ` +
          `C[${i},${j}] = ${got}, expected ${expected} +- ${tol}`,
      );
    }
  }
  return cBuf;
}
