/**
 * The live charts: the same Vega-Lite specs the command line's reports render (chart-specs, goodness-spec),
 * drawn by vega-embed. Each chart is redrawn from the whole history at most every {@link REDRAW_MS}; the old
 * view is finalised, so nothing accumulates over a long run.
 */
import embed, { type Result } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';

import { linesSpec, type Series } from '../../src/reports/chart-specs.js';
import { FIGURE_CONFIG } from '../../src/reports/figure-config.js';
import { goodnessHistogramSpec } from '../../src/reports/goodness-spec.js';
import type { EpochLogs, GoodnessHistogram } from '../../src/train/trainer.js';

import { h } from './dom.js';

/** What the charts show of one run. */
export interface RunView {
  label: string;
  /** The epochs the run trains to. */
  planned?: number;
  epochs: EpochLogs[];
  /** Running numbers within epochs: x is the fractional epoch (epoch - 1 + batch / batches). */
  batches: { x: number; loss: number; acc: number }[];
  histogram: GoodnessHistogram | null;
}

export const REDRAW_MS = 700;

/** The figures' look, with legends in two columns under charts of a page's width. */
export const LIVE_CONFIG = {
  ...FIGURE_CONFIG,
  legend: { ...FIGURE_CONFIG.legend, columns: 2, labelLimit: 260 },
};

interface Chart {
  id: string;
  title: string;
  build(runs: readonly RunView[], perBatch: boolean): TopLevelSpec | null;
}

