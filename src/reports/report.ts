/**
 * The report of a results directory: for every experiment in it (its manifest), each cell's mean +- std over
 * seeds beside the published mean +- std, the difference in published stds and a verdict, the slowness fit,
 * the curves of curve experiments and their values against those the spec reads off the published figures,
 * the shapes of theory curves, goodness histograms, and a cost table per rule (the cost models' MACs and
 * memory per step and the measured throughput). Written as report.md and report.json; works on partial
 * results.
 */
import { join } from 'node:path';

import { ensureFolder, fileError, readTextIfPresent, writeAtomic } from '../core/files.js';
import { pathInside } from '../core/untrusted.js';
import { configStepCost } from '../train/config-cost.js';
import type { Reading } from '../experiments/experiment.js';
import type { ExperimentResult } from '../theory/experiment.js';
import type { TrainConfig } from '../train/config.js';
import type { GoodnessHistogram } from '../train/trainer.js';

import { linesSpec } from './chart-specs.js';
import { goodnessHistogramSpec, histogramPeak, readGoodnessHistograms } from './goodness-figure.js';
import { featureOf, measureReading, readingLabel, type XY } from './shape.js';
import { theoryFigureSpec } from './theory-figure.js';
import { pngAvailable, svgToPng } from './png.js';
import { renderSvg, type TopLevelSpec } from './vega.js';
import { curveOf, runFolderOf, summarizeCell, type CellCurve, type CellSummary } from './aggregate.js';
import { parseRunConfig, parseTheoryOutput } from './inputs.js';
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

/** A value the spec reads off a published figure beside the reproduction's (one value per series). */
export interface ReadingRow {
  experiment: string;
  cell: string;
  label: string;
  /** E.g. `epoch 25`, `t = 500`, `final`, `escape time`. */
  reading: string;
  metric: string;
  paper: number;
  tol: number;
  source: string;
  /** The reproduction's value on each series (a training cell's seed-mean curve; each theory curve). */
  ours: { series: string; value: number | null }[];
  /** On the first series: within tol of the paper's value, outside it, or not reached yet. */
  verdict: 'matches' | 'differs' | 'not reached';
}

/** The shape of one theory curve: eps_g's start, plateau, escape and final value, the angles' ends. */
export interface TheoryShape {
  experiment: string;
  cell: string;
  series: string;
  start: number | null;
  plateau: number | null;
  plateau_t: number | null;
  escape_t: number | null;
  final: number | null;
  angles_start: { teacher: number | null; degenerate: number | null; feedback: number | null };
  angles_final: { teacher: number | null; degenerate: number | null; feedback: number | null };
  feedback_min: number | null;
  max_rel_gap: number | null;
}

/** One goodness-difference histogram of a run, summarised. */
export interface HistogramRow {
  experiment: string;
  cell: string;
  epoch: number;
  n: number;
  mean: number;
  std: number;
  mode: number;
  peak_density: number;
  p05: number;
  median: number;
  p95: number;
}

export interface Report {
  /** The budget of each experiment, as asked for when it was run. */
  budget: Record<string, Manifest['budget']>;
  /** Kind of each experiment (table, curves, theory). */
  kinds: Record<string, Manifest['kind']>;
  cells: CellSummary[];
  curves: CellCurve[];
  readings: ReadingRow[];
  theory: TheoryShape[];
  histograms: HistogramRow[];
  costs: CostRow[];
}

/** A run's config.json, checked as a config file is (null: the run has not started). */
function runConfig(out: string, runId: string): TrainConfig | null {
  const file = join(runFolderOf(out, runId), 'config.json');
  const text = readTextIfPresent(file);
  return text === null ? null : parseRunConfig(text, file);
}

function costOf(config: TrainConfig): { sizes: number[]; macs: number; peak: number } {
  const { sizes, cost } = configStepCost(config);
  return { sizes, macs: cost.macs, peak: cost.peakActivationBytes };
}

/** A theory run's theory.json, checked (null: the run has not finished). */
function readTheory(out: string, runId: string): ExperimentResult | null {
  const file = join(runFolderOf(out, runId), 'theory.json');
  const text = readTextIfPresent(file);
  return text === null ? null : parseTheoryOutput(text, file);
}

const RULE_NAMES: Record<string, string> = { pepita: 'PEPITA', afa: 'AFA', dfa: 'DFA', fa: 'FA', bp: 'BP' };

/** The name of a theory curve in tables: `AFA ODE` (PEPITA's ODE is AFA's), `PEPITA sim`. */
function theorySeries(c: ExperimentResult['curves'][number]): string {
  return c.kind === 'ode' ? `${c.system.toUpperCase()} ODE` : `${RULE_NAMES[c.rule] ?? c.rule} sim`;
}

