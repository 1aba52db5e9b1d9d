/**
 * What a results directory holds for each experiment run in it: the budget asked for and, per cell, its runs
 * (run folder ids, one per seed). `topdown reproduce` writes one manifest per experiment,
 * `<out>/experiments/<name>.json`, and `topdown report` reads them, so a report can be rebuilt from the
 * directory alone, on any machine, while runs are still going.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ensureFolder, writeAtomic } from '../core/files.js';
import { TopdownUsageError } from '../core/errors.js';
import type { Experiment, Published } from '../experiments/experiment.js';
import type { Job } from '../runner/job.js';

export interface ManifestCell {
  id: string;
  label: string;
  published: Published | null;
  /** The cell's dataset and rule, for the tables. */
  dataset: string;
  rule: string;
  /** Run folder ids, seed order. */
  runs: string[];
}

export interface Manifest {
  experiment: string;
  description: string;
  kind: 'table' | 'curves';
  metric: string;
  budget: { seeds: number; epochs: number; trainSubset: number | null; testSubset: number | null };
  cells: ManifestCell[];
}

/** The manifest of `experiment` run as `jobs` (the cells' jobs, in cell then seed order). */
export function experimentManifest(
  experiment: Experiment,
  budget: { seeds?: number; epochs?: number; trainSubset?: number; testSubset?: number },
  jobs: readonly Job[],
  cells?: ReadonlySet<string>,
): Manifest {
  const chosen = experiment.cells.filter((c) => !cells || cells.has(c.id));
  const seeds = budget.seeds ?? experiment.seeds;
  const epochs = jobs[0]?.config.epochs ?? experiment.epochs ?? 0;
  return {
    experiment: experiment.name,
    description: experiment.description,
    kind: experiment.kind,
    metric: experiment.metric,
    budget: { seeds, epochs, trainSubset: budget.trainSubset ?? null, testSubset: budget.testSubset ?? null },
    cells: chosen.map((cell, i) => {
      const config = experiment.configs.get(cell.id)!;
      return {
        id: cell.id,
        label: cell.label ?? cell.id,
        published: cell.published ?? null,
        dataset: config.data,
        rule: config.rule,
        runs: jobs.slice(i * seeds, (i + 1) * seeds).map((j) => j.id),
      };
    }),
  };
}

export function writeManifest(out: string, manifest: Manifest): void {
  const dir = join(out, 'experiments');
  ensureFolder(dir);
  writeAtomic(join(dir, `${manifest.experiment}.json`), JSON.stringify(manifest, null, 2) + '\n');
}

/** Every manifest in a results directory, by experiment name. */
export function readManifests(out: string): Manifest[] {
  const dir = join(out, 'experiments');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    throw new TopdownUsageError(
      `${out} holds no experiments (expected ${dir}/*.json, written by topdown reproduce)`,
    );
  }
  return files.sort().map((f) => {
    try {
      return JSON.parse(readFileSync(join(dir, f), 'utf8')) as Manifest;
    } catch (error) {
      throw new TopdownUsageError(`${join(dir, f)} is not a manifest: ${(error as Error).message}`);
    }
  });
}
