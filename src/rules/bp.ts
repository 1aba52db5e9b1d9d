/** Backpropagation (spec 2.1): delta_l = (delta_{l+1} W_{l+1}) * block'_l; G_l = delta_l^T h_{l-1} / b. */
import type { Engine } from '../core/engine.js';
import { ForwardState, forward, type DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { addLayerUpdates, chainDeltas, DeltaBuffers } from './backward-chain.js';
import { outputDelta, outputError } from './output-error.js';
import type { Batch, LearningRule } from './rule.js';

export class BpRule implements LearningRule {
  readonly name = 'bp';
  private readonly state: ForwardState;
  private readonly buffers: DeltaBuffers;

  constructor(
    private readonly net: Network,
    private readonly engine: Engine,
    maxBatch: number,
  ) {
    this.state = new ForwardState(net, maxBatch);
    this.buffers = new DeltaBuffers(net, maxBatch);
  }

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    const state = this.state;
    forward(this.engine, state, batch.x, masks);
    const top = this.buffers.deltas[this.net.depth - 1]!.rows(state.rows);
    outputError(state.output, batch.targets, top);
    outputDelta(state, top, this.buffers.scratch);
    chainDeltas(this.engine, state, this.net.weights.slice(1), this.buffers, masks);
    addLayerUpdates(state, this.buffers, sink);
    sink.step();
    return state;
  }
}
