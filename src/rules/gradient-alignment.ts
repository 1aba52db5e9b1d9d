/**
 * How far a rule's update is from the true gradient: both computed on the same batch, with the same dropout
 * masks, into plain gradient buffers (the weights are not changed; feedback that a rule learns itself, such
 * as Kolen-Pollack's, does take its step).
 */
import type { Engine } from '../core/engine-base.js';
import { updateAngles, type UpdateAngles } from '../metrics/angles.js';
import type { DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import { GradientBuffers } from '../optim/gradients.js';

import { BpRule } from './bp.js';
import type { Batch, LearningRule } from './rule.js';

/**
 * Measures the angle between a rule's update and backprop's gradient, with its buffers allocated once (for
 * batches of up to `maxBatch` rows), so that measuring every epoch allocates nothing.
 */
export class GradientProbe {
  private readonly update: GradientBuffers;
  private readonly gradient: GradientBuffers;
  private readonly bp: BpRule;

  constructor(
    engine: Engine,
    net: Network,
    readonly maxBatch: number,
  ) {
    this.update = new GradientBuffers(engine, net);
    this.gradient = new GradientBuffers(engine, net);
    this.bp = new BpRule(net, engine, maxBatch);
  }

  /** Angles in degrees between `rule`'s update and backprop's gradient on `batch`. */
  angles(rule: LearningRule, batch: Batch, masks: DropoutMasks | null = null): UpdateAngles {
    for (const sink of [this.update, this.gradient]) {
      sink.step(); // a new round: the first product of each layer overwrites
      for (const g of sink.grads) g.data.fill(0); // a layer the rule leaves alone reads as no update
    }
    rule.train(batch, this.update, masks);
    this.bp.train(batch, this.gradient, masks);
    return updateAngles(this.update.grads, this.gradient.grads);
  }
}

/** Angles in degrees between `rule`'s update and backprop's gradient, per layer and in total. */
export function angleToGradient(
  engine: Engine,
  net: Network,
  rule: LearningRule,
  batch: Batch,
  masks: DropoutMasks | null,
): UpdateAngles {
  return new GradientProbe(engine, net, batch.x.rows).angles(rule, batch, masks);
}
