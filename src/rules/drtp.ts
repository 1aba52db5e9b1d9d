/** Direct random target projection (Frenkel et al. 2021; spec 2.4): hidden deltas from the targets t. */
import type { Matrix } from '../core/matrix.js';
import {
  BACKWARD_SECTION,
  createBackwardMatrices,
  type BackwardConfig,
} from '../feedback/backward-matrices.js';

import { directFeedbackCost, DirectFeedbackRule } from './direct-feedback.js';
import { defineRule, type Batch, type LearningRule } from './rule.js';

export class DrtpRule extends DirectFeedbackRule implements LearningRule {
  readonly name = 'drtp';

  protected signal(batch: Batch): Matrix {
    return batch.targets;
  }
}

export const drtp = defineRule({
  name: 'drtp',
  description:
    'direct random target projection: each hidden layer gets the targets through its own fixed random matrix',
  convolutional: true,
  sections: [BACKWARD_SECTION],
  // The targets, not the error, are projected: with ReLU units the hidden activity grows along fixed
  // directions and the read-out saturates; tanh (as in Frenkel et al. 2021) and a tenth of the dataset's rate
  // keep it learning.
  trainingDefaults: () => ({ lrFactor: 0.1, activation: 'tanh' }),
  create(ctx, options) {
    const scale = (options.backward as BackwardConfig).scale;
    const feedback = createBackwardMatrices(
      ctx.net.sizes,
      'direct',
      ctx.rng.derive('feedback'),
      scale,
      ctx.engine,
    );
    return new DrtpRule(ctx.net, ctx.engine, ctx.maxBatch, feedback);
  },
  cost: directFeedbackCost,
});
