/**
 * What `topdown report` reads from a results folder, which may come from someone else: manifests, metrics
 * lines, run configs, theory outputs and goodness histograms. Each is checked by a zod schema (the single
 * source of its shape) before anything uses it, and names from it (experiments, cells, runs) must be file
 * names that stay inside their folder. The readers take the text and either return a valid value or throw a
 * TopdownUsageError of one line naming the source (file, line) and the field.
 */
import { z } from 'zod';

import { TopdownUsageError } from '../core/errors.js';
import { printable, quoted, unsafeNameReason } from '../core/untrusted.js';
import { PublishedSchema, ReadingSchema } from '../experiments/experiment.js';
import type { ExperimentResult } from '../theory/curves.js';
import { THEORY_RULES, TheoryProblemSchema } from '../theory/problem.js';
import { resolveTrainConfig, type TrainConfig } from '../train/config.js';
import type { GoodnessHistogram } from '../train/trainer.js';

import type { EpochLine } from './training-spec.js';

/** Epoch numbers and budgets beyond this are refused (the report walks epochs one by one). */
const MAX_EPOCHS = 1_000_000;

/** A string that can be one file name inside a folder (see `unsafeNameReason`). */
const fileName = z.string().superRefine((name, ctx) => {
  const reason = unsafeNameReason(name);
  if (reason !== null) ctx.addIssue({ code: 'custom', message: `${quoted(name)} ${reason}` });
});

/** An experiment name also keys the report's tables (an object), where `__proto__` would be no key. */
const experimentName = fileName.refine((name) => name !== '__proto__', 'may not be "__proto__"');

const epochNumber = z.number().int().min(-MAX_EPOCHS).max(MAX_EPOCHS);

const ManifestCellSchema = z.object({
  /** Names the cell's figures (`<experiment>-<id>.svg`). */
  id: fileName,
  label: z.string(),
  published: PublishedSchema.nullable(),
  /** Values read off the published figure, compared with the cell's curve. */
  readings: z.array(ReadingSchema).optional(),
  /** The cell's dataset and rule, for the tables (theory cells: `teacher-student` and the rules). */
  dataset: z.string(),
  rule: z.string(),
  /** Run folder ids (`runs/<id>`), seed order (one for a theory cell). */
  runs: z.array(fileName),
});

const BudgetSchema = z.object({
  seeds: z.number().int().nonnegative(),
  epochs: z.number().int().nonnegative().max(MAX_EPOCHS),
  trainSubset: z.number().int().positive().nullable(),
  testSubset: z.number().int().positive().nullable(),
});

/**
 * What a results directory holds for each experiment run in it (`<out>/experiments/<name>.json`): the budget
 * asked for and, per cell, its runs.
 */
