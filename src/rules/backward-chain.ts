/**
 * Error propagation shared by backprop-like rules. For hidden layer l (0-based, l < L-1):
 * - chain (BP, FA): delta_l = block_l^T(delta_{l+1} M_l), M_l = W_{l+1} (BP) or FA's fixed R_l;
 * - direct (DFA, DRTP): delta_l = block_l^T(s D_l), s = the output error (DFA) or the targets (DRTP);
 * and every layer's update is G_l = delta_l^T h_{l-1} / b.
 */
import type { Engine } from '../core/engine-base.js';
import { HEAP, type FloatAllocator, type Matrix } from '../core/matrix.js';
import { backpropThroughBlock, forward, type DropoutMasks, type ForwardState } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { outputDelta, outputError } from './output-error.js';
import type { Batch } from './rule.js';
import { Scratch } from './scratch.js';

/** Per-layer delta buffers plus a scratch buffer for activation derivatives. */
export class DeltaBuffers {
  readonly deltas: Scratch[];
  readonly scratch: Float32Array;

  constructor(net: Network, maxBatch: number, memory: FloatAllocator = HEAP) {
    this.deltas = net.sizes.slice(1).map((d) => new Scratch(maxBatch, d, memory));
    this.scratch = memory.floats(maxBatch * Math.max(...net.sizes.slice(1)));
  }
}

/** G_l += delta_l^T h_{l-1} / b for every layer. */
export function addLayerUpdates(state: ForwardState, buffers: DeltaBuffers, sink: GradientSink): void {
  const b = state.rows;
  for (let l = 0; l < state.net.depth; l++) {
    sink.addOuter(l, 1 / b, buffers.deltas[l]!.rows(b), state.postView(l - 1));
  }
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
    const delta = buffers.deltas[l]!.rows(b);
    engine.gemm(false, false, b, m.cols, m.rows, 1, upper, m, 0, delta);
    backpropThroughBlock(state, l, delta.data, masks, buffers.scratch);
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
    const delta = buffers.deltas[l]!.rows(b);
    engine.gemm(false, false, b, m.cols, m.rows, 1, signal, m, 0, delta);
    backpropThroughBlock(state, l, delta.data, masks, buffers.scratch);
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
  addLayerUpdates(state, buffers, sink);
}

/** Feedback matrices by name (`B1`, `B2`, ... for hidden layers 1, 2, ...), for checkpoints. */
export function namedFeedback(feedback: readonly Matrix[]): Record<string, Matrix> {
  const out: Record<string, Matrix> = {};
  feedback.forEach((m, l) => (out[`B${l + 1}`] = m));
  return out;
}
