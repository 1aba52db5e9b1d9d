/**
 * Classification metrics on a batch of network outputs (rows = samples, columns = classes): top-1 accuracy
 * (spec 7.4) and the cross-entropy of softmax probabilities.
 */
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';

/** Smallest probability whose logarithm {@link crossEntropy} takes. */
export const CROSS_ENTROPY_FLOOR = 1e-12;

/**
 * Writes the index of each row's largest element into `out[i]`. Ties go to the lowest index; a row holding
 * any NaN (or having no columns) gets -1, so it matches no label.
 *
 * @param outputs - b x K scores or probabilities
 * @param out - at least b entries; entries past b are left alone
 * @returns `out`
 * @throws {@link TopdownUsageError} when `out` is shorter than the number of rows
 */
export function argmaxRows(outputs: Matrix, out: Int32Array): Int32Array {
  if (out.length < outputs.rows) {
    throw new TopdownUsageError(`argmaxRows: out has ${out.length} entries for ${outputs.rows} rows`);
  }
  const d = outputs.data;
  for (let i = 0; i < outputs.rows; i++) {
    const start = outputs.offset + i * outputs.stride;
    let best = -1;
    let bestValue = -Infinity;
    for (let j = 0; j < outputs.cols; j++) {
      const v = d[start + j]!;
      if (Number.isNaN(v)) {
        best = -1;
        break;
      }
      // strict comparison keeps the lowest index on ties; the first column always sets best
      if (best < 0 || v > bestValue) {
        best = j;
        bestValue = v;
      }
    }
    out[i] = best;
  }
  return out;
}

function checkLabels(what: string, outputs: Matrix, labels: ArrayLike<number>): void {
  if (labels.length !== outputs.rows) {
    throw new TopdownUsageError(`${what}: ${labels.length} labels for ${outputs.rows} rows`);
  }
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= outputs.cols) {
      throw new TopdownUsageError(
        `${what}: label ${i} is ${t}; expected an integer class in [0, ${outputs.cols - 1}]`,
      );
    }
  }
}

/**
 * Top-1 accuracy: the fraction of rows whose argmax (ties to the lowest index) equals the label. Rows holding
 * NaN count as wrong.
 *
 * @param outputs - b x K scores or probabilities
 * @param labels - b integer classes in [0, K)
 * @returns a fraction in [0, 1]; NaN for an empty batch
 * @throws {@link TopdownUsageError} when the label count differs from b or a label is not a valid class
 */
export function accuracy(outputs: Matrix, labels: ArrayLike<number>): number {
  checkLabels('accuracy', outputs, labels);
  const predicted = argmaxRows(outputs, new Int32Array(outputs.rows));
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / outputs.rows;
}

/**
 * Mean cross-entropy -(1/b) sum_i log(max(p_i[label_i], 1e-12)) of softmax probabilities, summed in float64.
 * The clamp keeps a zero probability finite (-log 1e-12 = 27.63); a NaN probability makes the result NaN.
 *
 * @param probabilities - b x K rows of softmax probabilities
 * @param labels - b integer classes in [0, K)
 * @returns NaN for an empty batch
 * @throws {@link TopdownUsageError} when the label count differs from b or a label is not a valid class
 */
export function crossEntropy(probabilities: Matrix, labels: ArrayLike<number>): number {
  checkLabels('crossEntropy', probabilities, labels);
  let sum = 0;
  for (let i = 0; i < probabilities.rows; i++) {
    const p = probabilities.data[probabilities.index(i, labels[i]!)]!;
    // Math.max(NaN, floor) is NaN: a NaN probability is reported, not hidden by the clamp
    sum -= Math.log(Math.max(p, CROSS_ENTROPY_FLOOR));
  }
  return sum / probabilities.rows;
}
