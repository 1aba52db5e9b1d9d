/**
 * Online SGD in the two-layer teacher-student model: one fresh Gaussian input per step, updates scaled
 * eta / sqrt(D) (first layer) and eta_v / D (second layer), time t = steps / D (spec 3.1-3.2).
 */
import erf from '@stdlib/math-base-special-erf';

import { NormalStream } from '../core/normal-stream.js';
import { Rng } from '../core/rng.js';

import type { TimeGrid } from './grid.js';
import { cloneInstance, orderParameters, type Instance } from './instance.js';
import { feedbackGain, type TheoryProblem, type TheoryRule } from './problem.js';
import { observe, type Trajectory } from './trajectory.js';

const SQRT_HALF = Math.SQRT1_2;
const G_PRIME = Math.sqrt(2 / Math.PI);

/** g(z) = erf(z / sqrt 2). */
const g = (z: number): number => erf(z * SQRT_HALF);
/** g'(z) = sqrt(2/pi) exp(-z^2 / 2). */
const gPrime = (z: number): number => G_PRIME * Math.exp(-0.5 * z * z);

/** The stream of inputs (and label noise) of sample seed `seed`, derived from the problem's seed. */
export function sampleStream(problem: TheoryProblem, seed: number): NormalStream {
  return NormalStream.fromRng(Rng.fromSeed(problem.seed).derive('theory').derive(`samples-${seed}`));
}

export interface SimulateOptions {
  /** Called now and then with the fraction of steps done. */
  onProgress?: (fraction: number) => void;
}

/**
 * out[r] = rows[r] . x for the first `count` rows of a row-major buffer. Rows go in pairs so each x[i] is
 * loaded once for two rows, with two accumulators per row (one long add chain would be latency-bound).
 */
function rowDots(rows: Float64Array, count: number, x: Float64Array, D: number, out: Float64Array): void {
  let r = 0;
  for (; r + 1 < count; r += 2) {
    const o1 = r * D;
    const o2 = o1 + D;
    let s0 = 0;
    let s1 = 0;
    let t0 = 0;
    let t1 = 0;
    let i = 0;
    for (; i + 1 < D; i += 2) {
      const x0 = x[i]!;
      const x1 = x[i + 1]!;
      s0 += rows[o1 + i]! * x0;
      s1 += rows[o1 + i + 1]! * x1;
      t0 += rows[o2 + i]! * x0;
      t1 += rows[o2 + i + 1]! * x1;
    }
    if (i < D) {
      s0 += rows[o1 + i]! * x[i]!;
      t0 += rows[o2 + i]! * x[i]!;
    }
    out[r] = s0 + s1;
    out[r + 1] = t0 + t1;
  }
  if (r < count) {
    const o = r * D;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (; i + 3 < D; i += 4) {
      s0 += rows[o + i]! * x[i]!;
      s1 += rows[o + i + 1]! * x[i + 1]!;
      s2 += rows[o + i + 2]! * x[i + 2]!;
      s3 += rows[o + i + 3]! * x[i + 3]!;
    }
    for (; i < D; i++) s0 += rows[o + i]! * x[i]!;
    out[r] = s0 + s1 + (s2 + s3);
  }
}

/** rows[k] += a[k] x + b[k] f for k < count (rows in pairs, as in `rowDots`); f is read only where b != 0. */
function addToRows(
  rows: Float64Array,
  count: number,
  a: Float64Array,
  x: Float64Array,
  b: Float64Array | undefined,
  f: Float64Array,
  D: number,
): void {
  let k = 0;
  for (; k + 1 < count; k += 2) {
    const o1 = k * D;
    const o2 = o1 + D;
    const a1 = a[k]!;
    const a2 = a[k + 1]!;
    if (b) {
      const b1 = b[k]!;
      const b2 = b[k + 1]!;
      for (let i = 0; i < D; i++) {
        const xi = x[i]!;
        const fi = f[i]!;
        rows[o1 + i]! += a1 * xi + b1 * fi;
        rows[o2 + i]! += a2 * xi + b2 * fi;
      }
    } else {
      for (let i = 0; i < D; i++) {
        const xi = x[i]!;
        rows[o1 + i]! += a1 * xi;
        rows[o2 + i]! += a2 * xi;
      }
    }
  }
  if (k < count) {
    const o = k * D;
    const a1 = a[k]!;
    if (b) {
      const b1 = b[k]!;
      for (let i = 0; i < D; i++) rows[o + i]! += a1 * x[i]! + b1 * f[i]!;
    } else {
      for (let i = 0; i < D; i++) rows[o + i]! += a1 * x[i]!;
    }
  }
}