export const ManifestSchema = z.object({
  /** Names the manifest, the figures and the notes (`notes/<experiment>.md`). */
  experiment: experimentName,
  description: z.string().default(''),
  kind: z.enum(['table', 'curves', 'theory']).default('table'),
  metric: z.string().default('test_acc'),
  /** Theory experiments: seeds are the simulations per rule, epochs 0. */
  budget: BudgetSchema,
  /** The experiment's full budget (absent in manifests of sweeps and older ones). */
  full: z
    .object({ seeds: z.number().int().nonnegative(), epochs: z.number().int().nonnegative() })
    .optional(),
  cells: z.array(ManifestCellSchema),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestCell = z.infer<typeof ManifestCellSchema>;

/** Accuracies (`test_acc`, `val_acc`, `test_acc_goodness`), losses and angles in a metrics line, by key. */
const ACCURACY_KEY = /(^|_)acc($|_)/;
const LOSS_KEY = /(^|_)loss($|_)/;
const ANGLE_KEY = /_deg$/;

/** A value for a message: numbers as JavaScript writes them (`Infinity`, which JSON would write as null). */
const shown = (value: unknown): string => (typeof value === 'number' ? String(value) : quoted(value));

/** Why `value` (a number, or a list of them) is not what `ok` accepts, or null. */
function badValue(value: unknown, ok: (v: unknown) => boolean, what: string): string | null {
  const values = Array.isArray(value) ? value : [value];
  const bad = values.find((v) => !ok(v));
  if (bad === undefined && values.length > 0) return null;
  return `must be ${what} (got ${shown(Array.isArray(value) ? bad : value)})`;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** One line of a run's metrics.jsonl: an epoch's metrics (prelude epochs, numbered up to 0, carry `phase`). */
export const MetricsLineSchema = z
  .looseObject({
    epoch: epochNumber,
    phase: z.string().optional(),
    lr: z.number().nonnegative().optional(),
    seconds: z.number().nonnegative().optional(),
    // null: Infinity, from an epoch timed at 0 s
    samples_per_s: z.number().nonnegative().nullable().optional(),
  })
  .superRefine((line, ctx) => {
    for (const [key, value] of Object.entries(line)) {
      const problem = ACCURACY_KEY.test(key)
        ? badValue(value, (v) => isNumber(v) && v >= 0 && v <= 1, 'an accuracy in [0, 1]')
        : LOSS_KEY.test(key)
          ? badValue(value, isNumber, 'a finite loss')
          : ANGLE_KEY.test(key)
            ? // an angle is NaN (written as null) when a vector is zero
              badValue(
                value,
                (v) => v === null || (isNumber(v) && v >= 0 && v <= 180),
                'an angle in [0, 180]',
              )
            : null;
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
    }
  });

/** One record of a run's goodness-histograms.jsonl. */
const GoodnessHistogramSchema: z.ZodType<GoodnessHistogram> = z
  .object({
    epoch: epochNumber,
    passes: z.tuple([z.string(), z.string()]).optional(),
    edges: z.array(z.number()).min(2),
    counts: z.array(z.number().nonnegative()),
    mean: z.number(),
    std: z.number().nonnegative(),
    p05: z.number(),
    median: z.number(),
    p95: z.number(),
    n: z.number().int().nonnegative(),
  })
  .superRefine((h, ctx) => {
    if (h.counts.length !== h.edges.length - 1) {
      ctx.addIssue({ code: 'custom', path: ['counts'], message: 'must have one count per bin (edges - 1)' });
    }
    if (h.edges.some((e, i) => i > 0 && !(e > h.edges[i - 1]!))) {
      ctx.addIssue({ code: 'custom', path: ['edges'], message: 'must increase' });
    }
  });

/** Most points a theory curve has: t = 0 and the largest `points` a problem may ask for. */
const MAX_THEORY_POINTS = 10_001;

/** A series of a theory curve: one value per t, NaN (a diverged simulation, a zero vector) written as null. */
const series = (value: z.ZodNumber) => z.array(value.nullable()).max(MAX_THEORY_POINTS);
const angleSeries = series(z.number().min(0).max(180));

const CurveSchema = z
  .object({
    kind: z.enum(['ode', 'sim']),
    rule: z.enum(THEORY_RULES),
    system: z.enum(['afa', 'dfa', 'bp']),
    t: z.array(z.number().nonnegative()).max(MAX_THEORY_POINTS),
    eg: series(z.number().nonnegative()),
    eg_std: series(z.number().nonnegative()).optional(),
    seeds: z.number().int().positive().optional(),
    angles: z.object({ teacher: angleSeries, degenerate: angleSeries, feedback: angleSeries }),
    order: z.object({
      Q: z.array(series(z.number())).max(MAX_THEORY_POINTS),
      R: z.array(series(z.number())).max(MAX_THEORY_POINTS),
      S: z.array(series(z.number())).max(MAX_THEORY_POINTS),
      v: z.array(series(z.number())).max(MAX_THEORY_POINTS),
    }),
    rel_gap: z.object({ max: z.number().nullable(), mean: z.number().nullable() }).optional(),
    seconds: z.number().nonnegative(),
  })
  .superRefine((c, ctx) => {
    if (c.t.some((t, i) => i > 0 && !(t > c.t[i - 1]!))) {
      ctx.addIssue({ code: 'custom', path: ['t'], message: 'must increase' });
    }
    const lengths: [string[], unknown[] | undefined][] = [
      [['eg'], c.eg],
      [['eg_std'], c.eg_std],
      [['angles', 'teacher'], c.angles.teacher],
      [['angles', 'degenerate'], c.angles.degenerate],
      [['angles', 'feedback'], c.angles.feedback],
    ];
    for (const [path, values] of lengths) {
      if (values && values.length !== c.t.length) {
        ctx.addIssue({ code: 'custom', path, message: `must have one value per t (${c.t.length})` });
      }
    }
  });

/** A theory run's theory.json: the problem, the ODE and simulation curves and their gaps. */
export const TheoryOutputSchema = z.object({
  problem: TheoryProblemSchema.transform((p) => ({ ...p, lrSecond: p.lrSecond ?? p.lr })),
  curves: z.array(CurveSchema),
  max_rel_gap: z.number().nullable().default(null),
  mean_rel_gap: z.number().nullable().default(null),
});

/** `text` as JSON; refuses `__proto__` keys (an object with one would change the prototype of a copy). */
function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__') throw new TopdownUsageError(`${source}: holds a key "__proto__"`);
      return value;
    });
  } catch (error) {
    if (error instanceof TopdownUsageError) throw new TopdownUsageError(printable(error.message));
    throw new TopdownUsageError(printable(`${source}: not JSON (${(error as Error).message})`));
  }
}

