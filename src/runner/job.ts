/**
 * A run of the reproduce / sweep runner: one configuration and seed trained by `topdown train`, or one
 * teacher-student theory experiment made by `topdown theory`, into a run folder named by a hash of what
 * shapes the run (so the same run is found again whatever asked for it).
 */
import { createHash } from 'node:crypto';

import type { TheoryProblem, TheoryRule } from '../theory/problem.js';
import type { TrainConfig } from '../train/config.js';
import { canonicalJson, RESUMABLE_CHANGES } from '../train/trainer.js';

interface JobBase {
  /** The hash of the run's identity (see {@link runId}); also its folder's name. */
  id: string;
  /** Who asked for it: e.g. `baselines/pepita-cifar10 seed 2`. */
  label: string;
  /** The seed (of the training run; of the initial weights for theory). */
  seed: number;
}

/** A training run. */
export interface TrainJob extends JobBase {
  kind: 'train';
  /** The full configuration, with its seed and target epochs. */
  config: TrainConfig;
}

/** A theory experiment: ODEs and `seeds` simulations of each rule from one instance. */
export interface TheoryJob extends JobBase {
  kind: 'theory';
  problem: TheoryProblem;
  rules: TheoryRule[];
  /** Simulations averaged per rule. */
  seeds: number;
}

/** One run to make. */
export type Job = TrainJob | TheoryJob;

/**
 * The identity of a run: its configuration without what a resumed run may change (data folder, engine,
 * threads, epochs, memory limit), so that a run extended from a preview's 5 epochs to 100 is the same run.
 */
export function runId(config: TrainConfig): string {
  const identity: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (!RESUMABLE_CHANGES.includes(key)) identity[key] = value;
  }
  return hashOf(identity);
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)!).digest('hex').slice(0, 16);
}

/** A job for `config` with `seed`. */
export function jobFor(config: TrainConfig, seed: number, label: string): TrainJob {
  const withSeed = { ...config, seed } as TrainConfig;
  return { kind: 'train', id: runId(withSeed), config: withSeed, label: `${label} seed ${seed}`, seed };
}

/** A theory job: its id hashes the problem, the rules (in any order) and the number of simulations. */
export function theoryJobFor(
  problem: TheoryProblem,
  rules: readonly TheoryRule[],
  seeds: number,
  label: string,
): TheoryJob {
  return {
    kind: 'theory',
    id: theoryRunId(problem, rules, seeds),
    problem,
    rules: [...rules],
    seeds,
    label: `${label} (${seeds} simulation${seeds === 1 ? '' : 's'} per rule)`,
    seed: problem.seed,
  };
}

/** The identity of a theory run: the problem, the rules (in any order) and the simulations per rule. */
export function theoryRunId(problem: TheoryProblem, rules: readonly TheoryRule[], seeds: number): string {
  return hashOf({ theory: problem, rules: [...rules].sort(), seeds });
}

/** What every run id looks like: 16 lower-case hex digits (so one is always a plain folder name). */
export const RUN_ID_PATTERN = /^[0-9a-f]{16}$/;

/** How much work a job is, in the units of the progress display: epochs for training, 1 for theory. */
export function jobUnits(job: Job): number {
  return job.kind === 'train' ? job.config.epochs : 1;
}
