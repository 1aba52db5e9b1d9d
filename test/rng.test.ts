import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';

function digest(values: Float32Array | Uint32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
    .digest('hex');
}

function range(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]!);
    max = Math.max(max, values[i]!);
  }
  return { min, max };
}

function moments(values: ArrayLike<number>): {
  mean: number;
  variance: number;
  skew: number;
  kurtosis: number;
} {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i]! - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  return { mean, variance: m2, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

describe('Rng', () => {
  it('gives the same bytes for the same seed and different bytes for different seeds', () => {
    const draw = (seed: number): string => digest(Rng.fromSeed(seed).fillNormal(new Float32Array(1000)));
    expect(draw(42)).toBe(draw(42));
    expect(draw(42)).not.toBe(draw(43));
    expect(draw(0)).not.toBe(draw(2 ** 32));
    expect(draw(-1)).not.toBe(draw(1));
  });

  it('keeps its streams stable across releases (golden digests)', () => {
    // Pinned so that any change to the generator, seeding or draw algorithms is noticed: results of runs
    // saved with an earlier version must stay reproducible.
    const rng = Rng.fromSeed(2024);
    expect(digest(rng.fillUniform(new Float32Array(256)))).toBe(GOLDEN.uniform);
    expect(digest(rng.fillNormal(new Float32Array(256)))).toBe(GOLDEN.normal);
    expect(digest(rng.permutation(100))).toBe(GOLDEN.permutation);
  });

  it('derives named streams that do not depend on how much the parent has drawn', () => {
    const a = Rng.fromSeed(7);
    const b = Rng.fromSeed(7);
    b.fillUniform(new Float32Array(100));
    expect(a.derive('dropout').uniform()).toBe(b.derive('dropout').uniform());
    expect(a.derive('dropout').uniform()).not.toBe(a.derive('init').uniform());
    expect(a.derive(1).uniform()).not.toBe(a.derive('1').uniform());
    expect(a.derive('x').derive('y').uniform()).not.toBe(a.derive('y').derive('x').uniform());
  });

  it('resumes exactly from a saved state, including a pending normal draw', () => {
    const rng = Rng.fromSeed(3);
    rng.normal(); // leaves the pair's second value pending
    const saved = JSON.parse(JSON.stringify(rng.state()));
    const expected = rng.fillNormal(new Float32Array(51));
    const resumed = Rng.fromState(saved).fillNormal(new Float32Array(51));
    expect(Array.from(resumed)).toEqual(Array.from(expected));
    expect(rng.clone().uniform()).toBe(rng.uniform());
  });

  it('draws uniforms in [0, 1) with the right moments', () => {
    const rng = Rng.fromSeed(11);
    const n = 200_000;
    const u = new Float64Array(n);
    for (let i = 0; i < n; i++) u[i] = rng.uniform();
    expect(range(u).min).toBeGreaterThanOrEqual(0);
    expect(range(u).max).toBeLessThan(1);
    const m = moments(u);
    // standard errors: mean 0.00065, variance 0.00019
    expect(m.mean).toBeCloseTo(0.5, 2);
    expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(1e-3);
    const f = rng.fillUniform(new Float32Array(n), -2, 6);
    const mf = moments(f);
    expect(Math.abs(mf.mean - 2)).toBeLessThan(0.03);
    expect(Math.abs(mf.variance - 64 / 12)).toBeLessThan(0.08);
    expect(range(f).min).toBeGreaterThanOrEqual(-2);
    expect(range(f).max).toBeLessThanOrEqual(6);
  });

  it('draws normals with mean, variance, skewness and kurtosis of N(mu, sigma^2)', () => {
    const rng = Rng.fromSeed(12);
    const x = rng.fillNormal(new Float32Array(200_000), 1.5, 2);
    const m = moments(x);
    expect(Math.abs(m.mean - 1.5)).toBeLessThan(0.02); // se 0.0045
    expect(Math.abs(m.variance - 4)).toBeLessThan(0.06); // se 0.013
    expect(Math.abs(m.skew)).toBeLessThan(0.03); // se 0.0055
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(0.06); // se 0.011
  });

  it('draws Bernoulli masks with the requested rate, including the edge probabilities', () => {
    const rng = Rng.fromSeed(13);
    const mask = rng.fillBernoulli(new Float32Array(100_000), 0.3);
    const ones = mask.reduce((s, v) => s + v, 0);
    expect(mask.every((v) => v === 0 || v === 1)).toBe(true);
    expect(Math.abs(ones / 100_000 - 0.3)).toBeLessThan(0.006); // se 0.0014
    expect(rng.fillBernoulli(new Float32Array(1000), 0).every((v) => v === 0)).toBe(true);
    expect(rng.fillBernoulli(new Float32Array(1000), 1).every((v) => v === 1)).toBe(true);
    expect(() => rng.bernoulli(1.5)).toThrow(TopdownUsageError);
  });

  it('draws uniform permutations (chi-square on where an element lands)', () => {
    const rng = Rng.fromSeed(14);
    const n = 10;
    const trials = 20_000;
    const counts = new Array<number>(n).fill(0);
    for (let t = 0; t < trials; t++) {
      const p = rng.permutation(n);
      expect([...p].sort((a, b) => a - b)).toEqual([...Array(n).keys()]);
      counts[p.indexOf(0)]!++;
    }
    const expected = trials / n;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.9); // 99.9th percentile of chi-square with 9 degrees of freedom
    expect(rng.permutation(0).length).toBe(0);
  });

  it('draws unbiased integers over a range and validates its arguments', () => {
    const rng = Rng.fromSeed(15);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(-3, 2) + 3]!++;
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(20.5); // 99.9th percentile, 5 degrees of freedom
    expect(() => rng.int(3, 2)).toThrow(TopdownUsageError);
    expect(() => Rng.fromSeed(1.5)).toThrow(TopdownUsageError);
    expect(() => rng.fillNormal(new Float32Array(1), 0, -1)).toThrow(TopdownUsageError);
  });
});

const GOLDEN = {
  uniform: 'b101d146568cfbbae7ff9cc3deba2323cdbd0e906139365eff8ad953189ef749',
  normal: '52b52fac422b14c5a9f4347354322b1f6ee176e5f22eef5538e09f26155f0eb5',
  permutation: 'f8a034209a852f6a42c2a8b0ba02c0c8e78ef36b59d50c0d182c14f5114e5f9a',
};

describe('Rng.fillDropoutMask', () => {
  it('keeps units with the given probability and scales kept ones by 1/keep', () => {
    const rng = Rng.fromSeed(16);
    const mask = rng.fillDropoutMask(new Float32Array(100_000), 0.9);
    const kept = mask.filter((v) => v !== 0);
    expect(kept.every((v) => v === Math.fround(1 / 0.9))).toBe(true);
    expect(Math.abs(kept.length / 100_000 - 0.9)).toBeLessThan(0.005); // se 0.00095
    expect(rng.fillDropoutMask(new Float32Array(100), 1).every((v) => v === 1)).toBe(true);
    expect(() => rng.fillDropoutMask(new Float32Array(1), 0)).toThrow(TopdownUsageError);
  });
});
