/** Direct feedback alignment (Nokland 2016; spec 2.3): hidden deltas from the output error e through D_l. */
import type { Matrix } from '../core/matrix.js';

import { DirectFeedbackRule } from './direct-feedback.js';
import type { Batch, LearningRule } from './rule.js';

export class DfaRule extends DirectFeedbackRule implements LearningRule {
  readonly name = 'dfa';

  protected signal(_batch: Batch, error: Matrix): Matrix {
    return error;
  }
}
