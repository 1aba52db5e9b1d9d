import erf from '@stdlib/math-base-special-erf';
import { describe, expect, it } from 'vitest';

import { relativeGap, runExperiment } from '../src/theory/experiment.js';
import { timeGrid } from '../src/theory/grid.js';
import { orderParameters, sampleInstance, type Instance } from '../src/theory/instance.js';
import { generalisationError } from '../src/theory/observables.js';
import { resolveTheoryProblem, type TheoryProblem, type TheoryRule } from '../src/theory/problem.js';
import { sampleStream, simulate } from '../src/theory/simulate.js';

const g = (z: number): number => erf(z / Math.SQRT2);
const gp = (z: number): number => Math.sqrt(2 / Math.PI) * Math.exp(-0.5 * z * z);

/** One online step of `rule`, written from the update equations of spec 3.2 with plain loops. */
function referenceStep(rule: TheoryRule, p: TheoryProblem, inst: Instance, x: Float64Array): void {
  const { D, K, M } = p;
  const field = (w: Float64Array, row: number, input: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < D; i++) s += w[row * D + i]! * input[i]!;
    return s / Math.sqrt(D);
  };
  const lambda = Array.from({ length: K }, (_, k) => field(inst.W, k, x));
  let y = 0;
  for (let m = 0; m < M; m++) y += inst.vStar[m]! * g(field(inst.wStar, m, x));
  let yHat = 0;
  for (let k = 0; k < K; k++) yHat += inst.v[k]! * g(lambda[k]!);
  const delta = y - yHat;
  const S = Array.from({ length: K }, (_, k) => field(inst.W, k, inst.F) / Math.sqrt(D));
  const W0 = inst.W.slice();
  const v0 = inst.v.slice();
  if (rule === 'pepita') {
    const eps = p.feedback.scale;
    const xMod = x.map((xi, i) => xi + (eps * delta * inst.F[i]!) / Math.sqrt(D));
    for (let k = 0; k < K; k++) {
      const lMod = field(W0, k, xMod);
      for (let i = 0; i < D; i++) {
        inst.W[k * D + i]! -= (p.lr / (eps * Math.sqrt(D))) * (g(lambda[k]!) - g(lMod)) * xMod[i]!;
      }
      inst.v[k]! += (p.lrSecond / D) * delta * g(lMod);
    }
    return;
  }
  for (let k = 0; k < K; k++) {
    const b = rule === 'afa' ? S[k]! : rule === 'bp' ? v0[k]! : inst.b[k]!;
    for (let i = 0; i < D; i++)
      inst.W[k * D + i]! += (p.lr / Math.sqrt(D)) * b * gp(lambda[k]!) * delta * x[i]!;
    inst.v[k]! += (p.lrSecond / D) * delta * g(lambda[k]!);
  }
}

