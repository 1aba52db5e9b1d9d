import erf from '@stdlib/math-base-special-erf';
import { describe, expect, it } from 'vitest';

import { Rng } from '../src/core/rng.js';
import { i2, i3, i4, j2 } from '../src/theory/integrals.js';
import { generalisationError } from '../src/theory/observables.js';
import { orderParameters, sampleInstance } from '../src/theory/instance.js';
import { resolveTheoryProblem } from '../src/theory/problem.js';

const g = (z: number): number => erf(z / Math.SQRT2);
const gp = (z: number): number => Math.sqrt(2 / Math.PI) * Math.exp(-0.5 * z * z);

/** A random covariance matrix of size n (Wishart-like, entries O(1), well conditioned). */
function randomCovariance(rng: Rng, n: number): Float64Array {
  const dof = n + 3;
  const A = Array.from({ length: n * dof }, () => rng.normal());
  const C = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dof; k++) s += A[i * dof + k]! * A[j * dof + k]!;
      C[i * n + j] = (1.5 * s) / dof;
    }
  }
  return C;
}

/** Lower Cholesky factor of C. */
function cholesky(C: Float64Array, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = C[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j]!;
    }
  }
  return L;
}

/** Monte-Carlo mean of f(u) for u ~ N(0, C) and its standard error. */
function monteCarlo(
  rng: Rng,
  C: Float64Array,
  n: number,
  samples: number,
  f: (u: Float64Array) => number,
): { mean: number; se: number } {
  const L = cholesky(C, n);
  const z = new Float64Array(n);
  const u = new Float64Array(n);
  let sum = 0;
  let sum2 = 0;
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < n; i++) z[i] = rng.normal();
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let k = 0; k <= i; k++) acc += L[i * n + k]! * z[k]!;
      u[i] = acc;
    }
    const value = f(u);
    sum += value;
    sum2 += value * value;
  }
  const mean = sum / samples;
  return { mean, se: Math.sqrt((sum2 / samples - mean * mean) / samples) };
}

const SAMPLES = 200_000;

describe('closed-form erf integrals against Monte Carlo (tolerance 5 standard errors)', () => {
  const rng = Rng.fromSeed(11);
  const n = 4;
  const cases = Array.from({ length: 3 }, () => randomCovariance(rng, n));

  it.each(cases.map((C, i) => [i, C] as const))('covariance %i', (_, C) => {
    const checks: Array<[string, number, (u: Float64Array) => number]> = [
      ['I2(0,1)', i2(C, n, 0, 1), (u) => g(u[0]!) * g(u[1]!)],
      ['I2(2,2)', i2(C, n, 2, 2), (u) => g(u[2]!) ** 2],
      ['I3(0,1,2)', i3(C, n, 0, 1, 2), (u) => gp(u[0]!) * u[1]! * g(u[2]!)],
      ['I3(1,1,3)', i3(C, n, 1, 1, 3), (u) => gp(u[1]!) * u[1]! * g(u[3]!)],
      ['I3(2,3,2)', i3(C, n, 2, 3, 2), (u) => gp(u[2]!) * u[3]! * g(u[2]!)],
      ['I4(0,1,2,3)', i4(C, n, 0, 1, 2, 3), (u) => gp(u[0]!) * gp(u[1]!) * g(u[2]!) * g(u[3]!)],
      ['I4(0,0,1,1)', i4(C, n, 0, 0, 1, 1), (u) => gp(u[0]!) ** 2 * g(u[1]!) ** 2],
      ['I4(1,2,1,3)', i4(C, n, 1, 2, 1, 3), (u) => gp(u[1]!) * gp(u[2]!) * g(u[1]!) * g(u[3]!)],
      ['J2(0,3)', j2(C, n, 0, 3), (u) => gp(u[0]!) * gp(u[3]!)],
      ['J2(1,1)', j2(C, n, 1, 1), (u) => gp(u[1]!) ** 2],
    ];
    const mcRng = Rng.fromSeed(5);
    for (const [name, exact, f] of checks) {
      const { mean, se } = monteCarlo(mcRng, C, n, SAMPLES, f);
      expect(Math.abs(exact - mean), `${name}: exact ${exact}, MC ${mean} +- ${se}`).toBeLessThan(
        5 * se + 1e-12,
      );
    }
  });
});

describe('generalisation error', () => {
  it('matches a direct Monte-Carlo evaluation of a random student/teacher pair', () => {
    const problem = resolveTheoryProblem({ D: 40, K: 3, M: 2, teacherSecondLayer: 'gaussian', seed: 3 });
    const inst = sampleInstance(problem);
    const op = orderParameters(inst);
    const rng = Rng.fromSeed(9);
    const x = new Float64Array(problem.D);
    const field = (W: Float64Array, row: number): number => {
      let s = 0;
      for (let i = 0; i < problem.D; i++) s += W[row * problem.D + i]! * x[i]!;
      return s / Math.sqrt(problem.D);
    };
    let sum = 0;
    let sum2 = 0;
    const samples = SAMPLES;
    for (let s = 0; s < samples; s++) {
      for (let i = 0; i < problem.D; i++) x[i] = rng.normal();
      let err = 0;
      for (let k = 0; k < problem.K; k++) err += inst.v[k]! * g(field(inst.W, k));
      for (let m = 0; m < problem.M; m++) err -= inst.vStar[m]! * g(field(inst.wStar, m));
      const value = 0.5 * err * err;
      sum += value;
      sum2 += value * value;
    }
    const mean = sum / samples;
    const se = Math.sqrt((sum2 / samples - mean * mean) / samples);
    const exact = generalisationError(op);
    expect(Math.abs(exact - mean)).toBeLessThan(5 * se);
    expect(generalisationError(op, 'mse')).toBeCloseTo(2 * exact, 12);
  });

  it('has the sanity values of spec 3.6: teacher-only M/6, a random student adds about K/6', () => {
    const K = 2;
    const M = 4;
    const eye = (d: number) => Float64Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0));
    const base = {
      K,
      M,
      Q: eye(K),
      R: new Float64Array(K * M),
      T: eye(M),
      S: new Float64Array(K),
      U: new Float64Array(M),
      P: 1,
      vStar: new Float64Array(M).fill(1),
    };
    expect(generalisationError({ ...base, v: new Float64Array(K) })).toBeCloseTo(M / 6, 12);
    expect(generalisationError({ ...base, v: new Float64Array(K).fill(1) })).toBeCloseTo((M + K) / 6, 12);
  });
});
