/**
 * Error propagation shared by backprop-like rules. For hidden layer l (0-based, l < L-1):
 * - chain (BP, FA): delta_l = block_l^T(delta_{l+1} M_l), M_l = W_{l+1} (BP) or FA's fixed R_l (through a
 *   convolution layer l+1: its input gradient with M_l as the kernels);
 * - direct (DFA, DRTP): delta_l = block_l^T(s D_l), s = the output error (DFA) or the targets (DRTP);
 * and every layer's update is G_l = delta_l^T h_{l-1} / b (a convolution's: summed over its positions).
 */
import type { Engine } from '../core/engine-base.js';
import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';
import { backpropThroughBlock, forward, type DropoutMasks, type ForwardState } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { outputDelta, outputError } from './output-error.js';
import type { Batch } from './rule.js';
import { addLayerUpdate } from './layer-update.js';
import { Scratch } from './scratch.js';

/**
 * Per-layer delta buffers (shaped like the pre-activations), a scratch buffer for activation derivatives,
 * and, in a network with convolutions, a buffer for a block output's gradient (wider blocks' deltas are
 * computed from it).
 */
export class DeltaBuffers {
  readonly deltas: Scratch[];
  readonly scratch: Float32Array;
  /** dL/dh_l of a convolution block before it goes back through the block (null without convolutions). */
  readonly blockGrad: Float32Array | null;

  constructor(net: Network, maxBatch: number, memory: FloatAllocator = HEAP) {
    const widths = net.sizes.slice(1).map((d, l) => Math.max(d, net.preWidth(l)));
    this.deltas = net.sizes.slice(1).map((_, l) => new Scratch(maxBatch, net.preWidth(l), memory));
    this.scratch = memory.floats(maxBatch * Math.max(...widths));
    this.blockGrad = net.convolutional ? memory.floats(maxBatch * Math.max(...net.sizes.slice(1))) : null;
  }

  /** Where dL/dh_l goes before block l turns it into delta_l: delta_l itself for a fully connected block. */
  blockGradient(state: ForwardState, l: number): Matrix {
    const b = state.rows;
    const d = state.net.width(l + 1);
    const delta = this.deltas[l]!.rows(b);
    if (!state.convs[l]) return delta;
    return new Matrix(b, d, this.blockGrad!, 0, d);
  }
}

/** G_l += delta_l^T h_{l-1} / b for every layer (a convolution's: summed over its output positions). */
export function addLayerUpdates(
  engine: Engine,
  state: ForwardState,
  buffers: DeltaBuffers,
  sink: GradientSink,
): void {
  const b = state.rows;
  for (let l = 0; l < state.net.depth; l++) {
    addLayerUpdate(engine, sink, l, state, l, 1 / b, buffers.deltas[l]!.rows(b));
  }
}

/** delta_l from dL/dh_l, already in {@link DeltaBuffers.blockGradient}, back through block l. */
function throughBlock(
  engine: Engine,
  state: ForwardState,
  l: number,
  buffers: DeltaBuffers,
  masks: DropoutMasks | null,
): void {
  const grad = buffers.blockGradient(state, l);
  const delta = buffers.deltas[l]!.rows(state.rows);
  backpropThroughBlock(engine, state, l, grad.data, masks, buffers.scratch, delta.data);
}

/** Fills delta_l for hidden layers from delta_{L} (already in place) through the chain matrices M_l. */
export function chainDeltas(
  engine: Engine,
  state: ForwardState,
  chain: readonly Matrix[],
  buffers: DeltaBuffers,
  masks: DropoutMasks | null,
): void {
  const b = state.rows;
  for (let l = state.net.depth - 2; l >= 0; l--) {
    const upper = buffers.deltas[l + 1]!.rows(b);
    const m = chain[l]!;
    const grad = buffers.blockGradient(state, l);
    const conv = state.convs[l + 1];
    if (conv) conv.inputGradient(engine, upper, m, grad);
    else engine.gemm(false, false, b, m.cols, m.rows, 1, upper, m, 0, grad);
    throughBlock(engine, state, l, buffers, masks);
  }
}

/** Fills delta_l for hidden layers from `signal` (b x d_L) through the direct matrices D_l. */
export function directDeltas(
  engine: Engine,
  state: ForwardState,
  signal: Matrix,
  direct: readonly Matrix[],
  buffers: DeltaBuffers,
  masks: DropoutMasks | null,
): void {
  const b = state.rows;
  for (let l = 0; l + 1 < state.net.depth; l++) {
    const m = direct[l]!;
    const grad = buffers.blockGradient(state, l);
    engine.gemm(false, false, b, m.cols, m.rows, 1, signal, m, 0, grad);
    throughBlock(engine, state, l, buffers, masks);
  }
}

/**
 * The whole update of a backprop-shaped rule (BP, FA): forward pass, output delta, deltas through `chain`,
 * and every layer's update into `sink` (no step).
 */
export function updatesThroughChain(
  engine: Engine,
  state: ForwardState,
  buffers: DeltaBuffers,
  batch: Batch,
  chain: readonly Matrix[],
  masks: DropoutMasks | null,
  sink: GradientSink,
): void {
  forward(engine, state, batch.x, masks);
  const top = buffers.deltas[state.net.depth - 1]!.rows(state.rows);
  outputError(state.output, batch.targets, top);
  outputDelta(state, top, buffers.scratch);
  chainDeltas(engine, state, chain, buffers, masks);
  addLayerUpdates(engine, state, buffers, sink);
}

/** Feedback matrices by name (`B1`, `B2`, ... for hidden layers 1, 2, ...), for checkpoints. */
export function namedFeedback(feedback: readonly Matrix[]): Record<string, Matrix> {
  const out: Record<string, Matrix> = {};
  feedback.forEach((m, l) => (out[`B${l + 1}`] = m));
  return out;
}
