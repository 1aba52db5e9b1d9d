/**
 * Feedback alignment (spec 2.2): backprop with each W_{l+1} in the backward pass replaced by a fixed random
 * R_l of the same shape (B_{l+1} = R_l^T). With a `feedbackSink`, the R_l learn by Kolen-Pollack: they get
 * exactly W_{l+1}'s update (delta_{l+1}^T h_l / b) from their own optimiser, which with weight decay on both
 * drives R_l towards W_{l+1}.
 */
import type { Engine } from '../core/engine.js';
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';
import { ForwardState, type DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { DeltaBuffers, updatesThroughChain } from './backward-chain.js';
import type { Batch, LearningRule } from './rule.js';

export class FaRule implements LearningRule {
  readonly name = 'fa';
  private readonly state: ForwardState;
  private readonly buffers: DeltaBuffers;

  /**
   * @param feedback - R_0..R_{L-2}, R_l shaped like W_{l+1} (d_{l+2} x d_{l+1})
   * @param feedbackSink - when given, Kolen-Pollack learning of the R_l (parameter index l is R_l)
   */
  constructor(
    private readonly net: Network,
    private readonly engine: Engine,
    maxBatch: number,
    readonly feedback: readonly Matrix[],
    private readonly feedbackSink: GradientSink | null = null,
  ) {
    feedback.forEach((r, l) => {
      const w = net.weights[l + 1]!;
      if (r.rows !== w.rows || r.cols !== w.cols) {
        throw new TopdownUsageError(`FA feedback ${l} must be ${w.rows}x${w.cols} like W_${l + 2}`);
      }
    });
    if (feedback.length !== net.depth - 1)
      throw new TopdownUsageError(`FA needs ${net.depth - 1} feedback matrices`);
    this.state = new ForwardState(net, maxBatch);
    this.buffers = new DeltaBuffers(net, maxBatch);
  }

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    const state = this.state;
    updatesThroughChain(this.engine, state, this.buffers, batch, this.feedback, masks, sink);
    const kp = this.feedbackSink;
    if (kp) {
      const b = state.rows;
      for (let l = 0; l + 1 < this.net.depth; l++)
        kp.addOuter(l, 1 / b, this.buffers.deltas[l + 1]!.rows(b), state.postView(l));
    }
    sink.step();
    kp?.step();
    return state;
  }
}