describe('online simulation', () => {
  it.each(['pepita', 'afa', 'dfa', 'fa', 'bp'] as const)(
    '%s: three steps equal the reference update loop',
    (rule) => {
      const problem = resolveTheoryProblem({
        D: 30,
        K: 3,
        M: 2,
        lr: 0.4,
        lrSecond: 0.7,
        feedback: { draw: 'student-mix', scale: 0.3 },
        tMin: 1 / 30,
        tMax: 3 / 30,
        points: 3,
        seed: 4,
      });
      const inst = sampleInstance(problem);
      const grid = timeGrid(problem);
      expect(grid.steps).toEqual([0, 1, 2, 3]);
      const traj = simulate(rule, problem, inst, 0, grid);
      const stream = sampleStream(problem, 0);
      const ref = { ...inst, W: inst.W.slice(), v: inst.v.slice() };
      const x = new Float64Array(problem.D);
      for (let step = 1; step <= 3; step++) {
        stream.fill(x);
        referenceStep(rule, problem, ref, x);
        const want = generalisationError(orderParameters(ref));
        expect(traj.points[step]!.eg).toBeCloseTo(want, 10);
        expect(Array.from(traj.points[step]!.order.v)).toEqual(
          Array.from(ref.v).map((v) => expect.closeTo(v, 12)),
        );
      }
    },
  );

  it('starts from the same weights as the ODE and is reproducible from the seed', () => {
    const problem = resolveTheoryProblem({ D: 200, tMax: 2, points: 5 });
    const inst = sampleInstance(problem);
    const grid = timeGrid(problem);
    const a = simulate('afa', problem, inst, 0, grid);
    const b = simulate('afa', problem, inst, 0, grid);
    const c = simulate('afa', problem, inst, 1, grid);
    expect(a.points[0]!.eg).toBe(generalisationError(orderParameters(inst)));
    expect(a.points.map((p) => p.eg)).toEqual(b.points.map((p) => p.eg));
    expect(a.points.at(-1)!.eg).not.toBe(c.points.at(-1)!.eg);
  });

  // The large-D agreement the theory promises (spec 3.8): F correlated with the student so that the feedback
  // is O(1) from the start, short horizon, two sample streams averaged.
  it.each(['afa', 'dfa'] as const)(
    '%s: ODE and simulation at D = 3000 agree within a few percent',
    async (rule) => {
      const problem = resolveTheoryProblem({
        D: 3000,
        K: 2,
        M: 2,
        lr: 0.5,
        secondLayerStd: 0.5,
        feedback: { draw: 'student-mix' },
        tMin: 0.5,
        tMax: 8,
        points: 8,
      });
      const result = await runExperiment(problem, { rules: [rule], seeds: 2, ode: true, sim: true });
      const [ode, sim] = result.curves;
      expect(ode!.eg.at(-1)!).toBeLessThan(0.6 * ode!.eg[0]!); // it learns over the horizon
      expect(sim!.rel_gap!.mean).toBeLessThan(0.03);
      expect(sim!.rel_gap!.max).toBeLessThan(0.06);
      expect(result.max_rel_gap).toBe(sim!.rel_gap!.max);
    },
  );

  it('PEPITA with a small F is indistinguishable from AFA on the same samples', () => {
    const problem = resolveTheoryProblem({
      D: 1000,
      lr: 0.5,
      feedback: { draw: 'student-mix', scale: 1e-3 },
      tMin: 0.5,
      tMax: 5,
      points: 6,
    });
    const inst = sampleInstance(problem);
    const grid = timeGrid(problem);
    const pepita = simulate('pepita', problem, inst, 0, grid);
    const afa = simulate('afa', problem, inst, 0, grid);
    const gap = relativeGap(
      pepita.points.map((p) => p.eg),
      afa.points.map((p) => p.eg),
    );
    expect(gap.max).toBeLessThan(0.01);
    // and a large F makes a visible difference (the test can fail)
    const coarse = resolveTheoryProblem({ ...problem, feedback: { ...problem.feedback, scale: 3 } });
    const far = simulate('pepita', coarse, inst, 0, grid);
    expect(
      relativeGap(
        far.points.map((p) => p.eg),
        afa.points.map((p) => p.eg),
      ).max,
    ).toBeGreaterThan(0.01);
  });

  it('simulates the Fig. 2 setting (D = 500) at a rate that makes a full curve take seconds', () => {
    const problem = resolveTheoryProblem({ D: 500, lr: 0.05, tMax: 100, points: 5 });
    const inst = sampleInstance(problem);
    const start = performance.now();
    simulate('pepita', problem, inst, 0, timeGrid(problem));
    const perStep = (performance.now() - start) / (100 * 500);
    // t = 4000 is 2e6 steps: about 5 us a step here (10 s); the bound leaves room for a loaded CI machine and
    // catches only order-of-magnitude regressions (40 us a step would be 80 s per seed)
    expect(perStep).toBeLessThan(0.04);
  });
});
