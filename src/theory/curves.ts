/**
 * The curves of a theory experiment: ODE solutions and seed-averaged simulations on one time grid, with the
 * gap between them (no worker threads here: the browser app builds the same curves).
 */
import type { TheoryProblem, TheoryRule } from './problem.js';
import type { Trajectory } from './trajectory.js';

export interface AngleSeries {
  teacher: number[];
  degenerate: number[];
  feedback: number[];
}

export interface OrderSeries {
  Q: number[][];
  R: number[][];
  S: number[][];
  v: number[][];
}

/** One curve of the output: an ODE solution or the mean of a rule's simulations. */
export interface Curve {
  kind: 'ode' | 'sim';
  rule: TheoryRule;
  /** The ODE system followed (PEPITA's is AFA's). */
  system: 'afa' | 'dfa' | 'bp';
  t: number[];
  eg: number[];
  /** Standard deviation of eps_g over seeds (simulations). */
  eg_std?: number[];
  seeds?: number;
  angles: AngleSeries;
  order: OrderSeries;
  /** Relative gap of a simulation curve to its rule's ODE curve (see `relativeGap`). */
  rel_gap?: { max: number; mean: number };
  seconds: number;
}

export interface ExperimentResult {
  problem: TheoryProblem;
  curves: Curve[];
  /** Largest and mean relative gap between simulation and ODE over every rule (null without both). */
  max_rel_gap: number | null;
  mean_rel_gap: number | null;
}

/** The mean of `values`. */
export const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** The seed-average of trajectories that share one grid (NaN angles are averaged as NaN). */
export function averageCurve(trajectories: Trajectory[], system: Curve['system'], seconds: number): Curve {
  const first = trajectories[0]!;
  const at = (i: number) => trajectories.map((tr) => tr.points[i]!);
  const n = first.points.length;
  const eg: number[] = [];
  const egStd: number[] = [];
  const angles: AngleSeries = { teacher: [], degenerate: [], feedback: [] };
  const order: OrderSeries = { Q: [], R: [], S: [], v: [] };
  for (let i = 0; i < n; i++) {
    const pts = at(i);
    const e = pts.map((p) => p.eg);
    const m = mean(e);
    eg.push(m);
    egStd.push(Math.sqrt(mean(e.map((x) => (x - m) ** 2))));
    for (const key of ['teacher', 'degenerate', 'feedback'] as const) {
      angles[key].push(mean(pts.map((p) => p.angles[key])));
    }
    for (const key of ['Q', 'R', 'S', 'v'] as const) {
      const len = pts[0]!.order[key].length;
      order[key].push(Array.from({ length: len }, (_, j) => mean(pts.map((p) => p.order[key][j]!))));
    }
  }
  return {
    kind: first.kind,
    rule: first.rule,
    system,
    t: first.points.map((p) => p.t),
    eg,
    ...(first.kind === 'sim' ? { eg_std: egStd, seeds: trajectories.length } : {}),
    angles,
    order,
    seconds,
  };
}

/**
 * Relative gap |sim - ode| / max(ode, floor) over the grid times t > 0, where floor = 1% of the ODE's initial
 * eps_g, so that a converged tail where both are ~0 does not dominate.
 */
export function relativeGap(sim: number[], ode: number[]): { max: number; mean: number } {
  const floor = 0.01 * Math.abs(ode[0]!);
  const gaps = sim.slice(1).map((s, i) => Math.abs(s - ode[i + 1]!) / Math.max(Math.abs(ode[i + 1]!), floor));
  return { max: Math.max(...gaps), mean: mean(gaps) };
}