const numberAt = (e: EpochLogs, key: string): number | null => {
  const v = e[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

function epochSeries(runs: readonly RunView[], key: string, name: string, scale = 1): Series[] {
  return runs.flatMap((run) => {
    const points = run.epochs.filter((e) => e.phase === undefined && numberAt(e, key) !== null);
    if (!points.length) return [];
    return [
      {
        name: `${run.label}: ${name}`,
        x: points.map((e) => e.epoch),
        y: points.map((e) => scale * numberAt(e, key)!),
      },
    ];
  });
}

/** Series of an array-valued metric, one per entry (`layer 1`, `layer 2`, ...). */
function arraySeries(runs: readonly RunView[], key: string, name: (i: number) => string): Series[] {
  return runs.flatMap((run) => {
    const points = run.epochs.filter((e) => e.phase === undefined && Array.isArray(e[key]));
    if (!points.length) return [];
    const width = Math.max(...points.map((e) => (e[key] as number[]).length));
    return Array.from({ length: width }, (_, i) => ({
      name: `${run.label}: ${name(i)}`,
      x: points.map((e) => e.epoch),
      y: points.map((e) => (e[key] as number[])[i] ?? NaN),
    }));
  });
}

function batchSeries(runs: readonly RunView[], key: 'acc' | 'loss', scale = 1): Series[] {
  return runs
    .filter((r) => r.batches.length)
    .map((r) => ({
      name: `${r.label}: train (running)`,
      x: r.batches.map((b) => b.x),
      y: r.batches.map((b) => scale * b[key]),
    }));
}

function lines(series: Series[], title: string, yTitle: string, angle = false): TopLevelSpec | null {
  const shown = series.filter((s) => s.x.length > 0);
  if (!shown.length) return null;
  return linesSpec(shown, { title, xTitle: 'epoch', yTitle, angle, width: 300, height: 190, points: true });
}

const CHARTS: Chart[] = [
  {
    id: 'accuracy',
    title: 'accuracy',
    build: (runs, perBatch) =>
      lines(
        [
          ...epochSeries(runs, 'test_acc', 'test', 100),
          ...(perBatch ? batchSeries(runs, 'acc', 100) : epochSeries(runs, 'train_acc', 'train', 100)),
        ],
        'accuracy (%)',
        'accuracy (%)',
      ),
  },
  {
    id: 'loss',
    title: 'loss',
    build: (runs, perBatch) =>
      lines(
        [
          ...epochSeries(runs, 'test_loss', 'test'),
          ...(perBatch ? batchSeries(runs, 'loss') : epochSeries(runs, 'train_loss', 'train')),
        ],
        'loss',
        'loss',
      ),
  },
  {
    id: 'alignment',
    title: 'alignment of F with the forward path',
    build: (runs) =>
      lines(
        [
          ...epochSeries(runs, 'angle_deg', 'F vs (W_L...W_1)^T'),
          ...arraySeries(runs, 'layer_angles_deg', (i) => `layer ${i + 1}`),
        ],
        'angle between F and (W_L...W_1)^T',
        'angle (deg)',
        true,
      ),
  },
  {
    id: 'update-angle',
    title: "angle between the update and backprop's gradient",
    build: (runs) =>
      lines(
        [
          ...epochSeries(runs, 'update_angle_deg', 'all layers'),
          ...arraySeries(runs, 'update_layer_angles_deg', (i) => `layer ${i + 1}`),
        ],
        "update vs backprop's gradient",
        'angle (deg)',
        true,
      ),
  },
  {
    id: 'goodness',
    title: 'goodness per layer',
    build: (runs) => {
      const keys = [
        ...new Set(
          runs.flatMap((r) =>
            r.epochs.flatMap((e) => Object.keys(e).filter((k) => k.startsWith('goodness_'))),
          ),
        ),
      ];
      return lines(
        keys.flatMap((k) =>
          arraySeries(runs, k, (i) => `${k.replace('goodness_', '')} pass, layer ${i + 1}`),
        ),
        'goodness (mean ||h||^2) per layer',
        'goodness',
      );
    },
  },
  {
    id: 'norms',
    title: 'weight norms',
    build: (runs) =>
      lines(
        arraySeries(runs, 'weight_norms', (i) => `W_${i + 1}`),
        'weight norms (Frobenius)',
        '||W||',
      ),
  },
  {
    id: 'histogram',
    title: 'goodness differences',
    build: (runs) => {
      // one panel per run with two passes (PEPITA, FF), side by side
      const panels = runs.flatMap((run) => {
        if (!run.histogram) return [];
        const spec = goodnessHistogramSpec([run.histogram]) as TopLevelSpec & {
          title?: unknown;
          $schema?: string;
        };
        const { $schema, ...rest } = spec;
        void $schema;
        return [{ ...rest, title: `${run.label}: ${String(spec.title)}`, width: 300, height: 190 }];
      });
      if (!panels.length) return null;
      return {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        hconcat: panels,
      } as unknown as TopLevelSpec;
    },
  },
];

/** The charts in `root`, redrawn from the runs on {@link LiveCharts.update}. */
export class LiveCharts {
  private readonly views = new Map<string, Result>();
  private readonly figures = new Map<string, HTMLElement>();
  private pending: ReturnType<typeof setTimeout> | null = null;
  private lastDraw = 0;
  private latest: { runs: readonly RunView[]; perBatch: boolean } | null = null;
  /** The values last drawn, per chart (for tests and the text summary). */
  readonly drawn = new Map<string, Record<string, unknown>[]>();

  constructor(private readonly root: HTMLElement) {
    for (const c of CHARTS) {
      const figure = h('figure', { id: `chart-${c.id}`, 'aria-label': c.title, hidden: true });
      this.figures.set(c.id, figure);
      root.append(figure);
    }
  }

  /** Schedules a redraw (at once when the last one is old enough). */
  update(runs: readonly RunView[], perBatch: boolean, now = false): void {
    this.latest = { runs, perBatch };
    if (this.pending) return;
    const wait = now ? 0 : Math.max(0, REDRAW_MS - (performance.now() - this.lastDraw));
    this.pending = setTimeout(() => {
      this.pending = null;
      void this.draw();
    }, wait);
  }

  private async draw(): Promise<void> {
    if (!this.latest) return;
    this.lastDraw = performance.now();
    const { runs, perBatch } = this.latest;
    for (const c of CHARTS) {
      const figure = this.figures.get(c.id)!;
      const spec = c.build(runs, perBatch);
      figure.hidden = spec === null;
      this.views.get(c.id)?.finalize();
      this.views.delete(c.id);
      if (!spec) {
        this.drawn.delete(c.id);
        continue;
      }
      const values = (spec as { data?: { values?: Record<string, unknown>[] } }).data?.values ?? [];
      this.drawn.set(c.id, values);
      const result = await embed(
        figure,
        { ...spec, config: { ...FIGURE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec,
        {
          actions: false,
          renderer: 'svg',
        },
      );
      this.views.set(c.id, result);
    }
  }
}
