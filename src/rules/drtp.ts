/** Direct random target projection (Frenkel et al. 2021; spec 2.4): hidden deltas from the targets t. */
import type { Matrix } from '../core/matrix.js';

import { DirectFeedbackRule } from './direct-feedback.js';
import type { Batch, LearningRule } from './rule.js';

export class DrtpRule extends DirectFeedbackRule implements LearningRule {
  readonly name = 'drtp';

  protected signal(batch: Batch): Matrix {
    return batch.targets;
  }
}
