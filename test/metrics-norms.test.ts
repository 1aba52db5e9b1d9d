import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { matrixStats, parameterStats } from '../src/metrics/index.js';

import { randomArray } from './helpers.js';

/** Direct formulas on a plain array: population std (divide by n). */
function direct(values: number[]) {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  return {
    frobenius: Math.sqrt(values.reduce((s, v) => s + v * v, 0)),
    mean,
    std: Math.sqrt(variance),
    maxAbs: Math.max(...values.map(Math.abs)),
  };
}

describe('matrixStats', () => {
  it('matches hand-computed values', () => {
    // [1, -2, 3, -4]: sum of squares 30, mean -0.5, deviations 2.25 + 2.25 + 12.25 + 12.25 = 29 -> var 7.25
    const s = matrixStats(Matrix.from(2, 2, [1, -2, 3, -4]));
    expect(s.frobenius).toBeCloseTo(Math.sqrt(30), 14);
    expect(s.mean).toBe(-0.5);
    expect(s.std).toBeCloseTo(Math.sqrt(7.25), 14); // population std, not the unbiased sqrt(29 / 3)
    expect(s.maxAbs).toBe(4);
  });

  it('matches direct formulas on random data and strided views', () => {
    const rng = Rng.fromSeed(11);
    const m = Matrix.from(
      20,
      30,
      randomArray(rng, 600).map((v) => 3 + 2 * v),
    );
    for (const view of [m, m.view(3, 4, 10, 7)]) {
      const got = matrixStats(view);
      const want = direct(Array.from(view.toFloat32Array()));
      expect(got.frobenius).toBeCloseTo(want.frobenius, 9);
      expect(got.mean).toBeCloseTo(want.mean, 12);
      expect(got.std).toBeCloseTo(want.std, 12);
      expect(got.maxAbs).toBe(want.maxAbs);
    }
  });

  it('handles empty matrices and NaN', () => {
    expect(matrixStats(new Matrix(0, 3))).toEqual({ frobenius: 0, mean: NaN, std: NaN, maxAbs: NaN });
    const s = matrixStats(Matrix.from(1, 3, [1, NaN, 5]));
    expect(s.frobenius).toBeNaN();
    expect(s.mean).toBeNaN();
    expect(s.std).toBeNaN();
    expect(s.maxAbs).toBeNaN();
  });
});

describe('parameterStats', () => {
  it('gives per-layer weight and bias statistics', () => {
    const w1 = Matrix.from(2, 3, [1, 2, 3, 4, 5, 6]);
    const w2 = Matrix.from(1, 2, [-1, 1]);
    const b1 = Matrix.from(1, 2, [0.5, -0.5]);
    const stats = parameterStats({ weights: [w1, w2], biases: [b1, null] });
    expect(stats).toHaveLength(2);
    expect(stats[0]!.layer).toBe(1);
    expect(stats[0]!.weight).toEqual(matrixStats(w1));
    expect(stats[0]!.bias).toEqual({ frobenius: Math.sqrt(0.5), mean: 0, std: 0.5, maxAbs: 0.5 });
    expect(stats[1]!.layer).toBe(2);
    expect(stats[1]!.weight).toEqual({ frobenius: Math.SQRT2, mean: 0, std: 1, maxAbs: 1 });
    expect(stats[1]!.bias).toBeNull();
    expect(parameterStats({ weights: [w1] })[0]!.bias).toBeNull();
    expect(() => parameterStats({ weights: [w1, w2], biases: [null] })).toThrow(TopdownUsageError);
  });
});