/** A theory curve's quantity: `eg` or `angle_teacher`, `angle_degenerate`, `angle_feedback`. */
function theoryXY(c: ExperimentResult['curves'][number], metric: string): XY {
  const angle = metric.replace(/^angle_/, '');
  const y =
    metric === 'eg' ? c.eg : Object.hasOwn(c.angles, angle) ? c.angles[angle as keyof typeof c.angles] : [];
  return { x: c.t, y };
}

/** The distinct curves of a theory result: the ODE once (rules sharing a system), every simulation. */
function distinctCurves(result: ExperimentResult): ExperimentResult['curves'] {
  const seen = new Set<string>();
  return result.curves.filter((c) => !seen.has(theorySeries(c)) && seen.add(theorySeries(c)));
}

function theoryShape(experiment: string, cell: string, c: ExperimentResult['curves'][number]): TheoryShape {
  const eg = theoryXY(c, 'eg');
  const v = (name: Parameters<typeof featureOf>[1], xy: XY) => featureOf(xy, name)?.value ?? null;
  const angle = (which: 'teacher' | 'degenerate' | 'feedback') => theoryXY(c, `angle_${which}`);
  const plateau = featureOf(eg, 'plateau');
  return {
    experiment,
    cell,
    series: theorySeries(c),
    start: v('start', eg),
    plateau: plateau?.value ?? null,
    plateau_t: plateau?.at ?? null,
    escape_t: featureOf(eg, 'escape')?.at ?? null,
    final: v('final', eg),
    angles_start: {
      teacher: v('start', angle('teacher')),
      degenerate: v('start', angle('degenerate')),
      feedback: v('start', angle('feedback')),
    },
    angles_final: {
      teacher: v('final', angle('teacher')),
      degenerate: v('final', angle('degenerate')),
      feedback: v('final', angle('feedback')),
    },
    feedback_min: v('min', angle('feedback')),
    max_rel_gap: c.rel_gap?.max ?? null,
  };
}

function readingRow(
  manifest: Manifest,
  cell: Manifest['cells'][number],
  reading: Reading,
  metric: string,
  series: { series: string; xy: XY }[],
  xName: string,
): ReadingRow {
  const ours = series.map((s) => ({ series: s.series, value: measureReading(s.xy, reading) }));
  const first = ours[0]?.value ?? null;
  return {
    experiment: manifest.experiment,
    cell: cell.id,
    label: cell.label,
    reading: readingLabel(reading, xName),
    metric,
    paper: reading.value,
    tol: reading.tol,
    source: reading.source,
    ours,
    verdict:
      first === null ? 'not reached' : Math.abs(first - reading.value) <= reading.tol ? 'matches' : 'differs',
  };
}

/** A goodness histogram's summary figure by metric name (`goodness.mode`, `goodness.p95`, ...). */
function histogramValue(h: GoodnessHistogram, metric: string): number | null {
  const peak = histogramPeak(h);
  const values: Record<string, number> = {
    'goodness.mode': peak.mode,
    'goodness.peak_density': peak.density,
    'goodness.mean': h.mean,
    'goodness.std': h.std,
    'goodness.p05': h.p05,
    'goodness.median': h.median,
    'goodness.p95': h.p95,
  };
  return Object.hasOwn(values, metric) ? values[metric]! : null;
}

/**
 * Aggregates every experiment of the results directory `out` (its manifests, read unless given). Everything
 * read is checked first: a manifest, metrics line, run config, theory output or histogram that is not valid
 * is refused in one line naming the file and the field.
 */
