/**
 * The report of a results directory: for every experiment in it (its manifest), each cell's mean +- std over
 * seeds beside the published mean +- std, the difference in published stds and a verdict, the slowness fit,
 * the curves of curve experiments, and a cost table per rule (the cost models' MACs and memory per step and
 * the measured throughput). Written as report.md and report.json; works on partial results.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ensureFolder, writeAtomic } from '../core/files.js';
import { DATASETS, type DatasetName } from '../data/datasets.js';
import { stepCost } from '../rules/costs.js';
import type { RuleName } from '../rules/registry.js';
import type { TrainConfig } from '../train/config.js';

import { linesSpec } from './chart-specs.js';
import { pngAvailable, svgToPng } from './png.js';
import { renderSvg, type TopLevelSpec } from './vega.js';
import { curveOf, summarizeCell, type CellCurve, type CellSummary } from './aggregate.js';
import { readManifests, type Manifest } from './manifest.js';

export interface CostRow {
  experiment: string;
  cell: string;
  rule: string;
  dataset: string;
  sizes: number[];
  batch: number;
  macs_per_step: number;
  peak_activation_bytes: number;
  samples_per_s: number | null;
}

export interface Report {
  /** The budget of each experiment, as asked for when it was run. */
  budget: Record<string, Manifest['budget']>;
  cells: CellSummary[];
  curves: CellCurve[];
  costs: CostRow[];
}

function runConfig(out: string, runId: string): TrainConfig | null {
  try {
    return JSON.parse(readFileSync(join(out, 'runs', runId, 'config.json'), 'utf8')) as TrainConfig;
  } catch {
    return null;
  }
}

function costOf(config: TrainConfig): { sizes: number[]; macs: number; peak: number } {
  const spec = DATASETS[config.data as DatasetName];
  const sizes = [spec.features, ...config.hidden, spec.classes];
  const options = Object.fromEntries(
    Object.entries(config).filter(([, v]) => v !== null && typeof v === 'object' && !Array.isArray(v)),
  );
  const cost = stepCost({ sizes, batch: config.batchSize, rule: config.rule as RuleName, options });
  return { sizes, macs: cost.macs, peak: cost.peakActivationBytes };
}

/** Aggregates every experiment of the results directory `out`. */
export function buildReport(out: string): Report {
  const report: Report = { budget: {}, cells: [], curves: [], costs: [] };
  for (const manifest of readManifests(out)) {
    report.budget[manifest.experiment] = manifest.budget;
    for (const cell of manifest.cells) {
      const summary = summarizeCell(out, manifest, cell, manifest.kind === 'table' ? 'test_acc' : 'test_acc');
      report.cells.push(summary);
      report.curves.push(curveOf(out, manifest, cell, manifest.metric));
      const config = cell.runs.map((id) => runConfig(out, id)).find((c) => c !== null);
      if (config) {
        const { sizes, macs, peak } = costOf(config);
        report.costs.push({
          experiment: manifest.experiment,
          cell: cell.id,
          rule: config.rule,
          dataset: config.data,
          sizes,
          batch: config.batchSize,
          macs_per_step: macs,
          peak_activation_bytes: peak,
          samples_per_s: summary.samples_per_s,
        });
      }
    }
  }
  return report;
}

const pct = (v: number | null, digits = 2) => (v === null ? '-' : v.toFixed(digits));

function budgetLine(name: string, b: Manifest['budget']): string {
  const subset = [
    b.trainSubset !== null ? `first ${b.trainSubset} training examples` : 'full training set',
    b.testSubset !== null ? `first ${b.testSubset} test examples` : 'full test set',
  ].join(', ');
  return `- **${name}**: ${b.epochs} epochs, ${b.seeds} seed${b.seeds === 1 ? '' : 's'} per configuration, ${subset}`;
}

