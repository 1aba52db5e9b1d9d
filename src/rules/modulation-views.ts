/** What a rule with top-down feedback F feeds or would feed its second pass: x -+ F e, and F e itself. */
import type { Engine } from '../core/engine-base.js';
import { Matrix } from '../core/matrix.js';
import type { ModulationSign, TopDownFeedback } from '../feedback/top-down.js';
import { argmaxRows } from '../metrics/accuracy.js';

import type { InputView } from './rule.js';

/** The largest |k F e| of a magnified modulated image. */
const MAGNIFIED = 0.25;

/** The modulated inputs x -+ F e for the errors `e` of inputs `x` (b x d_L), and F e (signed). */
export function modulationViews(
  engine: Engine,
  feedback: TopDownFeedback,
  sign: ModulationSign,
  x: Matrix,
  targets: Matrix,
  e: Matrix,
): InputView[] {
  const b = x.rows;
  const f = feedback.matrix;
  const fe = new Matrix(b, x.cols);
  engine.gemm(false, true, b, f.rows, f.cols, 1, e, f, 0, fe);
  const s = sign === 'minus' ? -1 : 1;
  const labels = new Int32Array(b);
  argmaxRows(targets, labels);
  const rowMax = Array.from({ length: b }, (_, i) => {
    let m = 0;
    for (let j = 0; j < x.cols; j++) m = Math.max(m, Math.abs(fe.get(i, j)));
    return m;
  });
  const maxAbs = Math.max(0, ...rowMax);
  // F e is about 1% of a pixel: x -+ F e looks like x. Each image shows x -+ k F e instead, with k its own
  // magnification (max |k F e| = MAGNIFIED), so that where and which way the error moves the input is seen.
  const gains = rowMax.map((m) => (m > 0 ? MAGNIFIED / m : 0));
  const xMod = new Matrix(b, x.cols);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < x.cols; j++) xMod.set(i, j, x.get(i, j) + s * gains[i]! * fe.get(i, j));
  }
  return [
    {
      label: `modulated input\nx ${s < 0 ? '-' : '+'} k F e (k per\nimage: max |k F e|\n= ${MAGNIFIED})`,
      images: xMod,
      captions: Array.from(
        labels,
        (c, i) => `e_${c} ${e.get(i, c).toFixed(2)}, k ${gains[i]!.toPrecision(2)}`,
      ),
    },
    {
      // each image at its own scale (its max |F e| in the caption): F e is small next to x, and next to
      // the errors of other samples
      label: `F e, each image\nscaled to its\nmax |F e| (row\nmax ${maxAbs.toPrecision(2)})`,
      images: fe,
      captions: rowMax.map((m) => `max ${m.toPrecision(2)}`),
      signed: true,
      perImage: true,
    },
  ];
}
