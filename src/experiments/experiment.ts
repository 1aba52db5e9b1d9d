/**
 * Experiments as data: one YAML (or JSON) file per artefact of the paper in `experiments/`, naming its cells
 * (a configuration each, from a preset and/or options of `topdown train`), the seeds and epochs of its full
 * budget, and the published numbers each cell is compared with. Every cell's configuration is validated by
 * the training config's schema when the experiment is loaded. Theory experiments (kind `theory`) name a
 * teacher-student problem and rules per cell instead, validated by the theory problem's schema.
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { z } from 'zod';

import { TopdownUsageError } from '../core/errors.js';
import { resolveTheoryProblem, THEORY_RULES, type TheoryProblem } from '../theory/problem.js';
import { readConfigFile } from '../train/config-file.js';
import { resolveMergedConfig, type TrainConfig } from '../train/config.js';
import { presetConfig } from '../train/presets.js';

import { MAX_RUNS_CEILING } from './limits.js';

/** A published number: mean and std of a metric in percent, and where the spec has it from. */
export const PublishedSchema = z
  .object({
    mean: z.number(),
    std: z.number().nonnegative(),
    source: z.string().min(1),
  })
  .strict();

/**
 * A value the spec reads off a published figure: the curve's value at an epoch (or time t), or one of its
 * shape features, with the tolerance within which a reproduction counts as matching it.
 */
export const ReadingSchema = z
  .object({
    /** The epoch (training curves) or time t (theory curves) the value is read at. */
    at: z.number().optional(),
    /** Or a shape feature of the curve (see `curveFeatures` in reports/shape.ts). */
    feature: z.enum(['start', 'final', 'max', 'min', 'plateau', 'escape']).optional(),
    /** The quantity read: the experiment's metric by default; for theory curves eps_g or an angle. */
    metric: z.string().optional(),
    value: z.number(),
    tol: z.number().positive(),
    source: z.string().min(1),
  })
  .strict()
  .refine((r) => (r.at === undefined) !== (r.feature === undefined), {
    message: 'a reading names either `at` or `feature`',
  });

const CellSchema = z
  .object({
    /** Unique within the experiment, e.g. `pepita-cifar10`. */
    id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, dots and dashes'),
    /** What the report's tables show for the cell (default: the id). */
    label: z.string().optional(),
    /** A preset of `topdown train` the configuration starts from. */
    preset: z.string().optional(),
    /** Options of `topdown train` (as in a config file), over the preset. */
    config: z.record(z.string(), z.unknown()).default({}),
    /** The published test accuracy, when the paper reports one. */
    published: PublishedSchema.optional(),
    /** Values the spec reads off the published figure, compared with the cell's curve. */
    readings: z.array(ReadingSchema).default([]),
    /** Theory cells: the teacher-student problem (as in a `topdown theory --config` file). */
    theory: z.record(z.string(), z.unknown()).optional(),
    /** Theory cells: the rules simulated and integrated from the same initial weights. */
    rules: z.array(z.enum(THEORY_RULES)).min(1).optional(),
  })
  .strict();

const ExperimentSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    description: z.string().min(1),
    /** Seeds of the full budget (seeds 0..seeds-1); bounded as `--max-runs` is, for a file from elsewhere. */
    seeds: z.number().int().positive().max(MAX_RUNS_CEILING),
    /** Epochs of the full budget (each cell may set its own in `config`; this wins when given). */
    epochs: z.number().int().positive().optional(),
    /**
     * What the experiment reports: a table of final accuracies, curves of a metric vs epoch, or teacher-student
     * theory curves (seeds: the simulations averaged per rule).
     */
    kind: z.enum(['table', 'curves', 'theory']).default('table'),
    /** The metric the curves show (kind: curves). */
    metric: z.string().default('test_acc'),
    cells: z.array(CellSchema).min(1).max(MAX_RUNS_CEILING),
  })
  .strict();

