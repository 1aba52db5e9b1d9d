/**
 * The training-curve spec: accuracy, loss and (for rules that log it) the alignment angle vs epoch, for the
 * figure of every `topdown train` run and the browser app's live charts.
 */
import type { TopLevelSpec } from 'vega-lite';

import { linesSpec, type Series } from './chart-specs.js';

/** One epoch's metrics, as a line of metrics.jsonl. */
export type EpochLine = Record<string, unknown> & { epoch: number };

function series(lines: readonly EpochLine[], key: string, name: string, scale = 1): Series | null {
  const points = lines.filter((l) => typeof l[key] === 'number' && Number.isFinite(l[key] as number));
  if (!points.length) return null;
  return { name, x: points.map((l) => l.epoch), y: points.map((l) => scale * (l[key] as number)) };
}

/** The training-curve spec of a run's epochs (null without any epoch). */
export function trainingFigureSpec(lines: readonly EpochLine[], title: string): TopLevelSpec | null {
  if (!lines.length) return null;
  const present = (s: (Series | null)[]) => s.filter((x): x is Series => x !== null);
  const panels: { series: Series[]; yTitle: string; angle?: boolean }[] = [
    {
      series: present([
        series(lines, 'train_acc', 'train', 100),
        series(lines, 'test_acc', 'test', 100),
        series(lines, 'val_acc', 'validation', 100),
        series(lines, 'test_acc_goodness', 'test (goodness classifier)', 100),
      ]),
      yTitle: 'accuracy (%)',
    },
    {
      series: present([
        series(lines, 'train_loss', 'train'),
        series(lines, 'test_loss', 'test'),
        series(lines, 'val_loss', 'validation'),
      ]),
      yTitle: 'loss',
    },
    {
      series: present([series(lines, 'angle_deg', 'angle between F and the forward path')]),
      yTitle: 'angle (deg)',
      angle: true,
    },
  ].filter((p) => p.series.length > 0);
  const specs = panels.map((p) => {
    const { $schema, ...spec } = linesSpec(p.series, {
      title: p.yTitle,
      xTitle: 'epoch',
      yTitle: p.yTitle,
      angle: p.angle,
      width: 260,
      height: 180,
    }) as TopLevelSpec & { $schema?: string };
    void $schema;
    return spec;
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    hconcat: specs,
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}