/**
 * Trains a copy of `initial` online with `rule` on sample stream `seed` and records the observables at every
 * time of `grid`. The instance passed in is not modified.
 */
export function simulate(
  rule: TheoryRule,
  problem: TheoryProblem,
  initial: Instance,
  seed: number,
  grid: TimeGrid,
  options: SimulateOptions = {},
): Trajectory {
  const { D, K, M } = initial;
  // One buffer for every row a step takes a dot product with: W (K rows), w* (M rows), F.
  const rows = new Float64Array((K + M + 1) * D);
  rows.set(initial.W, 0);
  rows.set(initial.wStar, K * D);
  rows.set(initial.F, (K + M) * D);
  const inst = cloneInstance(initial);
  inst.W = rows.subarray(0, K * D);
  inst.wStar = rows.subarray(K * D, (K + M) * D);
  inst.F = rows.subarray((K + M) * D);
  const { v, vStar, F } = inst;
  const fixed = inst.b;
  const stream = sampleStream(problem, seed);
  const x = new Float64Array(D);
  const fields = new Float64Array(K + M + 1);
  const lambda = new Float64Array(K);
  const coef = new Float64Array(K);
  const coefF = new Float64Array(K);
  const gMod = new Float64Array(K);
  const invSqrtD = 1 / Math.sqrt(D);
  const eta = problem.lr;
  const etaV = problem.trainSecondLayer ? problem.lrSecond / D : 0;
  const kappa = feedbackGain(problem);
  const eps = problem.feedback.scale;
  const noise = problem.noise;
  const usesF = rule === 'pepita' || rule === 'afa';
  const dotRows = usesF ? K + M + 1 : K + M;

  let S = new Float64Array(K);
  let P = 0;
  const points: Trajectory['points'] = [];
  const record = (step: number): void => {
    const order = orderParameters(inst);
    S = order.S.slice(); // re-synchronise the running S with the exact overlaps
    P = order.P;
    points.push(observe(rule, problem, step / D, order, fixed));
  };

  const totalSteps = grid.steps[grid.steps.length - 1]!;
  const progressEvery = Math.max(1, Math.floor(totalSteps / 200));
  let next = 0;
  for (let step = 0; ; step++) {
    if (step === grid.steps[next]) {
      record(step);
      next++;
      if (next === grid.steps.length) break;
    }
    if (options.onProgress && step % progressEvery === 0) options.onProgress(step / totalSteps);

    stream.fill(x);
    rowDots(rows, dotRows, x, D, fields);
    let yHat = 0;
    for (let k = 0; k < K; k++) {
      lambda[k] = fields[k]! * invSqrtD;
      yHat += v[k]! * g(lambda[k]!);
    }
    let y = noise > 0 ? noise * stream.next() : 0;
    for (let m = 0; m < M; m++) y += vStar[m]! * g(fields[K + m]! * invSqrtD);
    const delta = y - yHat;
    const rho = usesF ? fields[K + M]! * invSqrtD : 0;

    if (rule === 'pepita') {
      // x_mod = x + c F; lambda_mod = lambda + c sqrt(D) S; dW_k = -(eta / (eps sqrt D)) (g - g_mod) x_mod.
      const c = eps * kappa * delta * invSqrtD;
      for (let k = 0; k < K; k++) {
        const gm = g(lambda[k]! + c * Math.sqrt(D) * S[k]!);
        gMod[k] = gm;
        coef[k] = (-eta / (eps * Math.sqrt(D))) * (g(lambda[k]!) - gm);
        coefF[k] = coef[k]! * c;
        S[k]! += coef[k]! * (rho * invSqrtD + c * P);
        v[k]! += etaV * delta * gm;
      }
      addToRows(rows, K, coef, x, coefF, F, D);
      continue;
    }
    for (let k = 0; k < K; k++) {
      const b = rule === 'afa' ? kappa * S[k]! : rule === 'bp' ? v[k]! : fixed[k]!;
      coef[k] = eta * invSqrtD * b * gPrime(lambda[k]!) * delta;
    }
    for (let k = 0; k < K; k++) {
      if (usesF) S[k]! += coef[k]! * rho * invSqrtD;
      v[k]! += etaV * delta * g(lambda[k]!);
    }
    addToRows(rows, K, coef, x, undefined, F, D);
  }
  options.onProgress?.(1);
  return { kind: 'sim', rule, seed, points };
}
