/** The look shared by every figure, headless (vega.ts) and in the browser app (vega-embed). */
import { FIGURE_FONT_FAMILY } from './svg-text.js';

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
