/**
 * Aggregation over seeds: each cell's runs read from their metrics, the final metric's mean and sample std
 * next to the published mean and std (z = (mean - published) / published std, in percent units), per-epoch
 * curves with their std, and the convergence-rate ("slowness") fit of spec 7.2.
 */
import { join } from 'node:path';

import { readTextIfPresent } from '../core/files.js';
import { pathInside } from '../core/untrusted.js';

import { parseMetricsText } from './inputs.js';
import type { Manifest, ManifestCell } from './manifest.js';
import type { EpochLine } from './training-spec.js';

/** One metrics line of a training epoch (prelude lines excluded). */
export type { EpochLine } from './training-spec.js';

/**
 * The training epochs of a run folder, in order (empty when it has none yet); with `prelude`, also the
 * prelude epochs before training (pre-mirroring: epochs ..., -1, 0). Every line is checked (see
 * `MetricsLineSchema`): an impossible value is refused in one line naming the file, the line and the field.
 */
export function readEpochs(folder: string, prelude = false): EpochLine[] {
  const file = join(folder, 'metrics.jsonl');
  const text = readTextIfPresent(file);
  if (text === null) return [];
  const byEpoch = new Map<number, EpochLine>();
  for (const m of parseMetricsText(text, file)) {
    const isPrelude = m.phase !== undefined || m.epoch < 1;
    if (isPrelude && !(prelude && m.phase !== undefined)) continue;
    byEpoch.set(m.epoch, m);
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** The folder of a manifest's run: `<out>/runs/<id>`, the id checked as a file name inside it. */
export function runFolderOf(out: string, id: string): string {
  return pathInside(join(out, 'runs'), id, 'the run id');
}

/** Mean and sample standard deviation (n - 1; 0 for a single value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const ss = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

/** Where a cell stands against the paper. */
export type Verdict =
  'consistent' | 'above' | 'below' | 'reduced budget' | 'no published value' | 'no runs yet' | 'unfinished';

/** One cell of a report table (the fields of report.json's `cells`). */
export interface CellSummary {
  experiment: string;
  cell: string;
  label: string;
  dataset: string;
  rule: string;
  metric: string;
  /** Seeds finished at the budget's epochs, and how many were asked for. */
  seeds: number;
  /** Training epochs each run reached (a run still computing, or stopped: diverged, interrupted). */
  epochs_reached: number[];
  seeds_planned: number;
  epochs: number;
  /** Percent for accuracies. */
  mean: number | null;
  std: number | null;
  published_mean: number | null;
  published_std: number | null;
  published_source: string | null;
  z: number | null;
  verdict: Verdict;
  /** Convergence-rate fit of the seed-mean test curve (spec 7.2), when there are enough epochs. */
  slowness: number | null;
  /** Median training throughput over the runs' epochs. */
  samples_per_s: number | null;
}

/** Seed-mean curve of a metric per epoch, with its std and the number of seeds per point. */
export interface CellCurve {
  experiment: string;
  cell: string;
  label: string;
  metric: string;
  epoch: number[];
  mean: number[];
  std: number[];
  seeds: number[];
}

const isAccuracy = (metric: string) => metric.endsWith('_acc');

function metricValue(line: EpochLine | undefined, metric: string): number | null {
  const v = line?.[metric];
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  return isAccuracy(metric) ? 100 * v : v;
}

/**
 * |z| <= 2: within the published mean +- 2 std. A run at fewer epochs or on a subset than the paper's budget
 * is not compared (`reduced budget`; z is still reported).
 */
export function verdictOf(z: number | null, seeds: number, published: boolean, reduced = false): Verdict {
  if (seeds === 0) return 'no runs yet';
  if (!published || z === null) return 'no published value';
  if (reduced) return 'reduced budget';
  if (Math.abs(z) <= 2) return 'consistent';
  return z > 0 ? 'above' : 'below';
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** A cell's summary at the manifest's budget: runs that reached the budget's epochs count as seeds. */
export function summarizeCell(
  out: string,
  manifest: Manifest,
  cell: ManifestCell,
  metric = 'test_acc',
): CellSummary {
  const epochs = manifest.budget.epochs;
  const runs = cell.runs.map((id) => readEpochs(runFolderOf(out, id)));
  const finals = runs
    .map((lines) =>
      metricValue(
        lines.find((l) => l.epoch === epochs),
        metric,
      ),
    )
    .filter((v): v is number => v !== null);
  const { mean, std } = meanStd(finals);
  const pub = cell.published;
  const z = finals.length && pub && pub.std > 0 ? (mean - pub.mean) / pub.std : null;
  const curve = curveOf(out, manifest, cell, 'test_acc');
  const chance = 100 / classesOf(cell.dataset);
  const fitted =
    curve.mean.length >= 3 ? slowness(curve.mean, chance, Math.min(60, curve.mean.length)) : null;
  const speeds = runs.flatMap((lines) =>
    lines.map((l) => l.samples_per_s).filter((v): v is number => typeof v === 'number'),
  );
  return {
    experiment: manifest.experiment,
    cell: cell.id,
    label: cell.label,
    dataset: cell.dataset,
    rule: cell.rule,
    metric,
    seeds: finals.length,
    epochs_reached: runs.map((lines) => lines.filter((l) => l.epoch > 0).length),
    seeds_planned: cell.runs.length,
    epochs,
    mean: finals.length ? mean : null,
    std: finals.length ? std : null,
    published_mean: pub?.mean ?? null,
    published_std: pub?.std ?? null,
    published_source: pub?.source ?? null,
    z,
    verdict:
      finals.length === 0 && runs.some((lines) => lines.length > 0)
        ? 'unfinished'
        : verdictOf(z, finals.length, pub !== null, reducedBudget(manifest)),
    slowness: fitted?.s ?? null,
    samples_per_s: median(speeds),
  };
}

/** True when the manifest's runs are shorter than the experiment's full budget or use a data subset. */
export function reducedBudget(manifest: Manifest): boolean {
  const b = manifest.budget;
  const shorter = manifest.full !== undefined && b.epochs < manifest.full.epochs;
  return shorter || b.trainSubset !== null || b.testSubset !== null;
}

function classesOf(dataset: string): number {
  return dataset === 'cifar100' ? 100 : 10;
}

/**
 * The seed-mean curve of `metric` over epochs 1..budget (points where at least one seed has a value); with
 * `prelude`, prelude epochs (numbered up to 0) come first.
 */
export function curveOf(
  out: string,
  manifest: Manifest,
  cell: ManifestCell,
  metric: string,
  prelude = false,
): CellCurve {
  const runs = cell.runs.map((id) => readEpochs(runFolderOf(out, id), prelude));
  const curve: CellCurve = {
    experiment: manifest.experiment,
    cell: cell.id,
    label: cell.label,
    metric,
    epoch: [],
    mean: [],
    std: [],
    seeds: [],
  };
  const byEpoch = runs.map((lines) => new Map(lines.map((l) => [l.epoch, l])));
  // the epochs some run has, up to the budget's (epochs without any value would be left out anyway)
  const epochs = [...new Set(runs.flatMap((lines) => lines.map((l) => l.epoch)))]
    .filter((e) => e <= manifest.budget.epochs)
    .sort((a, b) => a - b);
  for (const e of epochs) {
    const values = byEpoch
      .map((lines) => metricValue(lines.get(e), metric))
      .filter((v): v is number => v !== null);
    if (!values.length) continue;
    const { mean, std } = meanStd(values);
    curve.epoch.push(e);
    curve.mean.push(mean);
    curve.std.push(std);
    curve.seeds.push(values.length);
  }
  return curve;
}

/**
 * The slowness fit of spec 7.2: with a_0 = chance prepended to the accuracy curve a_1..a_n and the first
 * `fitEpochs` + 1 points kept, a_max = their maximum (held fixed) and s minimises
 * sum_x (a_max x / (s + x) - a_x)^2 over x = 0, 1, ...; returns s (smaller: faster) and a_max.
 */
export function slowness(
  curve: readonly number[],
  chance: number,
  fitEpochs = 60,
): { s: number; aMax: number } {
  const data = [chance, ...curve].slice(0, fitEpochs + 1);
  const aMax = Math.max(...data);
  const loss = (s: number): number => {
    let sum = 0;
    for (let x = 0; x < data.length; x++) {
      const model = s + x === 0 ? 0 : (aMax * x) / (s + x);
      sum += (model - data[x]!) ** 2;
    }
    return sum;
  };
  // the loss is smooth in log s: scan a wide log grid, then refine by golden-section search
  let best = 1e-3;
  let bestLoss = Infinity;
  for (let k = -60; k <= 60; k++) {
    const s = 10 ** (k / 20);
    const l = loss(s);
    if (l < bestLoss) [best, bestLoss] = [s, l];
  }
  let lo = Math.log(best) - Math.LN10 / 20;
  let hi = Math.log(best) + Math.LN10 / 20;
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 100; i++) {
    const a = hi - phi * (hi - lo);
    const b = lo + phi * (hi - lo);
    if (loss(Math.exp(a)) < loss(Math.exp(b))) hi = b;
    else lo = a;
  }
  return { s: Math.exp((lo + hi) / 2), aMax };
}
