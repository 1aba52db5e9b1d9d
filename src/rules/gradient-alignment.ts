/**
 * How far a rule's update is from the true gradient: both computed on the same batch, with the same dropout
 * masks, into plain gradient buffers (the weights are not changed; feedback that a rule learns itself, such
 * as Kolen-Pollack's, does take its step).
 */
import type { Engine } from '../core/engine.js';
import { updateAngles, type UpdateAngles } from '../metrics/angles.js';
import type { DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import { GradientBuffers } from '../optim/gradients.js';

import { BpRule } from './bp.js';
import type { Batch, LearningRule } from './rule.js';

/** Angles in degrees between `rule`'s update and backprop's gradient, per layer and in total. */
export function angleToGradient(
  engine: Engine,
  net: Network,
  rule: LearningRule,
  batch: Batch,
  masks: DropoutMasks | null,
): UpdateAngles {
  const update = new GradientBuffers(engine, net);
  const gradient = new GradientBuffers(engine, net);
  rule.train(batch, update, masks);
  new BpRule(net, engine, batch.x.rows).train(batch, gradient, masks);
  return updateAngles(update.grads, gradient.grads);
}
