/**
 * The compute engine's interface: BLAS-shaped operations on float32 storage, writing in place. Three
 * implementations sit behind it: `blas` (OpenBLAS through an N-API addon), `wasm` (WebAssembly SIMD) and
 * `js` (portable TypeScript, always available, also the tests' oracle); `engine.ts` picks one.
 */
import { convOutput, im2col, maxPool2Rows, type ConvGeometry } from './conv-kernels.js';
import { TopdownUsageError } from './errors.js';
import * as kernels from './kernels.js';
import type { FloatAllocator, Matrix } from './matrix.js';
import type { SgemmFn } from './sgemm-type.js';

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
  /** oneDNN's version when it makes the products it is faster at (`blas` only: A B and A^T B). */
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
 * An engine. Matrix-level methods check shapes and throw {@link TopdownUsageError} on mismatch; the raw
 * {@link Engine.sgemm} leaves bounds to the caller (the `blas` addon still refuses out-of-range views).
 */
/** The per-step scalars of {@link Engine.adamUpdate}. */
export interface AdamScalars {
  beta1: number;
  beta2: number;
  weightDecay: number;
  eps: number;
  /** lr / (1 - beta1^t). */
  stepSize: number;
  /** 1 / sqrt(1 - beta2^t). */
  invBc2Sqrt: number;
}

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

  /** y += alpha * x over the whole arrays (same length). */
  abstract axpy(alpha: number, x: Float32Array, y: Float32Array): void;

  /** x *= alpha over the whole array; alpha == 0 writes zeros. */
  abstract scal(alpha: number, x: Float32Array): void;

  /**
   * One SGD sweep over a parameter w and its update buffer v (same length): v += weightDecay * w, then
   * w -= lr * v. With v holding the gradient (or momentum buffer), this is PyTorch's coupled weight decay.
   */
  abstract sgdUpdate(w: Float32Array, v: Float32Array, lr: number, weightDecay: number): void;

  /**
   * One Adam sweep (torch.optim.Adam) over a parameter p (rows x cols at pOff, row stride pStride) and its
   * contiguous gradient g and moments m, v: g' = g + wd p; m = b1 m + (1 - b1) g'; v = b2 v + ((1 - b2) g') g';
   * p -= (stepSize m) / (sqrt(v) invBc2Sqrt + eps). Float32 arithmetic as PyTorch's, every operation rounded
   * once (the scalars too), so every engine gives the same bits. g is only read.
   */
  abstract adamUpdate(
    p: Float32Array,
    pOff: number,
    pStride: number,
    rows: number,
    cols: number,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    s: AdamScalars,
  ): void;

  /** A += alpha * x y^T (rank-1 update; A is x.length x y.length). */
  abstract ger(alpha: number, x: Float32Array, y: Float32Array, a: Matrix): void;

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

  /** out = max(x, 0). */
  relu(x: Float32Array, out: Float32Array = x): Float32Array {
    return kernels.relu(x, out);
  }

  /** out = 1 where x > 0 else 0 (ReLU derivative). */
  reluMask(x: Float32Array, out: Float32Array = x): Float32Array {
    return kernels.reluMask(x, out);
  }

  /** out = x * mask elementwise. */
  multiply(x: Float32Array, mask: Float32Array, out: Float32Array = x): Float32Array {
    return kernels.multiply(x, mask, out);
  }

  /** out = a - b elementwise. */
  subtract(a: Float32Array, b: Float32Array, out: Float32Array = a): Float32Array {
    return kernels.subtract(a, b, out);
  }

  /** Row-wise, numerically stable softmax. */
  softmaxRows(x: Matrix, out: Matrix = x): Matrix {
    return kernels.softmaxRows(x, out);
  }

  /** out = relu(a) - relu(b) over n values from each offset (see `kernels.reluDifference`). */
  reluDifference(
    n: number,
    a: Float32Array,
    aOff: number,
    b: Float32Array,
    bOff: number,
    out: Float32Array,
    outOff: number,
  ): void {
    kernels.reluDifference(n, a, aOff, b, bOff, out, outOff);
  }

  /**
   * g = relu(a) and h = g scaled per row (rows x d, contiguous) to length `target`, recording each row's
   * norm and squared norm (see `kernels.reluNormalizeRows`).
   */
  reluNormalizeRows(
    a: Float32Array,
    g: Float32Array,
    h: Float32Array,
    rows: number,
    d: number,
    target: number,
    floor: number,
    norms: Float64Array,
    squares: Float64Array,
  ): void {
    kernels.reluNormalizeRows(a, g, h, rows, d, target, floor, norms, squares);
  }

  /**
   * The patches of `n` images (rows of `x` from `xOff`, `xStride` apart) side by side in `cols`: sample s's
   * patches in columns [s P, (s + 1) P) of the C k k rows, which are `ld` apart (see `conv-kernels.im2col`).
   */
  im2colRows(
    g: ConvGeometry,
    x: Float32Array,
    xOff: number,
    xStride: number,
    n: number,
    cols: Float32Array,
    ld: number,
  ): void {
    const positions = convOutput(g).positions;
    for (let s = 0; s < n; s++) im2col(g, x, xOff + s * xStride, cols, s * positions, ld);
  }

  /** 2x2 max-pooling of `n` image rows with the argmax of each maximum (see `conv-kernels.maxPool2Rows`). */
  maxPool2Rows(
    channels: number,
    height: number,
    width: number,
    n: number,
    x: Float32Array,
    xOff: number,
    xStride: number,
    out: Float32Array,
    outOff: number,
    outStride: number,
    argmax: Int32Array,
    argOff: number,
  ): void {
    maxPool2Rows(channels, height, width, n, x, xOff, xStride, out, outOff, outStride, argmax, argOff);
  }

  /** out = erf(x / scale) elementwise. */
  erf(x: Float32Array, out: Float32Array = x, scale = 1): Float32Array {
    return kernels.erfInPlace(x, out, scale);
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
