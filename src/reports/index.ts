/**
 * Reports: figures as SVG (pure, deterministic) and their PNG rasterisation.
 * @packageDocumentation
 */
export {
  DEFAULT_COLORS,
  DEFAULT_MARKERS,
  estimateTextWidth,
  escapeXml,
  FIGURE_FONT_FAMILY,
  linearTicks,
  logTicks,
  renderFigureSvg,
  type AxisRange,
  type AxisScale,
  type AxisTicks,
  type DashPattern,
  type FigureOptions,
  type LegendPosition,
  type MarkerShape,
  type Panel,
  type ReferenceLine,
  type Series,
  type SeriesStyle,
  type Tick,
} from './chart-svg.js';
export { MAX_PNG_WIDTH, pngAvailable, svgToPng, type PngOptions } from './png.js';
