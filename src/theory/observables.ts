/** What the theory reports at each time: the generalisation error and the angles of Fig. 2c. */
import type { OrderParameters } from './instance.js';
import { feedbackGain, type TheoryProblem, type TheoryRule } from './problem.js';

const asin = (x: number): number => Math.asin(x > 1 ? 1 : x < -1 ? -1 : x);

/**
 * eps_g = 1/2 E[(yhat - y)^2] over x ~ N(0, I_D) (spec 3.6; noise-free teacher), exact for any finite-D weights
 * because the local fields are jointly Gaussian. `mse` doubles it.
 */
export function generalisationError(op: OrderParameters, convention: 'half' | 'mse' = 'half'): number {
  const { K, M, Q, R, T, v, vStar } = op;
  let student = 0;
  for (let k = 0; k < K; k++) {
    for (let l = 0; l < K; l++) {
      student += v[k]! * v[l]! * asin(Q[k * K + l]! / Math.sqrt((1 + Q[k * K + k]!) * (1 + Q[l * K + l]!)));
    }
  }
  let teacher = 0;
  for (let n = 0; n < M; n++) {
    for (let m = 0; m < M; m++) {
      teacher +=
        vStar[n]! * vStar[m]! * asin(T[n * M + m]! / Math.sqrt((1 + T[n * M + n]!) * (1 + T[m * M + m]!)));
    }
  }
  let cross = 0;
  for (let k = 0; k < K; k++) {
    for (let m = 0; m < M; m++) {
      cross += v[k]! * vStar[m]! * asin(R[k * M + m]! / Math.sqrt((1 + Q[k * K + k]!) * (1 + T[m * M + m]!)));
    }
  }
  const half = (student + teacher - 2 * cross) / Math.PI;
  return convention === 'mse' ? 2 * half : half;
}

/** Angle in degrees between two vectors; NaN when either is zero. */
export function angleDeg(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  if (aa === 0 || bb === 0) return NaN;
  const c = ab / Math.sqrt(aa * bb);
  return (180 / Math.PI) * Math.acos(c > 1 ? 1 : c < -1 ? -1 : c);
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const rest of permutations(n - 1)) {
    for (let i = 0; i <= rest.length; i++) out.push([...rest.slice(0, i), n - 1, ...rest.slice(i)]);
  }
  return out;
}

/**
 * The teacher's second layer in the symmetry-equivalent form the student's first layer is closest to: erf is
 * odd, so (w*_m, v*_m) -> (-w*_m, -v*_m) and permutations of the hidden units leave the teacher's function
 * unchanged. Student unit k is matched to teacher unit pi(k) by the permutation maximising the summed
 * |normalised overlap| |R_k,pi(k)| / sqrt(Q_kk T_mm), and takes the sign of that overlap. Needs K = M.
 */
export function degenerateTeacher(op: OrderParameters): Float64Array | undefined {
  const { K, M, Q, R, T, vStar } = op;
  if (K !== M) return undefined;
  const cosine = (k: number, m: number): number =>
    R[k * M + m]! / Math.sqrt(Math.max(Q[k * K + k]! * T[m * M + m]!, 1e-300));
  let best: number[] = [];
  let bestScore = -Infinity;
  for (const perm of permutations(K)) {
    const score = perm.reduce((s, m, k) => s + Math.abs(cosine(k, m)), 0);
    if (score > bestScore) {
      bestScore = score;
      best = perm;
    }
  }
  return Float64Array.from(best, (m, k) => (cosine(k, m) < 0 ? -1 : 1) * vStar[m]!);
}

/**
 * The rule's feedback vector b (what replaces v in the first-layer update): kappa S = W_1 F (normalised) for
 * PEPITA/AFA, the fixed vector for DFA/FA, v itself for BP.
 */
export function feedbackVector(
  rule: TheoryRule,
  problem: TheoryProblem,
  op: OrderParameters,
  fixed: Float64Array,
): Float64Array {
  if (rule === 'pepita' || rule === 'afa') {
    const kappa = feedbackGain(problem);
    return op.S.map((s) => kappa * s);
  }
  return rule === 'bp' ? op.v.slice() : fixed.slice();
}

/** The three angles of Fig. 2c (degrees; NaN where undefined, e.g. K != M for the teacher angles). */
export interface Angles {
  /** angle(v, v*). */
  teacher: number;
  /** angle(v, v*_deg): the symmetry-equivalent teacher matched to the student's first layer. */
  degenerate: number;
  /** angle(v, b): the student's second layer against the rule's feedback vector (W_1 F for PEPITA/AFA). */
  feedback: number;
}

export function angles(op: OrderParameters, feedback: Float64Array): Angles {
  const deg = degenerateTeacher(op);
  return {
    teacher: op.K === op.M ? angleDeg(op.v, op.vStar) : NaN,
    degenerate: deg ? angleDeg(op.v, deg) : NaN,
    feedback: angleDeg(op.v, feedback),
  };
}
