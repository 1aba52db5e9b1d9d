/**
 * Reports: figures as Vega-Lite specs rendered to SVG, their PNG rasterisation, image grids.
 * @packageDocumentation
 */
export { estimateTextWidth, escapeXml, FIGURE_FONT_FAMILY } from './svg-text.js';
export { FIGURE_CONFIG, renderFigure, renderSvg, type TopLevelSpec } from './vega.js';
export { linesSpec, type LinesOptions, type Series } from './chart-specs.js';
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
