/** What a rule with top-down feedback F feeds or would feed its second pass: x -+ F e, and F e itself. */
import type { Engine } from '../core/engine.js';
import { Matrix } from '../core/matrix.js';
import type { ModulationSign, TopDownFeedback } from '../feedback/top-down.js';
import { argmaxRows } from '../metrics/accuracy.js';

import type { InputView } from './rule.js';

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
  const xMod = new Matrix(b, x.cols);
  let maxAbs = 0;
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < x.cols; j++) {
      const v = fe.get(i, j);
      xMod.set(i, j, x.get(i, j) + s * v);
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
  }
  const labels = new Int32Array(b);
  argmaxRows(targets, labels);
  return [
    {
      label: `modulated input\nx ${s < 0 ? '-' : '+'} F e`,
      images: xMod,
      captions: Array.from(labels, (c, i) => `e_${c} = ${e.get(i, c).toFixed(2)}`),
    },
    {
      label: `F e (max |F e|\n= ${maxAbs.toPrecision(2)})`,
      images: fe,
      captions: Array.from(labels, () => ''),
      signed: true,
    },
  ];
}
