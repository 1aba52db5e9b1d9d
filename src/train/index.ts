/**
 * Training: the configuration (core options composed with the rules' sections), presets, the training loop
 * with its callbacks, the run folder, the model and its checkpoints, and the training benchmark.
 * @packageDocumentation
 */
export {
  CORE_SCHEMA,
  coreFields,
  parseConfigText,
  resolveMergedConfig,
  resolveTrainConfig,
  trainConfigJsonSchema,
  type CoreConfig,
  type TrainConfig,
  type TrainConfigInput,
} from './config.js';
export { readConfigFile } from './config-file.js';
export { PRESETS, presetConfig } from './presets.js';
export {
  History,
  TrainingDivergedError,
  TrainingSession,
  type BatchLogs,
  type CheckpointContent,
  type EpochLogs,
  type EpochSink,
  type GoodnessHistogram,
  type SessionOptions,
  type TrainCallbacks,
} from './trainer.js';
export { openTrainingSession } from './open.js';
export { CHECKPOINT_FILE, CONFIG_FILE, METRICS_FILE, RunFolder, defaultRunFolder } from './run-folder.js';
export {
  buildModel,
  restoreModel,
  ruleOptions,
  snapshotModel,
  type Model,
  type ModelSnapshot,
  type RunOptimizer,
  type RunStreams,
} from './model.js';
export { benchTrain, type TrainBenchOptions, type TrainBenchResult } from '../bench/train-bench.js';