export function buildReport(out: string, manifests: readonly Manifest[] = readManifests(out)): Report {
  const report: Report = {
    budget: {},
    kinds: {},
    cells: [],
    curves: [],
    readings: [],
    theory: [],
    histograms: [],
    costs: [],
  };
  for (const manifest of manifests) {
    report.budget[manifest.experiment] = manifest.budget;
    report.kinds[manifest.experiment] = manifest.kind ?? 'table';
    if (manifest.kind === 'theory') {
      addTheory(report, out, manifest);
      continue;
    }
    for (const cell of manifest.cells) {
      const summary = summarizeCell(out, manifest, cell, 'test_acc');
      report.cells.push(summary);
      // curve experiments show prelude epochs (pre-mirroring) before training, as the paper's Fig. 3c does
      const prelude = manifest.kind === 'curves';
      const curve = curveOf(out, manifest, cell, manifest.metric, prelude);
      report.curves.push(curve);
      const histograms = cell.runs[0] ? readGoodnessHistograms(runFolderOf(out, cell.runs[0])) : [];
      for (const h of histograms) {
        const peak = histogramPeak(h);
        report.histograms.push({
          experiment: manifest.experiment,
          cell: cell.id,
          epoch: h.epoch,
          n: h.n,
          mean: h.mean,
          std: h.std,
          mode: peak.mode,
          peak_density: peak.density,
          p05: h.p05,
          median: h.median,
          p95: h.p95,
        });
      }
      for (const reading of cell.readings ?? []) {
        const metric = reading.metric ?? manifest.metric;
        let xy: XY;
        if (metric.startsWith('goodness.')) {
          const points = histograms
            .map((h) => ({ x: h.epoch, y: histogramValue(h, metric) }))
            .filter((p): p is { x: number; y: number } => p.y !== null);
          xy = { x: points.map((p) => p.x), y: points.map((p) => p.y) };
        } else {
          const c = metric === manifest.metric ? curve : curveOf(out, manifest, cell, metric, prelude);
          xy = { x: c.epoch, y: c.mean };
        }
        report.readings.push(
          readingRow(manifest, cell, reading, metric, [{ series: cell.label, xy }], 'epoch'),
        );
      }
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

function addTheory(report: Report, out: string, manifest: Manifest): void {
  for (const cell of manifest.cells) {
    const result = cell.runs[0] ? readTheory(out, cell.runs[0]) : null;
    const curves = result ? distinctCurves(result) : [];
    for (const c of curves) report.theory.push(theoryShape(manifest.experiment, cell.id, c));
    for (const reading of cell.readings ?? []) {
      const metric = reading.metric ?? 'eg';
      const series = curves.map((c) => ({ series: theorySeries(c), xy: theoryXY(c, metric) }));
      report.readings.push(readingRow(manifest, cell, reading, metric, series, 't'));
    }
  }
}

const pct = (v: number | null, digits = 2) => (v === null ? '-' : v.toFixed(digits));

/** A number in a table: 4 significant digits, '-' when missing. */
const num = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '-'
    : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
      ? v.toExponential(2)
      : String(Number(v.toPrecision(4)));

function budgetLine(name: string, b: Manifest['budget'], kind: Manifest['kind']): string {
  if (kind === 'theory') {
    return `- **${name}**: teacher-student theory, ODEs and ${b.seeds} simulation${b.seeds === 1 ? '' : 's'} per rule from the same initial weights`;
  }
  const subset = [
    b.trainSubset !== null ? `first ${b.trainSubset} training examples` : 'full training set',
    b.testSubset !== null ? `first ${b.testSubset} test examples` : 'full test set',
  ].join(', ');
  return `- **${name}**: ${b.epochs} epochs, ${b.seeds} seed${b.seeds === 1 ? '' : 's'} per configuration, ${subset}`;
}

/** A figure written for the report: its file (under figures/) and the experiment it belongs to. */
export interface ReportFigure {
  experiment: string;
  file: string;
  caption: string;
}

/** A markdown table: its header, then one row per entry. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}

const fixed = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits));

function cellTable(cells: CellSummary[]): string[] {
  return table(
    ['cell', 'dataset', 'rule', 'seeds', 'topdown', 'paper', 'z', 'verdict', 'slowness'],
    cells.map((c) => [
      c.label,
      c.dataset,
      c.rule,
      `${c.seeds}/${c.seeds_planned}`,
      c.mean === null ? '-' : `${pct(c.mean)} +- ${pct(c.std)}`,
      c.published_mean === null ? '-' : `${pct(c.published_mean)} +- ${pct(c.published_std)}`,
      fixed(c.z, 1),
      c.verdict === 'unfinished'
        ? `unfinished: runs at epoch ${c.epochs_reached.join(', ')} of ${c.epochs}`
        : c.verdict,
      fixed(c.slowness, 3),
    ]),
  );
}

function readingTable(rows: ReadingRow[]): string[] {
  return table(
    ['cell', 'reading', 'metric', 'paper (read off the figure)', 'topdown', 'verdict'],
    rows.map((r) => [
      r.label,
      r.reading,
      r.metric,
      `${num(r.paper)} +- ${num(r.tol)}`,
      r.ours.map((o) => (r.ours.length > 1 ? `${o.series} ${num(o.value)}` : num(o.value))).join('; ') || '-',
      r.verdict,
    ]),
  );
}

function theoryTable(rows: TheoryShape[]): string[] {
  const three = (a: TheoryShape['angles_start']) =>
    [a.teacher, a.degenerate, a.feedback].map((v) => fixed(v, 1)).join(' / ');
  return table(
    [
      'cell',
      'curve',
      'eps_g start',
      'plateau (at t)',
      'escape t',
      'eps_g final',
      'angles at t = 0 (T / D / F)',
      'angles at the end (T / D / F)',
      'min F angle',
      'max gap to ODE',
    ],
    rows.map((r) => [
      r.cell,
      r.series,
      num(r.start),
      `${num(r.plateau)} (${num(r.plateau_t)})`,
      num(r.escape_t),
      num(r.final),
      three(r.angles_start),
      three(r.angles_final),
      fixed(r.feedback_min, 1),
      r.max_rel_gap === null ? '-' : `${(100 * r.max_rel_gap).toFixed(1)}%`,
    ]),
  );
}

function histogramTable(rows: HistogramRow[]): string[] {
  return table(
    ['cell', 'epoch', 'samples', 'mean', 'std', 'mode', 'density at the mode', '5%', 'median', '95%'],
    rows.map((h) =>
      [h.cell, String(h.epoch), String(h.n)].concat(
        [h.mean, h.std, h.mode, h.peak_density, h.p05, h.median, h.p95].map(num),
      ),
    ),
  );
}

/**
 * report.md: the budget first, then per experiment its table, the values read off the published figure
 * beside ours, theory shapes, histograms, the figures and the notes on it (`notes[experiment]`, markdown
 * kept with the results), and the cost table.
 */
export function reportMarkdown(
  report: Report,
  figures: readonly ReportFigure[] = [],
  notes: Readonly<Record<string, string>> = {},
): string {
  const lines: string[] = ['# topdown results', '', '## Budget', ''];
  for (const [name, b] of Object.entries(report.budget))
    lines.push(budgetLine(name, b, report.kinds[name] ?? 'table'));
  lines.push(
    '',
    'Accuracies in percent: mean +- sample std over the seeds finished at the budget\'s epochs; z = (mean - published mean) / published std; a cell is "consistent" within +-2 published stds; a preview (fewer epochs than the full budget of the experiment, or a data subset) says "reduced budget" and is not judged. Slowness: the fit of spec 7.2 on the seed-mean test curve (first 60 epochs; smaller is faster). Readings: values the spec reads off the published figures, with the tolerance of the reading; a reading "matches" when the first series listed is within it.',
  );
  for (const name of Object.keys(report.budget)) {
    lines.push('', `## ${name}`, '');
    const cells = report.cells.filter((c) => c.experiment === name);
    if (cells.length) lines.push(...cellTable(cells));
    const readings = report.readings.filter((r) => r.experiment === name);
    if (readings.length) lines.push('', '### Against the published figure', '', ...readingTable(readings));
    const theory = report.theory.filter((t) => t.experiment === name);
    if (theory.length) {
      lines.push(
        '',
        '### Shapes of the curves',
        '',
        'Plateau: the flattest point (in log eps_g vs log t) once eps_g has fallen a quarter of the way from its start to its minimum; escape: the first time after it with eps_g 10% below the plateau. Angles in degrees: T = Teacher-Student, D = Degenerate Teacher-Student, F = Feedback-Student.',
        '',
        ...theoryTable(theory),
      );
    }
    if (report.kinds[name] === 'theory' && !theory.length) lines.push('No theory run has finished yet.');
    const histograms = report.histograms.filter((h) => h.experiment === name);
    if (histograms.length) {
      lines.push(
        '',
        '### Goodness-difference histograms',
        '',
        "||h_1||^2 - ||h_1'||^2 between the two passes over the test set (first seed).",
        '',
        ...histogramTable(histograms),
      );
    }
    for (const f of figures.filter((f) => f.experiment === name)) {
      lines.push('', `![${f.caption}](figures/${f.file})`);
    }
    if (Object.hasOwn(notes, name) && notes[name]) lines.push('', '### Notes', '', notes[name]!.trim());
  }
  lines.push('', '## Cost per step', '');
  lines.push(
    ...table(
      [
        'experiment',
        'cell',
        'rule',
        'net',
        'batch',
        'MACs per step',
        'peak activations',
        'measured samples/s',
      ],
      report.costs.map((c) => [
        c.experiment,
        c.cell,
        c.rule,
        c.sizes.join('-'),
        String(c.batch),
        `${(c.macs_per_step / 1e6).toFixed(1)} M`,
        `${(c.peak_activation_bytes / 1e6).toFixed(2)} MB`,
        c.samples_per_s === null ? '-' : String(Math.round(c.samples_per_s)),
      ]),
    ),
  );
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
  const prelude = curves.some((c) => c.epoch[0]! < 1);
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
      xTitle: prelude ? 'epoch (pre-mirroring epochs up to 0)' : 'epoch',
      yTitle: what,
      angle,
    },
  );
}

/** The notes kept with the results: `<out>/notes/<experiment>.md`, by experiment. */
export function readNotes(out: string, experiments: readonly string[]): Record<string, string> {
  const notes: Record<string, string> = {};
  for (const name of experiments) {
    const text = readTextIfPresent(pathInside(join(out, 'notes'), name, 'the experiment name', '.md'));
    if (text !== null) notes[name] = text;
  }
  return notes;
}

/** A figure to write: its name under figures/ (without extension), the spec and how it is listed. */
interface PlannedFigure extends ReportFigure {
  name: string;
  spec: TopLevelSpec;
}

/** A figure's files: the SVG and, when the renderer is there, the PNG (twice the SVG's width). */
async function renderFigure(spec: TopLevelSpec): Promise<{ svg: string; png: Uint8Array | null }> {
  const svg = await renderSvg(spec);
  if (!pngAvailable()) return { svg, png: null };
  const width = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 600);
  return { svg, png: svgToPng(svg, { width: 2 * width, background: 'white' }) };
}

