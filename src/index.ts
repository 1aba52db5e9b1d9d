/**
 * topdown: forward-only learning with top-down feedback.
 *
 * Each area is a namespace here and a subpath export (`topdown/core`, `topdown/nn`, `topdown/rules`,
 * `topdown/optim`, `topdown/train`, `topdown/data`, `topdown/metrics`, `topdown/theory`, `topdown/reports`);
 * the names most programs start from are also exported directly.
 * @packageDocumentation
 */
export * as core from './core/index.js';
export * as nn from './nn/index.js';
export * as rules from './rules/index.js';
export * as optim from './optim/index.js';
export * as train from './train/index.js';
export * as data from './data/index.js';
export * as metrics from './metrics/index.js';
export * as theory from './theory/index.js';
export * as reports from './reports/index.js';

export {
  createEngine,
  Matrix,
  Rng,
  TopdownUnavailableError,
  TopdownUsageError,
  type Engine,
} from './core/index.js';
export { DropoutMasks, ForwardState, forward, Network } from './nn/index.js';
export {
  createRule,
  RULE_NAMES,
  RULES,
  ruleDefinition,
  stepCost,
  type LearningRule,
  type RuleDefinition,
  type RuleName,
} from './rules/index.js';
export { Adam, GradientBuffers, Sgd, type GradientSink } from './optim/index.js';
export {
  openTrainingSession,
  presetConfig,
  resolveTrainConfig,
  RunFolder,
  TrainingSession,
  type EpochLogs,
  type TrainCallbacks,
  type TrainConfig,
} from './train/index.js';
export { loadDataset, resolveDataDir, type Dataset } from './data/index.js';
