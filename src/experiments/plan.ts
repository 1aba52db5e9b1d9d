/**
 * An experiment at a budget, as the runs that make it: per cell, one training run per seed, or one theory
 * run (its seeds being the simulations averaged per rule).
 */
import { TopdownUsageError } from '../core/errors.js';
import { jobFor, theoryJobFor, type Job } from '../runner/job.js';
import { resolveMergedConfig } from '../train/config.js';

import type { Experiment, ExperimentCell } from './experiment.js';
import { MAX_RUNS_CEILING } from './limits.js';

/** A cell of an experiment and the jobs that make it (one per seed; one for a theory cell). */
export interface PlannedCell {
  cell: ExperimentCell;
  jobs: Job[];
}

/** The budget flags of reproduce (theory cells take only `seeds`: simulations per rule). */
export interface Budget {
  seeds?: number;
  epochs?: number;
  trainSubset?: number;
  testSubset?: number;
}

/** The jobs of an experiment at a budget, per cell: every cell x seed, with the flags' overrides. */
export function experimentPlan(
  experiment: Experiment,
  budget: Budget,
  cells?: ReadonlySet<string>,
): PlannedCell[] {
  const seeds = budget.seeds ?? experiment.seeds;
  const overrides: Record<string, unknown> = {};
  if (budget.epochs !== undefined) overrides.epochs = budget.epochs;
  if (budget.trainSubset !== undefined) overrides.trainSubset = budget.trainSubset;
  if (budget.testSubset !== undefined) overrides.testSubset = budget.testSubset;
  const plan: PlannedCell[] = [];
  for (const cell of experiment.cells) {
    if (cells && !cells.has(cell.id)) continue;
    const label = `${experiment.name}/${cell.id}`;
    const problem = experiment.problems.get(cell.id);
    if (problem) {
      plan.push({ cell, jobs: [theoryJobFor(problem, cell.rules!, seeds, label)] });
      continue;
    }
    const base = experiment.configs.get(cell.id)!;
    const config = Object.keys(overrides).length
      ? resolveMergedConfig([base, `experiment ${experiment.name}`], [overrides, 'flags'])
      : base;
    const jobs: Job[] = [];
    for (let seed = 0; seed < seeds; seed++) jobs.push(jobFor(config, seed, label));
    plan.push({ cell, jobs });
  }
  return plan;
}

/** Every job of a plan, in cell then seed order. */
export function planJobs(plan: readonly PlannedCell[]): Job[] {
  return plan.flatMap((p) => p.jobs);
}

/** One factor of a plan's size: a count and how to name it, e.g. `[3, '3 lr values']`. */
export type SizeFactor = readonly [count: number, what: string];

/**
 * The number of runs `factors` multiply to, checked against `maxRuns` arithmetically, before anything is
 * planned (a grid of 10^6 points or `--seeds 99999999999` would otherwise fill the memory while planning).
 * Throws one line naming `what` (e.g. `the grid`), the product and the flag that raises the limit.
 */
export function checkRunCount(
  what: string,
  factors: readonly SizeFactor[],
  maxRuns: number,
  unit = 'runs',
): number {
  // exact however large (a product of flag values can pass 2^53)
  const count = factors.reduce((product, [n]) => product * BigInt(n), 1n);
  if (count <= BigInt(maxRuns)) return Number(count);
  const product = factors.map(([, label]) => label).join(' x ');
  const advice =
    count <= BigInt(MAX_RUNS_CEILING)
      ? `ask for fewer, or raise --max-runs to ${count}`
      : `ask for fewer (--max-runs goes up to ${MAX_RUNS_CEILING})`;
  throw new TopdownUsageError(
    `${what}: ${product} = ${count} ${unit}, more than --max-runs ${maxRuns}: ${advice}`,
  );
}

/** `n thing` or `n things`. */
export function counted(n: number, thing: string, things = `${thing}s`): string {
  return `${n} ${n === 1 ? thing : things}`;
}
