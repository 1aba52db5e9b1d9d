/**
 * An experiment at a budget, as the runs that make it: per cell, one training run per seed, or one theory
 * run (its seeds being the simulations averaged per rule).
 */
import { jobFor, theoryJobFor, type Job } from '../runner/job.js';
import { resolveMergedConfig } from '../train/config.js';

import type { Experiment, ExperimentCell } from './experiment.js';

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
