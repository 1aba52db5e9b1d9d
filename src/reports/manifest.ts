/**
 * What a results directory holds for each experiment run in it: the budget asked for and, per cell, its runs
 * (run folder ids, one per seed). `topdown reproduce` writes one manifest per experiment,
 * `<out>/experiments/<name>.json`, and `topdown report` reads them, so a report can be rebuilt from the
 * directory alone, on any machine, while runs are still going.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { ensureFolder, fileError, writeAtomic } from '../core/files.js';
import { TopdownUsageError } from '../core/errors.js';
import { pathInside } from '../core/untrusted.js';
import type { Experiment } from '../experiments/experiment.js';
import type { Budget, PlannedCell } from '../experiments/plan.js';

import { parseManifest, type Manifest } from './inputs.js';

export { parseManifest, type Manifest, type ManifestCell } from './inputs.js';

/** The manifest of `experiment` run as `plan` (its chosen cells and their jobs). */
export function experimentManifest(
  experiment: Experiment,
  budget: Budget,
  plan: readonly PlannedCell[],
): Manifest {
  const seeds = budget.seeds ?? experiment.seeds;
  const first = plan[0]?.jobs[0];
  const trainConfig = first?.kind === 'train' ? first.config : undefined;
  const epochs = trainConfig?.epochs ?? 0;
  const theory = experiment.kind === 'theory';
  return {
    experiment: experiment.name,
    description: experiment.description,
    kind: experiment.kind,
    metric: experiment.metric,
    budget: {
      seeds,
      epochs,
      // the runs' own (a sweep's config file may set them), else what the budget asked
      trainSubset: theory ? null : (trainConfig?.trainSubset ?? budget.trainSubset ?? null),
      testSubset: theory ? null : (trainConfig?.testSubset ?? budget.testSubset ?? null),
    },
    full: {
      seeds: experiment.seeds,
      // the experiment's epochs, or those of its first cell's own configuration
      epochs: theory
        ? 0
        : (experiment.epochs ?? experiment.configs.get(plan[0]?.cell.id ?? '')?.epochs ?? epochs),
    },
    cells: plan.map(({ cell, jobs }) => {
      const job = jobs[0]!;
      return {
        id: cell.id,
        label: cell.label ?? cell.id,
        published: cell.published ?? null,
        readings: cell.readings,
        dataset: job.kind === 'train' ? job.config.data : 'teacher-student',
        rule: job.kind === 'train' ? job.config.rule : job.rules.join(', '),
        runs: jobs.map((j) => j.id),
      };
    }),
  };
}

/**
 * Writes a manifest to `<out>/experiments/<name>.json`. A manifest already there with the same budget keeps
 * its other cells (so `--cells a` then `--cells b` report both), in the order of `order` (the experiment's
 * cells) when given; one with another budget is replaced.
 */
export function writeManifest(out: string, manifest: Manifest, order?: readonly string[]): void {
  const file = manifestFile(out, manifest.experiment);
  ensureFolder(dirname(file));
  let merged = manifest;
  const previous = readManifestFile(file);
  if (previous && sameBudget(previous.budget, manifest.budget)) {
    const cells = new Map(previous.cells.map((c) => [c.id, c]));
    for (const cell of manifest.cells) cells.set(cell.id, cell);
    const rank = (id: string) => {
      const i = order?.indexOf(id) ?? -1;
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    merged = { ...manifest, cells: [...cells.values()].sort((a, b) => rank(a.id) - rank(b.id)) };
  }
  writeAtomic(file, JSON.stringify(merged, null, 2) + '\n');
}

/**
 * Why writing `manifest` would lose results from the report, or null: a manifest already there at another
 * budget that holds cells this one lacks (writing would replace it, and those cells' runs would drop out of
 * the report although their folders stay).
 */
export function manifestConflict(out: string, manifest: Manifest): string | null {
  const file = manifestFile(out, manifest.experiment);
  const previous = readManifestFile(file);
  if (!previous || sameBudget(previous.budget, manifest.budget)) return null;
  const ids = new Set(manifest.cells.map((c) => c.id));
  const dropped = previous.cells.filter((c) => !ids.has(c.id)).length;
  if (dropped === 0) return null;
  const budget = (b: Manifest['budget']) =>
    `${b.seeds} seed${b.seeds === 1 ? '' : 's'} x ${b.epochs} epochs` +
    (b.trainSubset !== null || b.testSubset !== null ? ' on a data subset' : '');
  return (
    `${file} holds ${previous.cells.length} cells at ${budget(previous.budget)}; this run's budget ` +
    `(${budget(manifest.budget)}) would replace it and drop ${dropped} of them from the report: keep ` +
    `--seeds ${previous.budget.seeds} --epochs ${previous.budget.epochs} (fewer workers run the seeds in ` +
    `order), or report these runs apart with --name`
  );
}

/** Where an experiment's manifest lives in a results directory (the name may not lead out of it). */
function manifestFile(out: string, experiment: string): string {
  return pathInside(join(out, 'experiments'), experiment, 'the experiment name', '.json');
}

function sameBudget(a: Manifest['budget'], b: Manifest['budget']): boolean {
  return (
    a.seeds === b.seeds &&
    a.epochs === b.epochs &&
    a.trainSubset === b.trainSubset &&
    a.testSubset === b.testSubset
  );
}

/** The manifest in `file`, or null when there is none or it is not a valid one (it is then replaced). */
function readManifestFile(file: string): Manifest | null {
  try {
    return parseManifest(readFileSync(file, 'utf8'), file);
  } catch {
    return null;
  }
}

/**
 * Every manifest in a results directory, in file-name order, each checked (see `ManifestSchema`): one that is
 * not a valid manifest is refused in one line naming its file and the field.
 */
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
    const file = join(dir, f);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw fileError(`cannot read ${file}`, error);
    }
    return parseManifest(text, file);
  });
}
