/**
 * Summary statistics of parameter matrices (weights, biases, feedback factors, updates), in float64.
 */
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';

/** Statistics of one matrix's elements. */
export interface MatrixStats {
  /** sqrt(sum x^2); 0 for an empty matrix. */
  frobenius: number;
  /** Mean of the elements; NaN for an empty matrix. */
  mean: number;
  /**
   * Population standard deviation sqrt(sum (x - mean)^2 / n), i.e. torch.std(unbiased=False) /
   * numpy.std(ddof=0), not torch's default unbiased estimate; NaN for an empty matrix.
   */
  std: number;
  /** max |x|; NaN for an empty matrix. */
  maxAbs: number;
}

/**
 * Frobenius norm, mean, population standard deviation and largest magnitude of a matrix view, summed in
 * float64 (the deviation in a second pass around the mean, for accuracy). A NaN element makes every field
 * NaN.
 */
export function matrixStats(m: Matrix): MatrixStats {
  const n = m.rows * m.cols;
  if (n === 0) return { frobenius: 0, mean: NaN, std: NaN, maxAbs: NaN };
  const d = m.data;
  let sum = 0;
  let squares = 0;
  let maxAbs = 0;
  for (let i = 0; i < m.rows; i++) {
    const start = m.offset + i * m.stride;
    for (let j = start; j < start + m.cols; j++) {
      const x = d[j]!;
      sum += x;
      squares += x * x;
      const ax = Math.abs(x);
      // once NaN, stays NaN (comparisons with NaN are false)
      if (ax > maxAbs || Number.isNaN(ax)) maxAbs = ax;
    }
  }
  const mean = sum / n;
  let deviations = 0;
  for (let i = 0; i < m.rows; i++) {
    const start = m.offset + i * m.stride;
    for (let j = start; j < start + m.cols; j++) {
      const dx = d[j]! - mean;
      deviations += dx * dx;
    }
  }
  return { frobenius: Math.sqrt(squares), mean, std: Math.sqrt(deviations / n), maxAbs };
}

/** Anything holding per-layer weights and (optionally) biases, such as a `Network`. */
export interface StatsParameters {
  /** W_1..W_L. */
  readonly weights: readonly Matrix[];
  /** b_1..b_L, null where a layer has no bias; omitted when there are none. */
  readonly biases?: readonly (Matrix | null)[];
}

/** {@link matrixStats} of one layer's parameters. */
export interface LayerParameterStats {
  /** Paper layer index l (1-based: W_l). */
  layer: number;
  /** Statistics of W_l. */
  weight: MatrixStats;
  /** Statistics of b_l, or null without a bias. */
  bias: MatrixStats | null;
}

/**
 * {@link matrixStats} of every layer's weight and bias, in layer order.
 *
 * @throws {@link TopdownUsageError} when `biases` is given with a different length from `weights`
 */
export function parameterStats(params: StatsParameters): LayerParameterStats[] {
  const { weights, biases } = params;
  if (biases && biases.length !== weights.length) {
    throw new TopdownUsageError(
      `parameterStats: ${weights.length} weight matrices but ${biases.length} bias entries`,
    );
  }
  return weights.map((w, l) => {
    const b = biases?.[l] ?? null;
    return { layer: l + 1, weight: matrixStats(w), bias: b ? matrixStats(b) : null };
  });
}
