import { describe, expect, it } from 'vitest';

import { SMALL_VECTOR_LENGTH } from '../src/core/engine.js';
import { TopdownUsageError } from '../src/core/errors.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';

import { availableEngines, randomArray } from './helpers.js';

// Lengths on both sides of the blas engine's native/TypeScript switch.
const LENGTHS = [0, 1, 7, SMALL_VECTOR_LENGTH - 1, SMALL_VECTOR_LENGTH, 5003];

describe.each(availableEngines().map((e) => [e.name, e] as const))(
  '%s engine vector operations',
  (_n, engine) => {
    it('axpy computes y += alpha x', () => {
      const rng = Rng.fromSeed(10);
      for (const n of LENGTHS) {
        const x = randomArray(rng, n);
        const y = randomArray(rng, n);
        const expected = Array.from(y, (v, i) => Math.fround(v + -0.375 * x[i]!));
        engine.run('axpy', { alpha: -0.375, x, y });
        for (let i = 0; i < n; i++) expect(y[i]).toBeCloseTo(expected[i]!, 5);
      }
      expect(() => engine.run('axpy', { alpha: 1, x: new Float32Array(3), y: new Float32Array(4) })).toThrow(
        TopdownUsageError,
      );
    });

    it('reluNormalizeRows: relu, then every row scaled to its target length, against a float64 loop', () => {
      const rng = Rng.fromSeed(12);
      // rows x d on both sides of the native switch, odd widths (the vector loops' tails), threads' splits
      for (const [rows, d, target] of [
        [1, 3, 1],
        [5, 7, Math.sqrt(7)],
        [3, 300, 1],
        [300, 2001, Math.sqrt(2001)],
      ] as const) {
        const a = randomArray(rng, rows * d);
        for (let i = 0; i < d; i++) a[i] = -Math.abs(a[i]!); // an all-negative row: zero, not NaN
        const g = new Float32Array(rows * d);
        const h = new Float32Array(rows * d);
        const norms = new Float64Array(rows);
        const squares = new Float64Array(rows);
        engine.run('reluNormalizeRows', { a, g, h, rows, d, target, floor: 1e-30, norms, squares });
        // plain comparisons, one expect per row: half a million expects would take a minute
        for (let r = 0; r < rows; r++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += Math.max(a[r * d + j]!, 0) ** 2;
          let badG = 0;
          let worstH = 0;
          for (let j = 0; j < d; j++) {
            const k = r * d + j;
            if (g[k] !== Math.max(a[k]!, 0)) badG++;
            const want = s > 0 ? (g[k]! * target) / Math.sqrt(s) : 0;
            worstH = Math.max(worstH, Math.abs(h[k]! - want) / Math.max(1, Math.abs(want)));
          }
          expect([badG, worstH <= 1e-6]).toEqual([0, true]);
          expect(Math.abs(squares[r]! - s)).toBeLessThanOrEqual(1e-9 * Math.max(1, s));
          expect(Math.abs(norms[r]! - Math.sqrt(s))).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.sqrt(s)));
        }
      }
    });

    it('scal computes x *= alpha, and alpha = 0 clears NaN', () => {
      const rng = Rng.fromSeed(11);
      for (const n of LENGTHS) {
        const x = randomArray(rng, n);
        const expected = Array.from(x, (v) => 1.5 * v);
        engine.run('scal', { alpha: 1.5, x });
        for (let i = 0; i < n; i++) expect(x[i]).toBeCloseTo(expected[i]!, 5);
        x.fill(NaN);
        engine.run('scal', { alpha: 0, x });
        expect(x.every((v) => v === 0)).toBe(true);
      }
    });

    it('ger adds alpha x y^T into a strided view, leaving the rest alone', () => {
      const rng = Rng.fromSeed(12);
      for (const [m, n] of [
        [3, 4],
        [40, 70],
      ] as const) {
        const x = randomArray(rng, m);
        const y = randomArray(rng, n);
        const big = Matrix.from(m + 2, n + 3, randomArray(rng, (m + 2) * (n + 3)));
        const before = big.clone();
        const a = big.view(1, 2, m, n);
        engine.run('ger', { alpha: 0.5, x, y, a });
        for (let i = 0; i < m + 2; i++) {
          for (let j = 0; j < n + 3; j++) {
            const inside = i >= 1 && i <= m && j >= 2 && j < n + 2;
            const expected = before.get(i, j) + (inside ? 0.5 * x[i - 1]! * y[j - 2]! : 0);
            expect(big.get(i, j)).toBeCloseTo(expected, 5);
          }
        }
        expect(() => engine.run('ger', { alpha: 1, x, y, a: new Matrix(n, m) })).toThrow(TopdownUsageError);
      }
    });
  },
);

