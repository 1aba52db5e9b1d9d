/**
 * Order-parameter ODEs of online learning in the two-layer teacher-student model (spec 3.5): the AFA system,
 * which is PEPITA's small-F limit, reduces to DFA (and FA) with a fixed feedback vector and to BP with b = v.
 * The state is (Q, R, S, v); T, U, P and v* are constant.
 */
import { TopdownUsageError } from '../core/errors.js';

import type { OrderParameters } from './instance.js';
import { i2, i3, i4, j2 } from './integrals.js';
import { feedbackGain, odeSystemOf, type TheoryProblem, type TheoryRule } from './problem.js';

/** The right-hand side of the ODEs for one rule and its constants. */
export class OrderParameterOde {
  readonly K: number;
  readonly M: number;
  /** Length of the packed state [Q (K*K), R (K*M), S (K), v (K)]. */
  readonly size: number;
  private readonly system: 'afa' | 'dfa' | 'bp';
  private readonly n: number;
  private readonly C: Float64Array;
  private readonly c: Float64Array;
  private readonly b: Float64Array;
  private readonly A: Float64Array;
  private readonly kappa: number;

  constructor(
    readonly rule: TheoryRule,
    readonly problem: TheoryProblem,
    private readonly constants: Pick<OrderParameters, 'T' | 'U' | 'P' | 'vStar'>,
    /** DFA/FA's fixed feedback vector (ignored by the other rules). */
    private readonly fixedFeedback: Float64Array,
  ) {
    this.K = problem.K;
    this.M = problem.M;
    this.system = odeSystemOf(rule);
    this.kappa = feedbackGain(problem);
    this.n = this.K + this.M + 1;
    this.size = this.K * this.K + this.K * this.M + 2 * this.K;
    this.C = new Float64Array(this.n * this.n);
    this.c = new Float64Array(this.K + this.M);
    this.b = new Float64Array(this.K);
    this.A = new Float64Array(this.K * this.n);
  }

  pack(op: OrderParameters): Float64Array {
    const y = new Float64Array(this.size);
    y.set(op.Q, 0);
    y.set(op.R, this.K * this.K);
    y.set(op.S, this.K * this.K + this.K * this.M);
    y.set(op.v, this.K * this.K + this.K * this.M + this.K);
    return y;
  }

  unpack(y: Float64Array): OrderParameters {
    const { K, M } = this;
    const oR = K * K;
    const oS = oR + K * M;
    return {
      K,
      M,
      Q: y.slice(0, oR),
      R: y.slice(oR, oS),
      S: y.slice(oS, oS + K),
      v: y.slice(oS + K, oS + 2 * K),
      T: this.constants.T.slice(),
      U: this.constants.U.slice(),
      P: this.constants.P,
      vStar: this.constants.vStar.slice(),
    };
  }

  /** dy/dt at state y, written into dy. */
  derivative(y: Float64Array, dy: Float64Array): void {
    const { K, M, n, C, c, b, A } = this;
    const oR = K * K;
    const oS = oR + K * M;
    const oV = oS + K;
    const { T, U, P, vStar } = this.constants;
    for (let k = 0; k < K; k++) {
      for (let l = 0; l < K; l++) C[k * n + l] = y[k * K + l]!;
      for (let m = 0; m < M; m++) C[k * n + K + m] = C[(K + m) * n + k] = y[oR + k * M + m]!;
      C[k * n + n - 1] = C[(n - 1) * n + k] = y[oS + k]!;
    }
    for (let a = 0; a < M; a++) {
      for (let m = 0; m < M; m++) C[(K + a) * n + K + m] = T[a * M + m]!;
      C[(K + a) * n + n - 1] = C[(n - 1) * n + K + a] = U[a]!;
    }
    C[n * n - 1] = P;

    // Delta = y - yhat = sum_p c_p g(u_p) over student (c = -v) and teacher (c = v*) units.
    for (let k = 0; k < K; k++) c[k] = -y[oV + k]!;
    for (let m = 0; m < M; m++) c[K + m] = vStar[m]!;
    for (let k = 0; k < K; k++) {
      b[k] =
        this.system === 'afa'
          ? this.kappa * y[oS + k]!
          : this.system === 'bp'
            ? y[oV + k]!
            : this.fixedFeedback[k]!;
    }
    // A_k(z) = E[g'(lambda_k) z Delta] for every field z.
    for (let k = 0; k < K; k++) {
      for (let z = 0; z < n; z++) {
        let s = 0;
        for (let p = 0; p < K + M; p++) s += c[p]! * i3(C, n, k, z, p);
        A[k * n + z] = s;
      }
    }
    const eta = this.problem.lr;
    const noise2 = this.problem.noise * this.problem.noise;
    for (let k = 0; k < K; k++) {
      for (let l = k; l < K; l++) {
        // B_kl = E[g'(lambda_k) g'(lambda_l) Delta^2]
        let B = 0;
        for (let p = 0; p < K + M; p++) {
          if (c[p] === 0) continue;
          B += c[p]! * c[p]! * i4(C, n, k, l, p, p);
          for (let q = p + 1; q < K + M; q++) B += 2 * c[p]! * c[q]! * i4(C, n, k, l, p, q);
        }
        if (noise2 > 0) B += noise2 * j2(C, n, k, l);
        const d = eta * (b[k]! * A[k * n + l]! + b[l]! * A[l * n + k]!) + eta * eta * b[k]! * b[l]! * B;
        dy[k * K + l] = d;
        dy[l * K + k] = d;
      }
      for (let m = 0; m < M; m++) dy[oR + k * M + m] = eta * b[k]! * A[k * n + K + m]!;
      dy[oS + k] = eta * b[k]! * A[k * n + n - 1]!;
      let dv = 0;
      if (this.problem.trainSecondLayer) {
        for (let p = 0; p < K + M; p++) dv += c[p]! * i2(C, n, k, p);
        dv *= this.problem.lrSecond;
      }
      dy[oV + k] = dv;
    }
  }
}

