import type { Matrix } from '../core/matrix.js';
import { activationDerivative, activate } from '../nn/activations.js';
import type { ForwardState } from '../nn/forward.js';

/** e = y - t elementwise over the current rows (y, t, e all rows x d_L). */
export function outputError(y: Matrix, t: Matrix, e: Matrix): void {
  for (let i = 0; i < y.rows; i++) {
    const yo = y.index(i, 0);
    const to = t.index(i, 0);
    const eo = e.index(i, 0);
    for (let j = 0; j < y.cols; j++) e.data[eo + j] = y.data[yo + j]! - t.data[to + j]!;
  }
}

/**
 * Backprop's output delta dLoss/da_L in place on e = y - t: unchanged for softmax (cross-entropy loss) and
 * identity (squared error) outputs, multiplied by act'(a_L) for other output activations (squared error).
 */
export function outputDelta(state: ForwardState, e: Matrix, scratch: Float32Array): void {
  const net = state.net;
  const act = net.activationOf(net.depth - 1);
  if (act === 'softmax' || act === 'identity') return;
  const d = net.width(net.depth);
  const n = state.rows * d;
  const a = state.pre[net.depth - 1]!.data;
  activate(act, a, scratch, state.rows, d);
  activationDerivative(act, a, scratch, scratch, n);
  for (let i = 0; i < n; i++) e.data[i] = e.data[i]! * scratch[i]!;
}

/** Mean training loss of the clean pass: cross-entropy for softmax outputs, else 0.5 * squared error. */
export function batchLoss(state: ForwardState, targets: Matrix): number {
  const y = state.output;
  const softmax = state.net.activationOf(state.net.depth - 1) === 'softmax';
  let sum = 0;
  for (let i = 0; i < y.rows; i++) {
    for (let j = 0; j < y.cols; j++) {
      const yv = y.data[y.index(i, j)]!;
      const tv = targets.data[targets.index(i, j)]!;
      sum += softmax ? (tv === 0 ? 0 : -tv * Math.log(Math.max(yv, 1e-12))) : 0.5 * (yv - tv) * (yv - tv);
    }
  }
  return sum / y.rows;
}
