/**
 * A finite-D teacher-student instance (teacher, student, top-down vector F, DFA feedback) and the order
 * parameters it defines. Weights are float64: millions of O(1/sqrt(D)) online updates accumulate into them.
 */
import { Rng } from '../core/rng.js';

import type { TheoryProblem } from './problem.js';

/** Weights of one instance, row-major: W is K x D, wStar is M x D. */
export interface Instance {
  D: number;
  K: number;
  M: number;
  W: Float64Array;
  v: Float64Array;
  wStar: Float64Array;
  vStar: Float64Array;
  /** The top-down vector F (length D). */
  F: Float64Array;
  /** DFA/FA's fixed feedback vector (length K). */
  b: Float64Array;
}

/**
 * Order parameters: Q = W W^T / D, R = W wStar^T / D, T = wStar wStar^T / D, S = W F / D, U = wStar F / D,
 * P = F . F / D, and both second layers.
 */
export interface OrderParameters {
  K: number;
  M: number;
  Q: Float64Array;
  R: Float64Array;
  T: Float64Array;
  S: Float64Array;
  U: Float64Array;
  P: number;
  v: Float64Array;
  vStar: Float64Array;
}

function fillNormal(rng: Rng, out: Float64Array, std: number): void {
  for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
}

/** Draws the instance of `problem.seed`; each part has its own stream, so e.g. K does not change the teacher. */
export function sampleInstance(problem: TheoryProblem): Instance {
  const { D, K, M } = problem;
  const root = Rng.fromSeed(problem.seed).derive('theory');
  const wStar = new Float64Array(M * D);
  fillNormal(root.derive('teacher-first'), wStar, 1);
  const vStar = new Float64Array(M).fill(1);
  if (problem.teacherSecondLayer === 'gaussian') fillNormal(root.derive('teacher-second'), vStar, 1);
  const W = new Float64Array(K * D);
  fillNormal(root.derive('student-first'), W, problem.firstLayerStd);
  const v = new Float64Array(K);
  if (problem.secondLayerInit === 'ones') v.fill(1);
  else fillNormal(root.derive('student-second'), v, problem.secondLayerStd);
  const F = new Float64Array(D);
  fillNormal(root.derive('feedback'), F, 1);
  if (problem.feedback.draw === 'student-mix') {
    problem.feedback.mix.slice(0, K).forEach((c, k) => {
      for (let i = 0; i < D; i++) F[i]! += c * W[k * D + i]!;
    });
  }
  const b = new Float64Array(K);
  fillNormal(root.derive('dfa-feedback'), b, problem.dfaFeedbackStd);
  return { D, K, M, W, v, wStar, vStar, F, b };
}

/** Deep copy (the simulator trains a copy per seed). */
export function cloneInstance(inst: Instance): Instance {
  return {
    ...inst,
    W: inst.W.slice(),
    v: inst.v.slice(),
    wStar: inst.wStar.slice(),
    vStar: inst.vStar.slice(),
    F: inst.F.slice(),
    b: inst.b.slice(),
  };
}

function dot(a: Float64Array, aOffset: number, b: Float64Array, bOffset: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[aOffset + i]! * b[bOffset + i]!;
  return s;
}

/** Overlap matrix A B^T / D of row sets A (rows x D) and B (cols x D). */
function overlaps(A: Float64Array, rows: number, B: Float64Array, cols: number, D: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = dot(A, r * D, B, c * D, D) / D;
  }
  return out;
}

/** The order parameters of an instance's current weights. */
export function orderParameters(inst: Instance): OrderParameters {
  const { D, K, M } = inst;
  return {
    K,
    M,
    Q: overlaps(inst.W, K, inst.W, K, D),
    R: overlaps(inst.W, K, inst.wStar, M, D),
    T: overlaps(inst.wStar, M, inst.wStar, M, D),
    S: overlaps(inst.W, K, inst.F, 1, D),
    U: overlaps(inst.wStar, M, inst.F, 1, D),
    P: dot(inst.F, 0, inst.F, 0, D) / D,
    v: inst.v.slice(),
    vStar: inst.vStar.slice(),
  };
}

/**
 * The covariance of the local fields (lambda_1..K, nu_1..M, rho) with lambda_k = w_k . x / sqrt(D),
 * nu_m = w*_m . x / sqrt(D), rho = F . x / sqrt(D), for x ~ N(0, I_D). Size n = K + M + 1.
 */
export function fieldCovariance(op: OrderParameters, out?: Float64Array): Float64Array {
  const { K, M } = op;
  const n = K + M + 1;
  const C = out ?? new Float64Array(n * n);
  const set = (i: number, j: number, value: number): void => {
    C[i * n + j] = value;
    C[j * n + i] = value;
  };
  for (let k = 0; k < K; k++) {
    for (let l = 0; l < K; l++) C[k * n + l] = op.Q[k * K + l]!;
    for (let m = 0; m < M; m++) set(k, K + m, op.R[k * M + m]!);
    set(k, n - 1, op.S[k]!);
  }
  for (let a = 0; a < M; a++) {
    for (let m = 0; m < M; m++) C[(K + a) * n + K + m] = op.T[a * M + m]!;
    set(K + a, n - 1, op.U[a]!);
  }
  C[n * n - 1] = op.P;
  return C;
}
