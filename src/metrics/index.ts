/**
 * Metrics: alignment angles, parameter statistics, accuracy and loss, goodness diagnostics and the
 * computational cost of a training step.
 * @packageDocumentation
 */
export {
  angleDegrees,
  angleDegreesTransposed,
  feedbackAlignmentAngle,
  forwardProduct,
  layerAlignmentAngles,
  updateAngles,
  type UpdateAngles,
} from './angles.js';
export {
  matrixStats,
  parameterStats,
  type LayerParameterStats,
  type MatrixStats,
  type StatsParameters,
} from './norms.js';
export { accuracy, argmaxRows, CROSS_ENTROPY_FLOOR, crossEntropy } from './accuracy.js';
export {
  goodnessDifferences,
  histogram,
  summary,
  type Histogram,
  type HistogramOptions,
  type Summary,
} from './goodness.js';
