import { describe, expect, it } from 'vitest';

import { type Engine } from '../src/core/engine.js';
import { TopdownUsageError } from '../src/core/errors.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';

import { checkGemmCase as checkCase, SENTINEL } from './gemm-check.js';
import { availableEngines, randomArray } from './helpers.js';

const engines = availableEngines();
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];
const SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 13, 17, 33, 64];

describe.each(engines.map((e) => [e.name, e] as const))('%s engine gemm', (_name, engine) => {
  it('matches the float64 reference on random shapes, all transposes, offsets and padded strides', () => {
    const rng = Rng.fromSeed(1);
    for (const [transA, transB] of TRANSPOSES) {
      for (let trial = 0; trial < 40; trial++) {
        const pick = (): number => SIZES[rng.int(0, SIZES.length - 1)]!;
        const alphas = [1, -0.5, 2.25, 0];
        const betas = [0, 1, -1.5, 0.9];
        checkCase(
          engine,
          transA,
          transB,
          {
            m: pick(),
            n: pick(),
            k: pick(),
            alpha: alphas[trial % 4]!,
            beta: betas[Math.floor(trial / 4) % 4]!,
            pad: trial % 3,
            offset: trial % 5,
          },
          rng,
        );
      }
    }
  });

  it('handles large, odd shapes that cross the blocking boundaries', () => {
    const rng = Rng.fromSeed(2);
    for (const [transA, transB] of TRANSPOSES) {
      checkCase(
        engine,
        transA,
        transB,
        { m: 67, n: 129, k: 601, alpha: 0.75, beta: 0, pad: 3, offset: 7 },
        rng,
      );
      checkCase(engine, transA, transB, { m: 130, n: 5, k: 300, alpha: 1, beta: 1, pad: 0, offset: 0 }, rng);
    }
  });

  it('handles matrix-vector shapes (m = 1 or n = 1) with strided operands', () => {
    const rng = Rng.fromSeed(3);
    for (const [transA, transB] of TRANSPOSES) {
      for (const [m, n, k] of [
        [1, 300, 200],
        [300, 1, 200],
        [1, 1, 500],
        [1, 40, 0],
      ] as const) {
        for (const beta of [0, 1, 0.5]) {
          checkCase(engine, transA, transB, { m, n, k, alpha: -1.25, beta, pad: 2, offset: 3 }, rng);
        }
      }
    }
  });

  it('overwrites NaN and Inf garbage in C when beta = 0, and scales C when k = 0 or alpha = 0', () => {
    for (const [m, n, k] of [
      [2, 3, 4],
      [40, 50, 60],
    ] as const) {
      const a = new Float32Array(m * k).fill(1);
      const b = new Float32Array(k * n).fill(2);
      const c = new Float32Array(m * n).fill(NaN);
      c[0] = Infinity;
      engine.sgemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, c, 0, n);
      expect(Array.from(c).every((v) => v === 2 * k)).toBe(true);
      const d = new Float32Array(m * n).fill(3);
      engine.sgemm(false, false, m, n, 0, 1, a, 0, 1, b, 0, n, 0.5, d, 0, n);
      expect(Array.from(d).every((v) => v === 1.5)).toBe(true);
      engine.sgemm(false, false, m, n, k, 0, a, 0, k, b, 0, n, 2, d, 0, n);
      expect(Array.from(d).every((v) => v === 3)).toBe(true);
    }
  });

  it('propagates NaN and Inf from the operands', () => {
    for (const [m, n, k] of [
      [3, 4, 5],
      [48, 40, 64],
      [1, 64, 64],
      [64, 1, 64],
    ] as const) {
      const a = new Float32Array(m * k).fill(0.5);
      const b = new Float32Array(k * n).fill(0.25);
      const nanRow = m - 1;
      const infCol = n - 1;
      a[nanRow * k + 1] = NaN;
      b[2 * n + infCol] = Infinity;
      const c = new Float32Array(m * n);
      engine.sgemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, c, 0, n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const v = c[i * n + j]!;
          if (i === nanRow) expect(v).toBeNaN();
          else if (j === infCol) expect(v).toBe(Infinity);
          else expect(v).toBeCloseTo(0.125 * k, 4);
        }
      }
    }
  });

  it('accumulates into C with beta = 1 (gradient into a momentum buffer)', () => {
    const rng = Rng.fromSeed(4);
    const x = Matrix.from(8, 16, randomArray(rng, 128));
    const d = Matrix.from(8, 12, randomArray(rng, 96));
    const grad = new Matrix(12, 16);
    engine.gemm(true, false, 12, 16, 8, 1, d, x, 0, grad);
    const momentum = grad.clone();
    engine.gemm(true, false, 12, 16, 8, 1, d, x, 0.9, momentum);
    for (let i = 0; i < grad.size; i++) {
      expect(momentum.data[i]).toBeCloseTo(1.9 * grad.data[i]!, 4);
    }
  });

  it('checks shapes at the matrix level', () => {
    const a = new Matrix(3, 4);
    const b = new Matrix(4, 5);
    const c = new Matrix(3, 5);
    expect(() => engine.gemm(false, false, 3, 5, 4, 1, a, b, 0, c)).not.toThrow();
    expect(() => engine.gemm(true, false, 3, 5, 4, 1, a, b, 0, c)).toThrow(TopdownUsageError);
    expect(() => engine.gemm(false, false, 3, 5, 4, 1, a, b, 0, new Matrix(5, 3))).toThrow(/C must be 3x5/);
  });

  it('multiplies views of a larger matrix', () => {
    const rng = Rng.fromSeed(5);
    const big = Matrix.from(10, 12, randomArray(rng, 120));
    const a = big.view(2, 3, 4, 5); // 4x5
    const b = big.view(1, 6, 5, 6); // 5x6
    const out = new Matrix(9, 9).fill(SENTINEL);
    const c = out.view(3, 2, 4, 6);
    engine.gemm(false, false, 4, 6, 5, 1, a, b, 0, c);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 6; j++) {
        let s = 0;
        for (let p = 0; p < 5; p++) s += a.get(i, p) * b.get(p, j);
        expect(c.get(i, j)).toBeCloseTo(s, 4);
      }
    }
    expect(out.get(0, 0)).toBe(SENTINEL);
    expect(out.get(3, 8)).toBe(SENTINEL);
    expect(out.get(7, 2)).toBe(SENTINEL);
  });
});

describe('engines agree', () => {
  it.runIf(engines.length === 2)('blas and js agree to float32 tolerance on the paper-like shapes', () => {
    const [blas, js] = engines as [Engine, Engine];
    const rng = Rng.fromSeed(6);
    for (const [m, k, n, ta, tb] of [
      [64, 784, 100, false, true],
      [100, 64, 784, true, false],
      [1, 500, 2, false, true],
      [1, 784, 256, false, true],
      [64, 256, 10, false, false],
    ] as const) {
      const a = randomArray(rng, m * k);
      const b = randomArray(rng, k * n);
      const c1 = new Float32Array(m * n);
      const c2 = new Float32Array(m * n);
      const lda = ta ? m : k;
      const ldb = tb ? k : n;
      blas.sgemm(ta, tb, m, n, k, 1, a, 0, lda, b, 0, ldb, 0, c1, 0, n);
      js.sgemm(ta, tb, m, n, k, 1, a, 0, lda, b, 0, ldb, 0, c2, 0, n);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < c1.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(c1[i]! - c2[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(c2[i]!));
      }
      expect(maxDiff).toBeLessThanOrEqual(Math.sqrt(k) * 2 ** -22 * Math.max(1, maxAbs));
    }
  });
});
