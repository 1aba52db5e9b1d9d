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
export {
  encodePng,
  imageGridPng,
  imageGridSvg,
  type GridImage,
  type GridLayout,
  type GridRow,
  type GridScaling,
  type ImageGridOptions,
} from './image-grid.js';
export { goodnessHistogramSvg, writeGoodnessHistogramFigure } from './goodness-figure.js';