export interface IntegrateOptions {
  /** `dopri5` (adaptive Dormand-Prince 5(4), default) or fixed-step `rk4`. */
  method?: 'dopri5' | 'rk4';
  /** Relative and absolute tolerances of the adaptive method. */
  rtol?: number;
  atol?: number;
  /** Step of `rk4` (time units). */
  dt?: number;
  /** Called with the index of each time reached. */
  onTime?: (index: number) => void;
}

/** Result of an integration: the state at each requested time and the number of derivative evaluations. */
export interface OdeSolution {
  states: Float64Array[];
  evaluations: number;
}

// Dormand-Prince 5(4) tableau.
const A2 = [1 / 5];
const A3 = [3 / 40, 9 / 40];
const A4 = [44 / 45, -56 / 15, 32 / 9];
const A5 = [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729];
const A6 = [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656];
const B5 = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84];
const E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];

/**
 * Integrates the ODE from y0 at times[0] through every time in `times` (increasing) and returns the state at
 * each. Throws a usage error if the state leaves the finite range (e.g. a learning rate far too large).
 */
export function integrate(
  ode: Pick<OrderParameterOde, 'derivative' | 'size'>,
  y0: Float64Array,
  times: number[],
  options: IntegrateOptions = {},
): OdeSolution {
  const method = options.method ?? 'dopri5';
  const rtol = options.rtol ?? 1e-7;
  const atol = options.atol ?? 1e-10;
  const size = ode.size;
  const k = Array.from({ length: 7 }, () => new Float64Array(size));
  const tmp = new Float64Array(size);
  const yNew = new Float64Array(size);
  const y = y0.slice();
  let evaluations = 0;
  const f = (state: Float64Array, out: Float64Array): void => {
    ode.derivative(state, out);
    evaluations++;
  };
  const stage = (h: number, coef: number[]): Float64Array => {
    for (let i = 0; i < size; i++) {
      let s = y[i]!;
      for (let j = 0; j < coef.length; j++) s += h * coef[j]! * k[j]![i]!;
      tmp[i] = s;
    }
    return tmp;
  };
  const states: Float64Array[] = [y.slice()];
  options.onTime?.(0);
  let t = times[0]!;
  let h = method === 'rk4' ? (options.dt ?? 0.01) : 1e-3;
  let haveK1 = false;
  for (let index = 1; index < times.length; index++) {
    const target = times[index]!;
    while (t < target) {
      const step = Math.min(h, target - t);
      if (method === 'rk4') {
        f(y, k[0]!);
        f(stage(step, [0.5]), k[1]!);
        f(stage(step, [0, 0.5]), k[2]!);
        f(stage(step, [0, 0, 1]), k[3]!);
        for (let i = 0; i < size; i++) {
          y[i]! += (step / 6) * (k[0]![i]! + 2 * k[1]![i]! + 2 * k[2]![i]! + k[3]![i]!);
        }
        t = step === target - t ? target : t + step;
      } else {
        if (!haveK1) {
          f(y, k[0]!);
          haveK1 = true;
        }
        f(stage(step, A2), k[1]!);
        f(stage(step, A3), k[2]!);
        f(stage(step, A4), k[3]!);
        f(stage(step, A5), k[4]!);
        f(stage(step, A6), k[5]!);
        yNew.set(stage(step, B5));
        f(yNew, k[6]!);
        let err = 0;
        for (let i = 0; i < size; i++) {
          let e = 0;
          for (let j = 0; j < 7; j++) e += E[j]! * k[j]![i]!;
          const scale = atol + rtol * Math.max(Math.abs(y[i]!), Math.abs(yNew[i]!));
          err = Math.max(err, Math.abs(step * e) / scale);
        }
        if (!Number.isFinite(err)) {
          throw new TopdownUsageError(
            `the ODE solution left the finite range at t = ${t.toPrecision(3)} (learning rate too large?)`,
          );
        }
        if (err <= 1) {
          t = step === target - t ? target : t + step;
          y.set(yNew);
          k[0]!.set(k[6]!);
        }
        const factor = err === 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * err ** -0.2));
        if (err <= 1 && step < h) {
          // A step shortened to land on the grid says nothing about the right size; keep h.
        } else {
          h = step * factor;
        }
        if (h < 1e-12)
          throw new TopdownUsageError(`the ODE step size underflowed at t = ${t.toPrecision(3)}`);
      }
    }
    if (!y.every(Number.isFinite)) {
      throw new TopdownUsageError(
        `the ODE solution left the finite range before t = ${target.toPrecision(3)} (learning rate too large?)`,
      );
    }
    states.push(y.slice());
    options.onTime?.(index);
  }
  return { states, evaluations };
}