/** The report's figures: each experiment's curves, each theory cell's Fig. 2, each run's histograms. */
function planFigures(out: string, report: Report, manifests: readonly Manifest[]): PlannedFigure[] {
  const figures: PlannedFigure[] = [];
  for (const name of Object.keys(report.budget)) {
    const spec = experimentFigureSpec(report, name);
    if (spec) figures.push({ experiment: name, name, file: `${name}.svg`, caption: name, spec });
  }
  for (const manifest of manifests) {
    for (const cell of manifest.cells) {
      const run = cell.runs[0];
      if (!run) continue;
      const name = `${manifest.experiment}-${cell.id}`;
      const theory = manifest.kind === 'theory' ? readTheory(out, run) : null;
      if (theory) {
        figures.push({
          experiment: manifest.experiment,
          name,
          file: `${name}.svg`,
          caption: `${manifest.experiment}, ${cell.label}`,
          spec: theoryFigureSpec(theory),
        });
      }
      const histograms = manifest.kind === 'theory' ? [] : readGoodnessHistograms(runFolderOf(out, run));
      if (histograms.length) {
        figures.push({
          experiment: manifest.experiment,
          name: `${name}-goodness`,
          file: `${name}-goodness.svg`,
          caption: `${manifest.experiment}, ${cell.label}: goodness-difference histograms`,
          spec: goodnessHistogramSpec(histograms),
        });
      }
    }
  }
  return figures;
}

