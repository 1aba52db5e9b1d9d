/**
 * Feedback alignment (spec 2.2): backprop with each W_{l+1} in the backward pass replaced by a fixed random
 * R_l of the same shape (B_{l+1} = R_l^T). With a `feedbackSink`, the R_l learn by Kolen-Pollack: they get
 * exactly W_{l+1}'s update (delta_{l+1}^T h_l / b) from their own optimiser, which with weight decay on both
 * drives R_l towards W_{l+1}.
 */
import { z } from 'zod';

import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';
import type { OptionSection } from '../core/options.js';
import { StateSet } from '../core/state.js';
import {
  BACKWARD_SECTION,
  createBackwardMatrices,
  type BackwardConfig,
} from '../feedback/backward-matrices.js';
import { angleDegrees } from '../metrics/angles.js';
import { ForwardState, type DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { DeltaBuffers, namedFeedback, updatesThroughChain } from './backward-chain.js';
import { addLayerUpdate } from './layer-update.js';
import { defineRule, type Batch, type LearningRule, type MetricValue } from './rule.js';
import { chainCost, measures } from './step-cost.js';

/** The `fa` section. */
export const FA_SECTION = {
  key: 'fa',
  label: 'feedback alignment',
  flagPrefix: '',
  schema: z
    .object({
      kolenPollack: z.boolean().default(false).meta({
        description: "learn the feedback by Kolen-Pollack (it gets W_{l+1}'s update, with its own optimiser)",
      }),
    })
    .strict(),
} satisfies OptionSection;

export class FaRule implements LearningRule {
  readonly name = 'fa';
  private readonly pass: ForwardState;
  private readonly buffers: DeltaBuffers;
  readonly state: StateSet;

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
    this.pass = new ForwardState(net, maxBatch, engine);
    this.buffers = new DeltaBuffers(net, maxBatch, engine);
    this.state = new StateSet().tensors(namedFeedback(feedback));
  }

  /** Per hidden layer, the angle between R_l and the W_{l+1} it replaces. */
  diagnostics(): Record<string, MetricValue> {
    return { layer_angles_deg: this.feedback.map((r, l) => angleDegrees(r, this.net.weights[l + 1]!)) };
  }

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    const state = this.pass;
    updatesThroughChain(this.engine, state, this.buffers, batch, this.feedback, masks, sink);
    const kp = this.feedbackSink;
    if (kp) {
      const b = state.rows;
      for (let l = 0; l + 1 < this.net.depth; l++)
        addLayerUpdate(this.engine, kp, l, state, l + 1, 1 / b, this.buffers.deltas[l + 1]!.rows(b));
    }
    sink.step();
    kp?.step();
    return state;
  }
}

/** Feedback alignment, optionally with Kolen-Pollack learning of the feedback. */
export const fa = defineRule({
  name: 'fa',
  description:
    'feedback alignment: the error carried back through fixed random matrices (or learned by Kolen-Pollack)',
  convolutional: true,
  sections: [FA_SECTION, BACKWARD_SECTION],
  // Random feedback moves the hidden layer in a random direction of backprop's size: a tenth of the dataset's
  // rate is stable on CIFAR (at 0.01 the softmax saturates within an epoch) and learns fast on MNIST.
  trainingDefaults: (options) =>
    (options.fa as { kolenPollack?: boolean } | undefined)?.kolenPollack ? {} : { lrFactor: 0.1 },
  variants: [{ label: 'fa --kolen-pollack', options: { fa: { kolenPollack: true } } }],
  create(ctx, options) {
    const backward = options.backward as BackwardConfig;
    const feedback = createBackwardMatrices(
      ctx.net.sizes,
      'fa',
      ctx.rng.derive('feedback'),
      backward.scale,
      ctx.engine,
      ctx.net.weights.slice(1).map((w) => [w.rows, w.cols] as const),
    );
    let sink: GradientSink | null = null;
    if ((options.fa as { kolenPollack: boolean }).kolenPollack) {
      if (!ctx.optimizer) throw new TopdownUsageError('Kolen-Pollack needs an optimiser for the feedback');
      sink = ctx.optimizer('feedback', { weights: feedback, biases: feedback.map(() => null) });
    }
    return new FaRule(ctx.net, ctx.engine, ctx.maxBatch, feedback, sink);
  },
  /** Backprop's cost; Kolen-Pollack's feedback update reuses W's gradient products (0 extra MACs). */
  cost(shape, options) {
    const kp = (options.fa as { kolenPollack?: boolean } | undefined)?.kolenPollack;
    return chainCost(measures(shape), kp ? { 'kolen-pollack': 0 } : {});
  },
});