export type Published = z.infer<typeof PublishedSchema>;
export type Reading = z.infer<typeof ReadingSchema>;
export type ExperimentCell = z.infer<typeof CellSchema>;

/** A loaded experiment: the file's content with every cell's configuration resolved. */
export interface Experiment extends z.infer<typeof ExperimentSchema> {
  /** The file it came from. */
  file: string;
  /** The resolved configuration of each training cell (full budget, seed 0), by cell id. */
  configs: Map<string, TrainConfig>;
  /** The resolved problem of each theory cell, by cell id. */
  problems: Map<string, TheoryProblem>;
}

/** The folder of the experiments shipped with topdown. */
export const EXPERIMENTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'experiments');

/** Parses and validates one experiment file (one-line usage errors naming the file and the field). */
export function loadExperimentFile(file: string): Experiment {
  const raw = readConfigFile(file);
  const parsed = ExperimentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new TopdownUsageError(`experiment ${file}: ${where}: ${issue.message}`);
  }
  const experiment = parsed.data;
  if (experiment.name !== basename(file, extname(file))) {
    throw new TopdownUsageError(`experiment ${file}: name "${experiment.name}" differs from the file name`);
  }
  const configs = new Map<string, TrainConfig>();
  const problems = new Map<string, TheoryProblem>();
  const seen = new Set<string>();
  for (const cell of experiment.cells) {
    if (seen.has(cell.id)) throw new TopdownUsageError(`experiment ${file}: cell "${cell.id}" appears twice`);
    seen.add(cell.id);
    const where = `experiment ${file}, cell ${cell.id}`;
    if (experiment.kind === 'theory') {
      if (!cell.theory || !cell.rules)
        throw new TopdownUsageError(`${where}: a theory cell needs \`theory\` (the problem) and \`rules\``);
      if (cell.preset || Object.keys(cell.config).length)
        throw new TopdownUsageError(`${where}: a theory cell takes \`theory\`, not \`preset\` or \`config\``);
      problems.set(cell.id, resolveTheoryProblem(cell.theory, where));
    } else {
      if (cell.theory || cell.rules)
        throw new TopdownUsageError(`${where}: \`theory\` and \`rules\` need kind: theory`);
      configs.set(cell.id, cellConfig(experiment, cell, file));
    }
  }
  return { ...experiment, file, configs, problems };
}

/** A cell's configuration: its preset, then its options, then the experiment's epochs. */
function cellConfig(
  experiment: z.infer<typeof ExperimentSchema>,
  cell: ExperimentCell,
  file: string,
): TrainConfig {
  const where = `experiment ${experiment.name}, cell ${cell.id}`;
  const preset = cell.preset ? (presetConfig(cell.preset) as Record<string, unknown>) : {};
  const epochs = experiment.epochs !== undefined ? { epochs: experiment.epochs } : {};
  try {
    return resolveMergedConfig(
      [preset, `${where}: preset ${cell.preset}`],
      [{ ...cell.config, ...epochs }, where],
    );
  } catch (error) {
    if (error instanceof TopdownUsageError) throw new TopdownUsageError(`${file}: ${error.message}`);
    throw error;
  }
}

/** Every experiment in `dir` (default: the shipped ones), sorted by name. */
export function listExperiments(dir = EXPERIMENTS_DIR): Experiment[] {
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => loadExperimentFile(join(dir, f)));
}

/** The ids of an experiment's cells, in file order. */
export function cellIds(experiment: Experiment): string[] {
  return experiment.cells.map((c) => c.id);
}

/** The experiment called `name` (shipped), or the experiment file at that path. */
export function findExperiment(name: string, dir = EXPERIMENTS_DIR): Experiment {
  if (/\.(ya?ml|json)$/.test(name)) return loadExperimentFile(name);
  const all = listExperiments(dir);
  const found = all.find((e) => e.name === name);
  if (!found) {
    throw new TopdownUsageError(
      `unknown experiment "${name}"; choose one of ${all.map((e) => e.name).join(', ')} (topdown reproduce --list)`,
    );
  }
  return found;
}
