/**
 * Optimisers: where learning rules' updates go ({@link GradientSink}), SGD with momentum and weight decay, Adam,
 * plain gradient buffers, and the step learning-rate schedule.
 * @packageDocumentation
 */
export type { GradientSink, ParameterSet, UpdateWriter } from './sink.js';
export { Optimizer } from './optimizer.js';
export { createOptimizer, OPTIMIZERS, type OptimizerName, type OptimizerSettings } from './factory.js';
export { Sgd, resolveSgdOptions, type ResolvedSgdOptions, type SgdOptions, type SgdState } from './sgd.js';
export {
  Adam,
  resolveAdamOptions,
  type AdamOptions,
  type AdamState,
  type ResolvedAdamOptions,
} from './adam.js';
export { GradientBuffers } from './gradients.js';
export { PAPER_STEP_DECAY, stepDecayLr, type StepDecayOptions, type StepDecayTiming } from './schedule.js';
