/**
 * Forward-Forward's supervised input: the label written into the first C features of each sample (Hinton
 * 2022: one-hot in the first 10 pixels of an MNIST image), a neutral label (every label feature 1/C of the
 * "on" value) for prediction without a label, and per-sample L2 normalisation of the result.
 */
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';

/** out = x with features 0..classes-1 replaced by `value` * one_hot(labels[i]) (out may be x). */
export function embedLabels(
  x: Matrix,
  labels: ArrayLike<number>,
  classes: number,
  value: number,
  out: Matrix,
): void {
  checkEmbed(x, classes, out);
  if (out !== x) out.copyFrom(x);
  for (let i = 0; i < x.rows; i++) {
    const label = labels[i]!;
    if (!(label >= 0 && label < classes)) {
      throw new TopdownUsageError(`label ${label} of row ${i} is outside 0..${classes - 1}`);
    }
    const o = out.index(i, 0);
    for (let c = 0; c < classes; c++) out.data[o + c] = c === label ? value : 0;
  }
}

/** out = x with every label feature set to value / classes (out may be x). */
export function embedNeutral(x: Matrix, classes: number, value: number, out: Matrix): void {
  checkEmbed(x, classes, out);
  if (out !== x) out.copyFrom(x);
  for (let i = 0; i < x.rows; i++) out.data.fill(value / classes, out.index(i, 0), out.index(i, 0) + classes);
}

/** The label embedded in row i (the argmax of its label features; -1 when they are all equal, e.g. neutral). */
export function readEmbeddedLabel(x: Matrix, i: number, classes: number): number {
  const o = x.index(i, 0);
  let best = -1;
  let max = -Infinity;
  let allEqual = true;
  for (let c = 0; c < classes; c++) {
    const v = x.data[o + c]!;
    if (c > 0 && v !== x.data[o]!) allEqual = false;
    if (v > max) {
      max = v;
      best = c;
    }
  }
  return allEqual ? -1 : best;
}

/** Scales each row to L2 norm `length` (in place); all-zero rows stay zero. */
export function normalizeRows(m: Matrix, length = 1): void {
  for (let i = 0; i < m.rows; i++) {
    const o = m.index(i, 0);
    let s = 0;
    for (let j = 0; j < m.cols; j++) s += m.data[o + j]! * m.data[o + j]!;
    const inv = s > 0 ? length / Math.sqrt(s) : 0;
    for (let j = 0; j < m.cols; j++) m.data[o + j] = m.data[o + j]! * inv;
  }
}

function checkEmbed(x: Matrix, classes: number, out: Matrix): void {
  if (!Number.isSafeInteger(classes) || classes < 2 || classes > x.cols) {
    throw new TopdownUsageError(`cannot embed ${classes} labels into ${x.cols} input features`);
  }
  if (out.rows !== x.rows || out.cols !== x.cols) {
    throw new TopdownUsageError(
      `label embedding: output is ${out.rows}x${out.cols}, input ${x.rows}x${x.cols}`,
    );
  }
}
