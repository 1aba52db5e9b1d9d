import { describe, expect, it } from 'vitest';

import { timeGrid } from '../src/theory/grid.js';
import { orderParameters, sampleInstance } from '../src/theory/instance.js';
import { integrate, OrderParameterOde } from '../src/theory/ode.js';
import { resolveTheoryProblem, type TheoryProblemInput } from '../src/theory/problem.js';
import { solveOde } from '../src/theory/solve.js';

/** Saad & Solla's soft committee machine: K = M = 2, v = v* = 1 fixed, small initial weights. */
const COMMITTEE: TheoryProblemInput = {
  D: 10_000,
  K: 2,
  M: 2,
  lr: 0.5,
  firstLayerStd: 0.01,
  secondLayerInit: 'ones',
  trainSecondLayer: false,
  tMax: 2000,
  points: 80,
};

describe('order-parameter ODEs', () => {
  it('BP: eps_g falls onto the symmetric plateau, stays there, then escapes to ~0 (Saad & Solla)', () => {
    const problem = resolveTheoryProblem(COMMITTEE);
    const sol = solveOde('bp', problem, sampleInstance(problem), timeGrid(problem));
    const pts = sol.points;
    const eg0 = pts[0]!.eg;
    // the plateau: a window of a decade in t where eps_g changes by < 1% and every R_km is the same
    const window = pts.filter((p) => p.t >= 20 && p.t <= 100);
    expect(window.length).toBeGreaterThan(5);
    const plateau = window[0]!.eg;
    for (const p of window) {
      expect(Math.abs(p.eg - plateau) / plateau).toBeLessThan(0.01);
      const R = Array.from(p.order.R);
      const meanR = R.reduce((a, b) => a + b, 0) / R.length;
      expect(meanR).toBeGreaterThan(0.2);
      for (const r of R) expect(Math.abs(r - meanR)).toBeLessThan(0.02);
    }
    expect(plateau).toBeLessThan(0.2 * eg0);
    // escape: specialised at the end (each student unit matches one teacher unit), error far below the plateau
    const last = pts[pts.length - 1]!;
    expect(last.eg).toBeLessThan(1e-4 * plateau);
    const R = last.order.R;
    const diagonal = Math.max(R[0]! * R[3]!, R[1]! * R[2]!);
    expect(diagonal).toBeGreaterThan(0.9);
  });

  it('the adaptive integrator agrees with fixed-step RK4', () => {
    const problem = resolveTheoryProblem({
      D: 1000,
      lr: 0.3,
      tMax: 30,
      points: 10,
      feedback: { draw: 'student-mix' },
    });
    const inst = sampleInstance(problem);
    const grid = timeGrid(problem);
    for (const rule of ['afa', 'dfa', 'bp'] as const) {
      const a = solveOde(rule, problem, inst, grid);
      const b = solveOde(rule, problem, inst, grid, { method: 'rk4', dt: 0.005 });
      a.points.forEach((p, i) => expect(p.eg).toBeCloseTo(b.points[i]!.eg, 7));
    }
  });

  it('DFA with b = v and a frozen second layer is exactly BP', () => {
    const problem = resolveTheoryProblem({ ...COMMITTEE, D: 300, tMax: 50, points: 12 });
    const inst = sampleInstance(problem);
    inst.b.set(inst.v);
    const grid = timeGrid(problem);
    const dfa = solveOde('dfa', problem, inst, grid, { method: 'rk4', dt: 0.01 });
    const bp = solveOde('bp', problem, inst, grid, { method: 'rk4', dt: 0.01 });
    dfa.points.forEach((p, i) => expect(Array.from(p.order.Q)).toEqual(Array.from(bp.points[i]!.order.Q)));
  });

  it("PEPITA follows AFA's ODE, FA follows DFA's", () => {
    const problem = resolveTheoryProblem({ D: 400, tMax: 20, points: 8 });
    const inst = sampleInstance(problem);
    const grid = timeGrid(problem);
    expect(solveOde('pepita', problem, inst, grid).points.map((p) => p.eg)).toEqual(
      solveOde('afa', problem, inst, grid).points.map((p) => p.eg),
    );
    expect(solveOde('fa', problem, inst, grid).points.map((p) => p.eg)).toEqual(
      solveOde('dfa', problem, inst, grid).points.map((p) => p.eg),
    );
  });

  it('without learning nothing moves, and the derivative is zero at the teacher', () => {
    const problem = resolveTheoryProblem({ D: 500, K: 2, M: 2, noise: 0 });
    const inst = sampleInstance(problem);
    // the student equal to the teacher: a fixed point of every rule
    inst.W.set(inst.wStar);
    inst.v.set(inst.vStar);
    const op = orderParameters(inst);
    for (const rule of ['afa', 'dfa', 'bp'] as const) {
      const ode = new OrderParameterOde(rule, problem, op, inst.b);
      const dy = new Float64Array(ode.size);
      ode.derivative(ode.pack(op), dy);
      for (const d of dy) expect(Math.abs(d)).toBeLessThan(1e-12);
    }
  });

  it('integrates the paper setting (D = 500, lr 0.05, t up to 5000) in well under a second', () => {
    const problem = resolveTheoryProblem({ D: 500, K: 2, M: 2, lr: 0.05, tMax: 5000, points: 100 });
    const inst = sampleInstance(problem);
    const start = performance.now();
    const sol = solveOde('afa', problem, inst, timeGrid(problem));
    expect(performance.now() - start).toBeLessThan(500);
    expect(sol.points.every((p) => Number.isFinite(p.eg))).toBe(true);
  });

  it('stops with a usage error when the solution blows up', () => {
    const ode = { size: 1, derivative: (y: Float64Array, dy: Float64Array) => void (dy[0] = y[0]! * y[0]!) };
    expect(() => integrate(ode, Float64Array.of(1), [0, 2])).toThrow(/finite range|underflowed/);
  });
});