/** report.md: the budget first, then a table per experiment and the cost table. */
export function reportMarkdown(report: Report, figures: readonly string[] = []): string {
  const lines: string[] = ['# topdown results', '', '## Budget', ''];
  for (const [name, b] of Object.entries(report.budget)) lines.push(budgetLine(name, b));
  lines.push(
    '',
    'Accuracies in percent: mean +- sample std over the seeds finished at the budget\'s epochs; z = (mean - published mean) / published std; a cell is "consistent" within +-2 published stds. Slowness: the fit of spec 7.2 on the seed-mean test curve (first 60 epochs; smaller is faster).',
  );
  for (const name of Object.keys(report.budget)) {
    const cells = report.cells.filter((c) => c.experiment === name);
    lines.push('', `## ${name}`, '');
    lines.push('| cell | dataset | rule | seeds | topdown | paper | z | verdict | slowness |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const c of cells) {
      const ours = c.mean === null ? '-' : `${pct(c.mean)} +- ${pct(c.std)}`;
      const paper = c.published_mean === null ? '-' : `${pct(c.published_mean)} +- ${pct(c.published_std)}`;
      lines.push(
        `| ${c.label} | ${c.dataset} | ${c.rule} | ${c.seeds}/${c.seeds_planned} | ${ours} | ${paper} | ${c.z === null ? '-' : c.z.toFixed(1)} | ${c.verdict} | ${c.slowness === null ? '-' : c.slowness.toFixed(3)} |`,
      );
    }
    if (figures.includes(name)) lines.push('', `![${name}](figures/${name}.svg)`);
  }
  lines.push('', '## Cost per step', '');
  lines.push(
    '| experiment | cell | rule | net | batch | MACs per step | peak activations | measured samples/s |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of report.costs) {
    lines.push(
      `| ${c.experiment} | ${c.cell} | ${c.rule} | ${c.sizes.join('-')} | ${c.batch} | ${(c.macs_per_step / 1e6).toFixed(1)} M | ${(c.peak_activation_bytes / 1e6).toFixed(2)} MB | ${c.samples_per_s === null ? '-' : Math.round(c.samples_per_s)} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The figure of one experiment: its cells' seed-mean curves with std bands, one panel per dataset. */
export function experimentFigureSpec(report: Report, experiment: string): TopLevelSpec | null {
  const curves = report.curves.filter((c) => c.experiment === experiment && c.epoch.length > 0);
  if (!curves.length) return null;
  const cells = new Map(report.cells.filter((c) => c.experiment === experiment).map((c) => [c.cell, c]));
  const metric = curves[0]!.metric;
  const angle = metric.includes('angle');
  const what = angle ? 'alignment angle (deg)' : metric === 'test_acc' ? 'test accuracy (%)' : metric;
  return linesSpec(
    curves.map((c) => ({
      name: c.label,
      panel: cells.get(c.cell)?.dataset,
      x: c.epoch,
      y: c.mean,
      std: c.std,
    })),
    {
      title: `${experiment}: ${what} vs epoch (mean +- std over seeds)`,
      xTitle: 'epoch',
      yTitle: what,
      angle,
    },
  );
}

/**
 * Writes report.md, report.json and `figures/<experiment>.svg|png` into `dir`; returns the report. Without
 * the PNG renderer, figures are SVG only.
 */
export async function writeReport(out: string, dir = out): Promise<Report> {
  const report = buildReport(out);
  const figures: string[] = [];
  for (const name of Object.keys(report.budget)) {
    const spec = experimentFigureSpec(report, name);
    if (!spec) continue;
    ensureFolder(join(dir, 'figures'));
    const svg = await renderSvg(spec);
    writeAtomic(join(dir, 'figures', `${name}.svg`), svg);
    if (pngAvailable()) {
      const width = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 600);
      writeAtomic(
        join(dir, 'figures', `${name}.png`),
        svgToPng(svg, { width: 2 * width, background: 'white' }),
      );
    }
    figures.push(name);
  }
  writeAtomic(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeAtomic(join(dir, 'report.md'), reportMarkdown(report, figures));
  return report;
}