describe.each(availableEngines().map((e) => [e.name, e] as const))('%s engine sgdUpdate', (_n, engine) => {
  it('applies v += wd * w, then w -= lr * v, in one sweep', () => {
    const rng = Rng.fromSeed(13);
    for (const n of LENGTHS) {
      const w = randomArray(rng, n);
      const v = randomArray(rng, n);
      const expectedV = Array.from(v, (vi, i) => vi + 1e-2 * w[i]!);
      const expectedW = Array.from(w, (wi, i) => wi - 0.05 * expectedV[i]!);
      engine.run('sgdUpdate', { w, v, lr: 0.05, weightDecay: 1e-2 });
      for (let i = 0; i < n; i++) {
        expect(v[i]).toBeCloseTo(expectedV[i]!, 5);
        expect(w[i]).toBeCloseTo(expectedW[i]!, 5);
      }
    }
    expect(() =>
      engine.run('sgdUpdate', { w: new Float32Array(2), v: new Float32Array(3), lr: 1, weightDecay: 0 }),
    ).toThrow(TopdownUsageError);
  });
});

describe('adamUpdate', () => {
  it('every engine gives the same bits, on contiguous and strided parameters, matching a float64 loop', () => {
    const scalars = {
      beta1: 0.9,
      beta2: 0.999,
      weightDecay: 0.01,
      eps: 1e-8,
      stepSize: 0.003,
      invBc2Sqrt: 3.2,
    };
    for (const [rows, cols, stride] of [
      [1, 5003, 5003],
      [40, 70, 75],
      [3, 4, 4],
    ] as const) {
      const results = availableEngines().map((engine) => {
        const gen = Rng.fromSeed(rows);
        const p = randomArray(gen, rows * stride + 2);
        const g = randomArray(gen, rows * cols);
        const m = randomArray(gen, rows * cols);
        const v = randomArray(gen, rows * cols).map(Math.abs);
        const before = { p: p.slice(), m: m.slice(), v: v.slice() };
        engine.run('adamUpdate', { p, pOff: 1, pStride: stride, rows, cols, g, m, v, scalars });
        return { p, m, v, before, g };
      });
      const { p, m, before, g } = results[0]!;
      for (const r of results.slice(1)) {
        expect(Array.from(r.p)).toEqual(Array.from(p));
        expect(Array.from(r.m)).toEqual(Array.from(m));
      }
      // float64 reference for a few elements, and the padding between rows untouched
      for (const [r, j] of [
        [0, 0],
        [rows - 1, cols - 1],
      ] as const) {
        const k = 1 + r * stride + j;
        const b = r * cols + j;
        const gk = g[b]! + 0.01 * before.p[k]!;
        const mk = 0.9 * before.m[b]! + 0.1 * gk;
        const vk = 0.999 * before.v[b]! + 0.001 * gk * gk;
        expect(p[k]).toBeCloseTo(before.p[k]! - (0.003 * mk) / (Math.sqrt(vk) * 3.2 + 1e-8), 6);
      }
      expect(p[0]).toBe(before.p[0]);
      if (stride > cols) expect(p[1 + cols]).toBe(before.p[1 + cols]);
    }
  });
});
