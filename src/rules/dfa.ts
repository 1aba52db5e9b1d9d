/** Direct feedback alignment (Nokland 2016; spec 2.3): hidden deltas from the output error e through D_l. */
import type { Matrix } from '../core/matrix.js';
import {
  BACKWARD_SECTION,
  createBackwardMatrices,
  type BackwardConfig,
} from '../feedback/backward-matrices.js';

import { directFeedbackCost, DirectFeedbackRule } from './direct-feedback.js';
import { defineRule, type Batch, type LearningRule } from './rule.js';

export class DfaRule extends DirectFeedbackRule implements LearningRule {
  readonly name = 'dfa';

  protected signal(_batch: Batch, error: Matrix): Matrix {
    return error;
  }
}

export const dfa = defineRule({
  name: 'dfa',
  description:
    'direct feedback alignment: each hidden layer gets the output error through its own fixed random matrix',
  convolutional: true,
  sections: [BACKWARD_SECTION],
  // As for FA: a tenth of the dataset's rate.
  trainingDefaults: () => ({ lrFactor: 0.1 }),
  create(ctx, options) {
    const scale = (options.backward as BackwardConfig).scale;
    const feedback = createBackwardMatrices(
      ctx.net.sizes,
      'direct',
      ctx.rng.derive('feedback'),
      scale,
      ctx.engine,
    );
    return new DfaRule(ctx.net, ctx.engine, ctx.maxBatch, feedback);
  },
  cost: directFeedbackCost,
});