const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;

/** The value at `path` in `data` (own properties only), or undefined. */
function valueAtPath(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Parses `data` with `schema`, or throws one line: `<source>: <field>: <what is wrong>`. */
function checked<T extends z.ZodType>(schema: T, data: unknown, source: string, what: string): z.output<T> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TopdownUsageError(printable(`${source}: is ${kindOf(data)}, not ${what}`));
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.') || '(root)';
  const value = valueAtPath(data, issue.path);
  const detail =
    issue.code === 'unrecognized_keys'
      ? `unknown field(s) ${issue.keys.map((k) => quoted(k)).join(', ')}`
      : value === undefined && issue.code === 'invalid_type'
        ? 'missing'
        : issue.code === 'custom'
          ? issue.message
          : `${issue.message} (got ${shown(value)})`;
  throw new TopdownUsageError(printable(`${source}: ${path}: ${detail}`));
}

/** A manifest from its text (`source` names it in messages: its file). */
export function parseManifest(text: string, source: string): Manifest {
  return checked(ManifestSchema, parseJson(text, source), source, 'a manifest');
}

/** One line of a metrics.jsonl (`source`: e.g. `runs/abc/metrics.jsonl line 3`). */
export function parseMetricsLine(line: string, source: string): EpochLine {
  return checked(MetricsLineSchema, parseJson(line, source), source, 'a metrics line') as EpochLine;
}

/** One record of a goodness-histograms.jsonl. */
export function parseHistogramLine(line: string, source: string): GoodnessHistogram {
  return checked(GoodnessHistogramSchema, parseJson(line, source), source, 'a goodness histogram');
}

/**
 * The records of a JSON-lines file, each checked by `parseLine` (given `<file> line <n>`). A last line
 * without its line break that is not JSON is a line being written, or cut by a crash: it is left out; any
 * other bad line is refused.
 */
export function parseJsonLines<T>(
  text: string,
  file: string,
  parseLine: (line: string, source: string) => T,
): T[] {
  const lines = text.split('\n');
  const records: T[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const last = i === lines.length - 1;
    if (last) {
      try {
        JSON.parse(line);
      } catch {
        return;
      }
    }
    records.push(parseLine(line, `${file} line ${i + 1}`));
  });
  return records;
}

/** The lines of a metrics.jsonl, in file order (see {@link parseJsonLines}). */
export function parseMetricsText(text: string, file: string): EpochLine[] {
  return parseJsonLines(text, file, parseMetricsLine);
}

/**
 * A theory run's theory.json. NaN values are kept as the null JSON wrote for them (the report shows them as
 * missing), so the result is the JSON form of an ExperimentResult.
 */
export function parseTheoryOutput(text: string, source: string): ExperimentResult {
  const result = checked(TheoryOutputSchema, parseJson(text, source), source, 'a theory output');
  return result as unknown as ExperimentResult;
}

/** A run's config.json, checked and completed as a config file is. */
export function parseRunConfig(text: string, source: string): TrainConfig {
  const data = parseJson(text, source);
  try {
    return resolveTrainConfig(data, source);
  } catch (error) {
    if (error instanceof TopdownUsageError) throw new TopdownUsageError(printable(error.message));
    throw new TopdownUsageError(printable(`${source}: not a run config (${(error as Error).message})`));
  }
}
