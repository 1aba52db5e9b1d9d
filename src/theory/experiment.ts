/**
 * One theory experiment: the ODE prediction and the seed-averaged simulation of each rule from the same
 * initial weights, on one time grid, with the gap between them.
 */
import { averageCurve, relativeGap, mean, type Curve, type ExperimentResult } from './curves.js';
import { timeGrid, type TimeGrid } from './grid.js';
import { sampleInstance, type Instance } from './instance.js';
import type { IntegrateOptions } from './ode.js';
import { simulateAll } from './parallel.js';
import { checkTheoryBudget, type TheoryLimits } from './budget.js';
import { odeSystemOf, type TheoryProblem, type TheoryRule } from './problem.js';
import { solveOde } from './solve.js';

export type { AngleSeries, Curve, ExperimentResult, OrderSeries } from './curves.js';
export { relativeGap } from './curves.js';

export interface ExperimentOptions {
  rules: TheoryRule[];
  /** Number of sample streams per rule (simulations are averaged over them). */
  seeds: number;
  ode: boolean;
  sim: boolean;
  /** Concurrent simulations (worker threads). */
  workers?: number;
  integrate?: IntegrateOptions;
  /** Memory and step limits, checked before anything is allocated (see `checkTheoryBudget`). */
  limits?: TheoryLimits;
  onProgress?: (stage: 'ode' | 'sim', fraction: number) => void;
}

/** Runs the experiment; `instance` defaults to the problem seed's draw. */
export async function runExperiment(
  problem: TheoryProblem,
  options: ExperimentOptions,
  given?: Instance,
  grid: TimeGrid = timeGrid(problem),
): Promise<ExperimentResult> {
  const simulations = options.rules.length * options.seeds;
  const concurrent = options.sim ? Math.min(simulations, Math.max(1, options.workers ?? 1)) : 0;
  checkTheoryBudget(problem, concurrent, options.limits);
  const instance = given ?? sampleInstance(problem);
  const curves: Curve[] = [];
  if (options.ode) {
    options.rules.forEach((rule, i) => {
      const start = performance.now();
      const solution = solveOde(rule, problem, instance, grid, options.integrate);
      curves.push(averageCurve([solution], odeSystemOf(rule), (performance.now() - start) / 1000));
      options.onProgress?.('ode', (i + 1) / options.rules.length);
    });
  }
  if (options.sim) {
    const requests = options.rules.flatMap((rule) =>
      Array.from({ length: options.seeds }, (_, seed) => ({ rule, seed })),
    );
    const start = performance.now();
    const trajectories = await simulateAll(requests, problem, instance, grid, {
      workers: options.workers,
      onProgress: (f) => options.onProgress?.('sim', f),
    });
    const seconds = (performance.now() - start) / 1000;
    for (const rule of options.rules) {
      const mine = trajectories.filter((tr) => tr.rule === rule);
      const curve = averageCurve(mine, odeSystemOf(rule), seconds);
      const ode = curves.find((c) => c.kind === 'ode' && c.rule === rule);
      if (ode) curve.rel_gap = relativeGap(curve.eg, ode.eg);
      curves.push(curve);
    }
  }
  const gaps = curves.flatMap((c) => (c.rel_gap ? [c.rel_gap] : []));
  return {
    problem,
    curves,
    max_rel_gap: gaps.length ? Math.max(...gaps.map((g) => g.max)) : null,
    mean_rel_gap: gaps.length ? mean(gaps.map((g) => g.mean)) : null,
  };
}
