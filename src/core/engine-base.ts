/**
 * The compute engine's interface: BLAS-shaped operations on float32 storage, writing in place. Three
 * implementations sit behind it: `blas` (OpenBLAS through an N-API addon), `wasm` (WebAssembly SIMD) and
 * `js` (portable TypeScript, always available, also the tests' oracle); `engine.ts` picks one.
 */
import { TopdownUsageError } from './errors.js';
import {
  KERNELS,
  type KernelArgs,
  type KernelImplementation,
  type KernelName,
  type KernelSpec,
  type KernelTable,
} from './kernel-specs.js';
import type { FloatAllocator, Matrix } from './matrix.js';
import type { SgemmFn } from './sgemm-type.js';

export type { AdamScalars } from './kernel-args.js';

/** Names accepted by `createEngine`; `auto` means `blas` when it is available, else `wasm`, else `js`. */
export const ENGINE_NAMES = ['auto', 'blas', 'wasm', 'js'] as const;
export type EngineChoice = (typeof ENGINE_NAMES)[number];
export type EngineName = Exclude<EngineChoice, 'auto'>;

/** What an engine reports about itself (shown by `topdown info`). */
export interface EngineInfo {
  name: EngineName;
  /** Threads used by large operations (1 for `js`). */
  threads: number;
  /** OpenBLAS's kernel family in use (`blas` only). */
  openblasCore?: string;
  /** OpenBLAS build configuration string (`blas` only). */
  openblasConfig?: string;
  /** The OPENBLAS_CORETYPE topdown set because OpenBLAS 0.3.21 misdetects this CPU, if any. */
  openblasCoreForced?: string;
  /** oneDNN's version when it makes the products it is faster at (`blas` only: the large ones). */
  dnnl?: string;
  /** Why oneDNN is not in use (`blas` only). */
  dnnlUnavailableReason?: string;
  /** The kernels' build (`wasm` only): with relaxed SIMD (fused multiply-add) or plain SIMD. */
  wasmKernels?: 'relaxed-simd' | 'simd';
  /** Why the relaxed-SIMD kernels are not in use (`wasm` only). */
  wasmKernelsReason?: string;
  /** Whether the engine's memory is shared between threads (`wasm` only). */
  wasmSharedMemory?: boolean;
}

/**
 * An engine: the products ({@link Engine.sgemm}, {@link Engine.gemm}) and the kernels declared in
 * `kernel-specs.ts`, run with {@link Engine.run}. Matrix-level methods check shapes and throw
 * {@link TopdownUsageError} on mismatch; the raw {@link Engine.sgemm} leaves bounds to the caller (the `blas`
 * addon still refuses out-of-range views).
 */
export abstract class Engine implements FloatAllocator {
  abstract readonly name: EngineName;

  /** Describes the engine (threads, OpenBLAS core type...). */
  abstract info(): EngineInfo;

  /** A mark of the storage handed out so far, for {@link Engine.releaseStorage} (0 when arrays live on the heap). */
  storageMark(): number {
    return 0;
  }

  /**
   * Gives back every array {@link Engine.floats} handed out since `mark`; none of them may be used again.
   * Engines whose arrays live on the JavaScript heap leave them to the garbage collector.
   */
  releaseStorage(mark: number): void {
    void mark;
  }

  /**
   * A zero-filled array of n floats where this engine computes fastest (the `wasm` engine's memory; the
   * JavaScript heap for the others). Buffers a run keeps (weights, activations, optimiser state) come from
   * here; they live as long as the engine.
   */
  floats(n: number): Float32Array {
    return new Float32Array(n);
  }

  /** C = alpha * op(A) * op(B) + beta * C on raw row-major storage (the contract is {@link SgemmFn}'s). */
  abstract sgemm: SgemmFn;

  /** The kernels this engine implements itself; the others run their reference (`KERNELS[name].reference`). */
  protected readonly kernels: KernelTable = {};

  /**
   * Runs kernel `name` (see `kernel-specs.ts` for each one's arguments and meaning) after its checks: the
   * engine's own implementation where it has one, else the reference.
   */
  run<K extends KernelName>(name: K, args: KernelArgs<K>): void {
    const spec = KERNELS[name] as unknown as KernelSpec<KernelArgs<K>>;
    spec.check(args);
    const own = this.kernels[name] as KernelImplementation<K> | undefined;
    if (own) own(args);
    else spec.reference(args);
  }

  /**
   * C = alpha * op(A) * op(B) + beta * C on matrix views: the BLAS `gemm` contract, with shapes checked.
   * Accumulating into C (beta = 1, or beta = momentum) needs no temporary.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Matrix,
    b: Matrix,
    beta: number,
    c: Matrix,
  ): void {
    checkOperand('A', a, transA, m, k);
    checkOperand('B', b, transB, k, n);
    checkOperand('C', c, false, m, n);
    this.sgemm(
      transA,
      transB,
      m,
      n,
      k,
      alpha,
      a.data,
      a.offset,
      a.stride,
      b.data,
      b.offset,
      b.stride,
      beta,
      c.data,
      c.offset,
      c.stride,
    );
  }
}

function checkOperand(name: string, x: Matrix, trans: boolean, rows: number, cols: number): void {
  const r = trans ? x.cols : x.rows;
  const c = trans ? x.rows : x.cols;
  if (r !== rows || c !== cols) {
    const what = trans ? `${name}^T` : name;
    throw new TopdownUsageError(`gemm: ${what} must be ${rows}x${cols}, got ${r}x${c}`);
  }
}
