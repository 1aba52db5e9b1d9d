import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { goodnessDifferences, histogram, summary } from '../src/metrics/index.js';

import { randomArray } from './helpers.js';

describe('goodnessDifferences', () => {
  it('equals explicit per-row sums of squares', () => {
    // row 0: (1 + 4) - (0 + 1) = 4; row 1: (9 + 0) - (4 + 16) = -11
    const clean = Matrix.from(2, 2, [1, 2, 3, 0]);
    const mod = Matrix.from(2, 2, [0, 1, 2, 4]);
    expect(Array.from(goodnessDifferences(clean, mod))).toEqual([4, -11]);

    const rng = Rng.fromSeed(21);
    const big = Matrix.from(12, 20, randomArray(rng, 240));
    const other = Matrix.from(12, 20, randomArray(rng, 240));
    const h = big.view(2, 3, 6, 9);
    const hMod = other.view(5, 1, 6, 9);
    const out = new Float64Array(6);
    expect(goodnessDifferences(h, hMod, out)).toBe(out);
    for (let i = 0; i < 6; i++) {
      let g = 0;
      let gMod = 0;
      for (let j = 0; j < 9; j++) {
        g += h.get(i, j) ** 2;
        gMod += hMod.get(i, j) ** 2;
      }
      expect(out[i]).toBeCloseTo(g - gMod, 12);
    }
    expect(() => goodnessDifferences(h, big)).toThrow(TopdownUsageError);
    expect(() => goodnessDifferences(h, hMod, new Float64Array(5))).toThrow(TopdownUsageError);
  });
});

describe('histogram', () => {
  it('puts every value in a bin when the range comes from the data', () => {
    const rng = Rng.fromSeed(22);
    const values = randomArray(rng, 1000);
    const { edges, counts, outside } = histogram(values, { bins: 17 });
    expect(edges).toHaveLength(18);
    expect(counts).toHaveLength(17);
    expect(outside).toBe(0);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(1000);
    expect(edges[0]).toBe(Math.min(...values));
    expect(edges[17]).toBe(Math.max(...values));
    // every count agrees with a direct check against the edges (last bin closed)
    for (let k = 0; k < 17; k++) {
      const inBin = Array.from(values).filter(
        (v) => v >= edges[k]! && (k === 16 ? v <= edges[k + 1]! : v < edges[k + 1]!),
      ).length;
      expect(counts[k]).toBe(inBin);
    }
  });

  it('follows numpy conventions for explicit ranges, edges, NaN and constant data', () => {
    // bins [0, 1), [1, 2), [2, 3), [3, 4]; 4 is in the last bin; -1, 5 and NaN are outside
    const h = histogram([0, 0.5, 1, 2.5, 3.999, 4, -1, 5, NaN], { bins: 4, min: 0, max: 4 });
    expect(Array.from(h.edges)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(h.counts)).toEqual([2, 1, 1, 2]);
    expect(h.outside).toBe(3);
    const constant = histogram([2, 2, 2], { bins: 2 });
    expect(Array.from(constant.edges)).toEqual([1.5, 2, 2.5]);
    expect(Array.from(constant.counts)).toEqual([0, 3]);
    const empty = histogram([], { bins: 2 });
    expect(Array.from(empty.edges)).toEqual([0, 0.5, 1]);
    expect(Array.from(empty.counts)).toEqual([0, 0]);
    // only min given: max from the data; Infinity is outside
    const half = histogram([1, 3, Infinity], { bins: 2, min: -1 });
    expect(Array.from(half.edges)).toEqual([-1, 1, 3]);
    expect(Array.from(half.counts)).toEqual([0, 2]);
    expect(half.outside).toBe(1);
    expect(() => histogram([1], { bins: 0 })).toThrow(TopdownUsageError);
    expect(() => histogram([1], { bins: 2.5 })).toThrow(TopdownUsageError);
    expect(() => histogram([1], { bins: 2, min: 3, max: 1 })).toThrow(TopdownUsageError);
    expect(() => histogram([1], { bins: 2, max: NaN })).toThrow(TopdownUsageError);
  });
});

describe('summary', () => {
  it('matches direct formulas and linear-interpolation percentiles', () => {
    // [1..5] shuffled: mean 3, population variance 2; percentile position q * 4
    const s = summary([4, 1, 5, 3, 2]);
    expect(s).toEqual({ n: 5, mean: 3, std: Math.SQRT2, min: 1, max: 5, median: 3, p05: 1.2, p95: 4.8 });
    expect(summary([1, 2, 3, 4]).median).toBe(2.5);
    expect(summary([7]).p95).toBe(7);

    const rng = Rng.fromSeed(23);
    const values = Array.from(randomArray(rng, 501));
    const got = summary(new Float32Array(values));
    const sorted = [...values].sort((a, b) => a - b);
    const mean = values.reduce((a, v) => a + v, 0) / 501;
    expect(got.mean).toBeCloseTo(mean, 12);
    expect(got.std).toBeCloseTo(Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 501), 12);
    expect(got.median).toBe(sorted[250]); // position 0.5 * 500 = 250 exactly
    expect(got.p05).toBe(sorted[25]); // 0.05 * 500 = 25
    expect(got.p95).toBe(sorted[475]); // 0.95 * 500 = 475
    expect([got.min, got.max]).toEqual([sorted[0], sorted[500]]);
  });

  it('leaves NaN out', () => {
    expect(summary([NaN, 2, NaN, 4])).toEqual({
      n: 2,
      mean: 3,
      std: 1,
      min: 2,
      max: 4,
      median: 3,
      p05: 2.1,
      p95: 3.9,
    });
    const none = summary([NaN]);
    expect(none.n).toBe(0);
    expect(none.mean).toBeNaN();
    expect(none.median).toBeNaN();
  });
});
