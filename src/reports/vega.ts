/**
 * The one chart grammar of topdown's figures: Vega-Lite specs compiled by vega-lite and rendered headless to
 * SVG by vega (no canvas: text widths are estimated), then to PNG by resvg. The same specs can drive
 * vega-embed in a browser.
 */
import type { TopLevelSpec } from 'vega-lite';

import { FIGURE_CONFIG } from './figure-config.js';
import { svgToPng } from './png.js';

export type { TopLevelSpec } from 'vega-lite';
export { FIGURE_CONFIG } from './figure-config.js';

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
