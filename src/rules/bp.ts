/** Backpropagation (spec 2.1): delta_l = (delta_{l+1} W_{l+1}) * block'_l; G_l = delta_l^T h_{l-1} / b. */
import type { Engine } from '../core/engine-base.js';
import type { Matrix } from '../core/matrix.js';
import { ForwardState, type DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { DeltaBuffers, updatesThroughChain } from './backward-chain.js';
import { defineRule, type Batch, type LearningRule } from './rule.js';
import { chainCost, measures } from './step-cost.js';

export class BpRule implements LearningRule {
  readonly name = 'bp';
  private readonly pass: ForwardState;
  private readonly buffers: DeltaBuffers;
  /** W_2..W_L: the matrices the error flows back through. */
  private readonly chain: readonly Matrix[];

  constructor(
    net: Network,
    private readonly engine: Engine,
    maxBatch: number,
  ) {
    this.pass = new ForwardState(net, maxBatch, engine);
    this.buffers = new DeltaBuffers(net, maxBatch, engine);
    this.chain = net.weights.slice(1);
  }

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    updatesThroughChain(this.engine, this.pass, this.buffers, batch, this.chain, masks, sink);
    sink.step();
    return this.pass;
  }
}

/** Backpropagation, the reference every rule is compared with. */
export const bp = defineRule({
  name: 'bp',
  description: 'backpropagation: the error carried back through the transposed forward weights',
  convolutional: true,
  sections: [],
  create: (ctx) => new BpRule(ctx.net, ctx.engine, ctx.maxBatch),
  cost: (shape) => chainCost(measures(shape)),
});
