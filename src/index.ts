/**
 * topdown: forward-only learning with top-down feedback.
 *
 * The compute core: float32 matrices, the `blas`/`js` engines and seeded randomness.
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