/**
 * Writes report.md, report.json and the figures (`figures/<name>.svg|png`) into `dir`; returns the report.
 * Without the PNG renderer, figures are SVG only. Everything is read, checked and rendered before the first
 * file is written, so a results folder that is refused leaves nothing behind; the figures' names (from the
 * manifests) are file names inside `dir/figures`.
 */
export async function writeReport(out: string, dir = out): Promise<Report> {
  const manifests = readManifests(out);
  const report = buildReport(out, manifests);
  const planned = planFigures(out, report, manifests);
  const figureDir = join(dir, 'figures');
  const paths = planned.map((figure) => {
    const source = `a figure name of experiment ${figure.experiment}`;
    const at = (suffix: string) => pathInside(figureDir, figure.name, source, suffix);
    return { svg: at('.svg'), png: at('.png') };
  });
  const files: { path: string; data: string | Uint8Array }[] = [];
  for (const [i, figure] of planned.entries()) {
    const { svg, png } = await renderFigure(figure.spec);
    files.push({ path: paths[i]!.svg, data: svg });
    if (png) files.push({ path: paths[i]!.png, data: png });
  }
  const figures: ReportFigure[] = planned.map(({ experiment, file, caption }) => ({
    experiment,
    file,
    caption,
  }));
  const markdown = reportMarkdown(report, figures, readNotes(out, Object.keys(report.budget)));
  for (const folder of files.length ? [dir, figureDir] : [dir]) {
    try {
      ensureFolder(folder);
    } catch (error) {
      throw fileError(`cannot create ${folder}`, error);
    }
  }
  for (const { path, data } of files) writeAtomic(path, data);
  writeAtomic(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeAtomic(join(dir, 'report.md'), markdown);
  return report;
}
