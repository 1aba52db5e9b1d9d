/**
 * The compute core: float32 matrices, the `blas`, `wasm` and `js` engines, seeded randomness, named state for
 * checkpoints and the option-section machinery every component's options are described with.
 * @packageDocumentation
 */
export { Matrix } from './matrix.js';
export {
  BlasEngine,
  Engine,
  ENGINE_NAMES,
  JsEngine,
  createEngine,
  parseEngineChoice,
  parseThreads,
  type AdamScalars,
  type EngineChoice,
  type EngineInfo,
  type EngineName,
  type EngineOptions,
  type EngineSelection,
} from './engine.js';
export {
  KERNELS,
  KERNEL_NAMES,
  type KernelArgs,
  type KernelName,
  type KernelSpec,
  type KernelTable,
} from './kernel-specs.js';
export type * from './kernel-args.js';
export type { Im2colArgs, MaxPoolArgs } from './conv-kernels.js';
export { WasmEngine, type WasmEngineSetup, type WasmKernelVariant } from './wasm-engine.js';
export { createWasmEngine, loadWasmKernels } from './wasm-node.js';
export { createBrowserWasmEngine, type BrowserWasmOptions } from './wasm-browser.js';
export { threadSource, type ThreadInit } from './wasm-threads.js';
export type { SgemmFn } from './sgemm-type.js';
export { Rng, type RngState } from './rng.js';
export { NormalStream, NORMAL_STREAM_ALGORITHM, type NormalStreamState } from './normal-stream.js';
export { TopdownUnavailableError, TopdownUsageError } from './errors.js';
export { chooseOpenBlasCoreType, parseCpuInfo, readCpuInfo, type CpuInfo } from './cpu.js';
export { StateGroup, StateSet, type NamedState, type RngSlot, type Stateful } from './state.js';
export {
  describeFields,
  sectionFields,
  type FieldKind,
  type FieldMeta,
  type OptionField,
  type OptionSection,
} from './options.js';
