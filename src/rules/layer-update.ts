/**
 * A weight layer's update from a delta shaped like its pre-activation: one outer product for a fully
 * connected layer (G += alpha delta^T h_{l-1}), the sum over output positions of outer products with the
 * input patches for a convolution (its weight gradient's shape), both with the inputs of the pass `state`.
 */
import type { Engine } from '../core/engine-base.js';
import type { Matrix } from '../core/matrix.js';
import type { ForwardState } from '../nn/forward.js';
import type { GradientSink } from '../optim/sink.js';

/**
 * sink[index] += alpha * (update of layer l from `delta`, rows x the layer's pre-activation width, with the
 * inputs that `state`'s last pass gave the layer).
 */
export function addLayerUpdate(
  engine: Engine,
  sink: GradientSink,
  index: number,
  state: ForwardState,
  l: number,
  alpha: number,
  delta: Matrix,
): void {
  const conv = state.convs[l];
  if (!conv) {
    sink.addOuter(index, alpha, delta, state.postView(l - 1));
    return;
  }
  sink.addUpdate(index, alpha, (a, beta, g) => conv.weightGradient(engine, delta, a, beta, g));
}
