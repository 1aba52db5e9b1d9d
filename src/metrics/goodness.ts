/**
 * Forward-Forward "goodness" diagnostics (spec 2.11, Fig. S2): the per-sample difference of squared activity
 * norms between the clean and the modulated pass, G(h) - G(h_mod) with G(h) = sum_j h_j^2, and helpers to
 * summarise a set of such values (histogram, mean/std/quantiles).
 */
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';

/**
 * Per row i: ||h_i||^2 - ||h_mod,i||^2, summed in float64.
 *
 * @param clean - b x d activities of the clean pass (e.g. h_1)
 * @param modulated - b x d activities of the modulated pass (e.g. h_1^err)
 * @param out - b entries to write into (a new array when omitted)
 * @returns `out`
 * @throws {@link TopdownUsageError} when the shapes differ or `out` does not have b entries
 */
export function goodnessDifferences(clean: Matrix, modulated: Matrix, out?: Float64Array): Float64Array {
  if (clean.rows !== modulated.rows || clean.cols !== modulated.cols) {
    throw new TopdownUsageError(
      `goodnessDifferences: shapes differ (${clean.rows}x${clean.cols} vs ${modulated.rows}x${modulated.cols})`,
    );
  }
  const result = out ?? new Float64Array(clean.rows);
  if (result.length !== clean.rows) {
    throw new TopdownUsageError(
      `goodnessDifferences: out has ${result.length} entries for ${clean.rows} rows`,
    );
  }
  for (let i = 0; i < clean.rows; i++) {
    const c = clean.offset + i * clean.stride;
    const m = modulated.offset + i * modulated.stride;
    let g = 0;
    let gMod = 0;
    for (let j = 0; j < clean.cols; j++) {
      const x = clean.data[c + j]!;
      const y = modulated.data[m + j]!;
      g += x * x;
      gMod += y * y;
    }
    result[i] = g - gMod;
  }
  return result;
}

/** Options for {@link histogram}. */
export interface HistogramOptions {
  /** Number of equal-width bins (a positive integer). */
  bins: number;
  /** Lower edge; the smallest finite value when omitted. */
  min?: number;
  /** Upper edge; the largest finite value when omitted. */
  max?: number;
}

/** Result of {@link histogram}. */
export interface Histogram {
  /** bins + 1 increasing edges; bin k is [edges[k], edges[k+1]), the last bin also includes its upper edge. */
  edges: Float64Array;
  /** Number of values in each bin. */
  counts: Uint32Array;
  /** Values left out: NaN, or outside [edges[0], edges[bins]]. counts sum to n - outside. */
  outside: number;
}

/**
 * An equal-width histogram of `values`, with numpy's conventions: bins half-open except the last, which is
 * closed; when the range is taken from the data, every finite value falls in a bin; a range of zero width
 * (all values equal) is widened to [v - 0.5, v + 0.5]; without finite values the range is [0, 1].
 *
 * @throws {@link TopdownUsageError} when `bins` is not a positive integer, a given bound is not finite, or
 *   the range is reversed (min > max)
 */
export function histogram(values: ArrayLike<number>, options: HistogramOptions): Histogram {
  const { bins } = options;
  if (!Number.isSafeInteger(bins) || bins < 1) {
    throw new TopdownUsageError(`histogram: bins must be a positive integer; got ${bins}`);
  }
  for (const key of ['min', 'max'] as const) {
    const v = options[key];
    if (v !== undefined && !Number.isFinite(v)) {
      throw new TopdownUsageError(`histogram: ${key} must be a finite number; got ${v}`);
    }
  }
  let lo = options.min;
  let hi = options.max;
  if (lo === undefined || hi === undefined) {
    let dataMin = Infinity;
    let dataMax = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < dataMin) dataMin = v;
      if (v > dataMax) dataMax = v;
    }
    if (dataMin > dataMax) {
      dataMin = 0;
      dataMax = 1;
    }
    lo ??= dataMin;
    hi ??= dataMax;
  }
  if (lo > hi) throw new TopdownUsageError(`histogram: the range [${lo}, ${hi}] is reversed`);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = new Float64Array(bins + 1);
  const width = hi - lo;
  for (let k = 0; k < bins; k++) edges[k] = lo + (width * k) / bins;
  edges[bins] = hi;
  const counts = new Uint32Array(bins);
  let outside = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= lo && v <= hi)) {
      outside++; // NaN lands here too
      continue;
    }
    let k = Math.min(bins - 1, Math.floor(((v - lo) / width) * bins));
    // rounding in the division can disagree with the stored edges by one bin; the edges win
    if (k > 0 && v < edges[k]!) k--;
    else if (k < bins - 1 && v >= edges[k + 1]!) k++;
    counts[k]!++;
  }
  return { edges, counts, outside };
}

/** Result of {@link summary}. */
export interface Summary {
  /** Number of values summarised (NaN values are left out). */
  n: number;
  /** Arithmetic mean. */
  mean: number;
  /** Population standard deviation (divides by n). */
  std: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** 50th percentile. */
  median: number;
  /** 5th percentile. */
  p05: number;
  /** 95th percentile. */
  p95: number;
}

/**
 * Mean, population standard deviation, extremes and the 5th/50th/95th percentiles of `values`, in float64.
 * Percentiles interpolate linearly between order statistics at position q (n - 1), as numpy's default. NaN
 * values are left out; with none left every field except `n` is NaN.
 */
export function summary(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).filter((v) => !Number.isNaN(v));
  const n = sorted.length;
  if (n === 0) return { n, mean: NaN, std: NaN, min: NaN, max: NaN, median: NaN, p05: NaN, p95: NaN };
  sorted.sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mean = sum / n;
  let deviations = 0;
  for (let i = 0; i < n; i++) deviations += (sorted[i]! - mean) ** 2;
  return {
    n,
    mean,
    std: Math.sqrt(deviations / n),
    min: sorted[0]!,
    max: sorted[n - 1]!,
    median: quantileOfSorted(sorted, 0.5),
    p05: quantileOfSorted(sorted, 0.05),
    p95: quantileOfSorted(sorted, 0.95),
  };
}

/** Linear-interpolation quantile of an ascending, non-empty array. */
function quantileOfSorted(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const below = Math.floor(pos);
  const above = Math.min(sorted.length - 1, below + 1);
  const t = pos - below;
  const a = sorted[below]!;
  const b = sorted[above]!;
  return t === 0 ? a : a + t * (b - a);
}
