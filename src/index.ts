/**
 * topdown: forward-only learning with top-down feedback.
 *
 * The compute core (float32 matrices, the `blas`/`js` engines, seeded randomness), networks, feedback,
 * learning rules, optimisers and metrics.
 * @packageDocumentation
 */
export { Matrix } from './core/matrix.js';
export {
  BlasEngine,
  Engine,
  ENGINE_NAMES,
  JsEngine,
  createEngine,
  parseEngineChoice,
  parseThreads,
  type EngineChoice,
  type EngineInfo,
  type EngineName,
  type EngineOptions,
  type EngineSelection,
} from './core/engine.js';
export {
  erf,
  erfDerivative,
  erfInPlace,
  multiply,
  relu,
  reluMask,
  softmaxRows,
  subtract,
} from './core/kernels.js';
export { Rng, type RngState } from './core/rng.js';
export type { SgemmFn } from './core/sgemm-type.js';
export { TopdownUnavailableError, TopdownUsageError } from './core/errors.js';
export { chooseOpenBlasCoreType, parseCpuInfo, readCpuInfo, type CpuInfo } from './core/cpu.js';

export * from './nn/activations.js';
export * from './nn/init.js';
export * from './nn/network.js';
export * from './nn/forward.js';
export * from './feedback/top-down.js';
export * from './feedback/backward-matrices.js';
export * from './feedback/mirror.js';
export * from './optim/index.js';
export * from './metrics/index.js';
export type { Batch, LearningRule } from './rules/rule.js';
export * from './rules/pepita.js';
export { AfaRule } from './rules/afa.js';
export { BpRule } from './rules/bp.js';
export { FaRule } from './rules/fa.js';
export { DfaRule } from './rules/dfa.js';
export { DrtpRule } from './rules/drtp.js';
export {
  FF_GOODNESS,
  FF_NEGATIVES,
  FfRule,
  logistic,
  resolveFfOptions,
  softplus,
  type FfEpochMetrics,
  type FfGoodness,
  type FfNegatives,
  type FfOptions,
} from './rules/ff.js';
export { embedLabels, embedNeutral, normalizeRows, readEmbeddedLabel } from './rules/ff-labels.js';
export { DirectFeedbackRule } from './rules/direct-feedback.js';
export { angleToGradient } from './rules/gradient-alignment.js';
export {
  createRule,
  parseRuleName,
  RULE_NAMES,
  type RuleConfig,
  type RuleName,
  type RuleSetup,
} from './rules/registry.js';
export { batchLoss, outputError } from './rules/output-error.js';
export { benchTrain, type TrainBenchOptions, type TrainBenchResult } from './bench/train-bench.js';
export * from './data/index.js';
export * from './train/config.js';
export * from './train/presets.js';
export * from './train/trainer.js';
export * from './train/run-folder.js';
export {
  buildModel,
  restoreModel,
  snapshotModel,
  type Model,
  type ModelSnapshot,
  type RunStreams,
} from './train/model.js';
export { stepCost, type CostQuery, type StepCost } from './rules/costs.js';
export { pepitaStepWithMirroring } from './rules/pepita-mirroring.js';
export * from './theory/index.js';
export * from './reports/index.js';
export { theoryCsv } from './reports/theory-table.js';
export { theoryFigureSvg } from './reports/theory-figure.js';
export { writeTheoryOutputs, type TheoryOutputOptions } from './reports/theory-output.js';
export { NormalStream, NORMAL_STREAM_ALGORITHM, type NormalStreamState } from './core/normal-stream.js';
