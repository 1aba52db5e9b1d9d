/**
 * Vega-Lite specs of topdown's figures, built from plain series. Many series are wrapped into facets rather
 * than stretched into one strip; legends sit below the plots; angle axes tick every 45 degrees.
 */
import type { TopLevelSpec } from 'vega-lite';

/** One line of a figure: y (and optionally its std) per x. */
export interface Series {
  /** The legend entry. */
  name: string;
  /** The facet it belongs to (e.g. the dataset), if any. */
  panel?: string;
  x: readonly number[];
  y: readonly number[];
  std?: readonly number[];
}

export interface LinesOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  /** Angle axes (degrees): ticks every 45, domain 0..180 unless the data leave it. */
  angle?: boolean;
  /** Panels per row when faceting (default 3). */
  columns?: number;
  width?: number;
  height?: number;
  /** Mark every point (curves of a few epochs, drawn live, show from their first point). */
  points?: boolean;
}

/** Lines with std bands, one panel per distinct `panel` (wrapped), legend below. */
export function linesSpec(series: readonly Series[], o: LinesOptions): TopLevelSpec {
  const values = series.flatMap((s) =>
    s.x.map((x, i) => ({
      series: s.name,
      panel: s.panel ?? '',
      x,
      y: s.y[i],
      lo: s.std ? s.y[i]! - s.std[i]! : s.y[i],
      hi: s.std ? s.y[i]! + s.std[i]! : s.y[i],
    })),
  );
  const yScale = o.angle ? { domain: [0, 180], nice: false, clamp: false } : { zero: false };
  const yAxis = o.angle ? { title: o.yTitle, values: [0, 45, 90, 135, 180] } : { title: o.yTitle };
  const color = { field: 'series', type: 'nominal', title: null } as const;
  // epochs and steps are whole numbers: few of them get a tick each
  const xs = [...new Set(values.map((v) => v.x))].sort((a, b) => a - b);
  const xAxis =
    xs.length <= 12 ? { title: o.xTitle, values: xs, format: 'd' } : { title: o.xTitle, format: 'd' };
  const layer = {
    layer: [
      {
        mark: { type: 'area', opacity: 0.2 },
        encoding: {
          x: { field: 'x', type: 'quantitative', axis: xAxis },
          y: { field: 'lo', type: 'quantitative', scale: yScale, axis: yAxis },
          y2: { field: 'hi' },
          color,
        },
      },
      {
        mark: { type: 'line', strokeWidth: 1.8, ...(o.points ? { point: { size: 22 } } : {}) },
        encoding: {
          x: { field: 'x', type: 'quantitative', axis: xAxis },
          y: { field: 'y', type: 'quantitative', scale: yScale, axis: yAxis },
          color,
        },
      },
    ],
  };
  const panels = new Set(values.map((v) => v.panel));
  const size = { width: o.width ?? 320, height: o.height ?? 220 };
  if (panels.size <= 1) {
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: o.title,
      data: { values },
      ...size,
      ...layer,
    } as TopLevelSpec;
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: o.title,
    data: { values },
    facet: { field: 'panel', type: 'nominal', title: null },
    columns: o.columns ?? 3,
    resolve: { scale: { y: o.angle ? 'shared' : 'independent' } },
    spec: { ...size, ...layer },
  } as TopLevelSpec;
}
