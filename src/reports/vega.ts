/**
 * The one chart grammar of topdown's figures: Vega-Lite specs compiled by vega-lite and rendered headless to
 * SVG by vega (no canvas: text widths are estimated), then to PNG by resvg. The same specs can drive
 * vega-embed in a browser.
 */
import type { TopLevelSpec } from 'vega-lite';

import { FIGURE_FONT_FAMILY } from './svg-text.js';
import { svgToPng } from './png.js';

export type { TopLevelSpec } from 'vega-lite';

/** The look every figure shares: the bundled font, white background, no chart border. */
export const FIGURE_CONFIG = {
  font: FIGURE_FONT_FAMILY,
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridOpacity: 0.5 },
  legend: {
    labelFontSize: 11,
    titleFontSize: 12,
    orient: 'bottom',
    direction: 'horizontal',
    symbolType: 'stroke',
    symbolOpacity: 1,
    symbolStrokeWidth: 2,
    labelLimit: 400,
  },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' },
} as const;

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // loaded on first use: most commands draw nothing, and vega takes a while to load
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const withConfig = { ...spec, config: { ...FIGURE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(withConfig).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a Vega-Lite spec to SVG and PNG (PNG at twice the SVG's size, for sharp text). */
export async function renderFigure(spec: TopLevelSpec): Promise<{ svg: string; png: Uint8Array }> {
  const svg = await renderSvg(spec);
  const width = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 600);
  return { svg, png: svgToPng(svg, { width: Math.round(2 * width), background: 'white' }) };
}
