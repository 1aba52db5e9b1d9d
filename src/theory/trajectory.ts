/** A recorded learning curve: order parameters, eps_g and angles at each time of the grid. */
import type { OrderParameters } from './instance.js';
import { angles, feedbackVector, generalisationError, type Angles } from './observables.js';
import type { TheoryProblem, TheoryRule } from './problem.js';

export interface TrajectoryPoint {
  t: number;
  eg: number;
  angles: Angles;
  order: OrderParameters;
}

export interface Trajectory {
  kind: 'ode' | 'sim';
  rule: TheoryRule;
  /** Index of the sample stream (simulations only). */
  seed?: number;
  points: TrajectoryPoint[];
}

/** The observables of one state. */
export function observe(
  rule: TheoryRule,
  problem: TheoryProblem,
  t: number,
  order: OrderParameters,
  fixedFeedback: Float64Array,
): TrajectoryPoint {
  return {
    t,
    eg: generalisationError(order, problem.egConvention),
    angles: angles(order, feedbackVector(rule, problem, order, fixedFeedback)),
    order,
  };
}
