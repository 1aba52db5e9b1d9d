/**
 * The compute engine: BLAS-shaped operations on float32 storage, writing in place. Two implementations sit
 * behind one interface: `blas` (OpenBLAS through an N-API addon) and `js` (portable TypeScript, always
 * available, also the tests' oracle). {@link createEngine} picks one.
 */
import os from 'node:os';

import { loadBlasAddon, type BlasAddon } from './blas-addon.js';
import { TopdownUnavailableError, TopdownUsageError } from './errors.js';
import { jsSgemm } from './js-gemm.js';
import * as kernels from './kernels.js';
import type { Matrix } from './matrix.js';
import type { SgemmFn } from './sgemm-type.js';

/** Names accepted by {@link createEngine}; `auto` means `blas` when it is available, else `js`. */
export const ENGINE_NAMES = ['auto', 'blas', 'js'] as const;
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

export abstract class Engine {
  abstract readonly name: EngineName;

  /** Describes the engine (threads, OpenBLAS core type...). */
  abstract info(): EngineInfo;

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

function checkSameLength(what: string, x: Float32Array, y: Float32Array): void {
  if (x.length !== y.length)
    throw new TopdownUsageError(`${what}: lengths differ (${x.length} vs ${y.length})`);
}

/** The portable TypeScript engine: single-threaded, always available. */
export class JsEngine extends Engine {
  readonly name = 'js' as const;

  info(): EngineInfo {
    return { name: 'js', threads: 1 };
  }

  sgemm: SgemmFn = jsSgemm;

  axpy(alpha: number, x: Float32Array, y: Float32Array): void {
    checkSameLength('axpy', x, y);
    for (let i = 0; i < x.length; i++) y[i] = y[i]! + alpha * x[i]!;
  }

  scal(alpha: number, x: Float32Array): void {
    if (alpha === 0) {
      x.fill(0);
      return;
    }
    for (let i = 0; i < x.length; i++) x[i] = alpha * x[i]!;
  }

  adamUpdate(
    p: Float32Array,
    pOff: number,
    pStride: number,
    rows: number,
    cols: number,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    s: AdamScalars,
  ): void {
    // float32 arithmetic, each operation rounded (Math.fround), as the native sweep computes without FMA
    const f = Math.fround;
    const beta1 = f(s.beta1);
    const beta2 = f(s.beta2);
    const wd = f(s.weightDecay);
    const eps = f(s.eps);
    const stepSize = f(s.stepSize);
    const invBc2Sqrt = f(s.invBc2Sqrt);
    // 1 - beta formed in double, then rounded, as PyTorch passes it
    const c1 = f(1 - s.beta1);
    const c2 = f(1 - s.beta2);
    for (let r = 0; r < rows; r++) {
      const pRow = pOff + r * pStride;
      const bRow = r * cols;
      for (let j = 0; j < cols; j++) {
        const k = pRow + j;
        const b = bRow + j;
        const pk = p[k]!;
        const gk = f(g[b]! + f(wd * pk));
        const mk = f(f(beta1 * m[b]!) + f(c1 * gk));
        const vk = f(f(beta2 * v[b]!) + f(f(c2 * gk) * gk));
        m[b] = mk;
        v[b] = vk;
        p[k] = f(pk - f(f(stepSize * mk) / f(f(f(Math.sqrt(vk)) * invBc2Sqrt) + eps)));
      }
    }
  }

  sgdUpdate(w: Float32Array, v: Float32Array, lr: number, weightDecay: number): void {
    checkSameLength('sgdUpdate', w, v);
    const fw = Math.fround;
    const wd = fw(weightDecay);
    const rate = fw(lr);
    for (let i = 0; i < w.length; i++) {
      // float32 rounding at each step, as the native sweep does
      const vi = fw(v[i]! + fw(wd * w[i]!));
      v[i] = vi;
      w[i] = w[i]! - fw(rate * vi);
    }
  }

  ger(alpha: number, x: Float32Array, y: Float32Array, a: Matrix): void {
    checkGer(x, y, a);
    for (let i = 0; i < x.length; i++) {
      const s = alpha * x[i]!;
      const row = a.offset + i * a.stride;
      for (let j = 0; j < y.length; j++) a.data[row + j] = a.data[row + j]! + s * y[j]!;
    }
  }
}

function checkGer(x: Float32Array, y: Float32Array, a: Matrix): void {
  if (a.rows !== x.length || a.cols !== y.length) {
    throw new TopdownUsageError(`ger: A must be ${x.length}x${y.length}, got ${a.rows}x${a.cols}`);
  }
}

/**
 * Products below this many multiply-adds run in TypeScript even on the `blas` engine: an addon call costs
 * about 0.4 us, more than such a product takes in JavaScript (measured crossover: 128-512 multiply-adds).
 */
export const SMALL_GEMM_MACS = 256;
/** Vector operations shorter than this run in TypeScript on the `blas` engine (same reason). */
export const SMALL_VECTOR_LENGTH = 256;

/** OpenBLAS engine; tiny operations fall back to the TypeScript kernels. */
export class BlasEngine extends Engine {
  readonly name = 'blas' as const;
  private readonly js = new JsEngine();

  constructor(
    private readonly addon: BlasAddon,
    private readonly coreForced: string | undefined,
  ) {
    super();
  }

  info(): EngineInfo {
    const native = this.addon.info();
    const out: EngineInfo = {
      name: 'blas',
      threads: native.threads,
      openblasCore: native.corename,
      openblasConfig: native.config,
    };
    if (this.coreForced) out.openblasCoreForced = this.coreForced;
    return out;
  }

  /** Sets OpenBLAS's thread count (process-wide: OpenBLAS keeps one pool). */
  setThreads(threads: number): void {
    this.addon.setThreads(threads);
  }

  sgemm: SgemmFn = (transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc) => {
    if (m * n * k < SMALL_GEMM_MACS) {
      jsSgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    } else {
      this.addon.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }
  };

  axpy(alpha: number, x: Float32Array, y: Float32Array): void {
    checkSameLength('axpy', x, y);
    if (x.length < SMALL_VECTOR_LENGTH) this.js.axpy(alpha, x, y);
    else this.addon.saxpy(x.length, alpha, x, 0, y, 0);
  }

  scal(alpha: number, x: Float32Array): void {
    // OpenBLAS releases disagree on sscal(0) over NaN (0.3.27+ keeps the NaN); topdown's contract is to clear.
    if (alpha === 0 || x.length < SMALL_VECTOR_LENGTH) this.js.scal(alpha, x);
    else this.addon.sscal(x.length, alpha, x, 0);
  }

  adamUpdate(
    p: Float32Array,
    pOff: number,
    pStride: number,
    rows: number,
    cols: number,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    s: AdamScalars,
  ): void {
    if (rows * cols < SMALL_VECTOR_LENGTH) {
      this.js.adamUpdate(p, pOff, pStride, rows, cols, g, m, v, s);
      return;
    }
    const { beta1, beta2, weightDecay, eps, stepSize, invBc2Sqrt } = s;
    this.addon.adamUpdate(
      rows,
      cols,
      p,
      pOff,
      pStride,
      g,
      m,
      v,
      beta1,
      beta2,
      weightDecay,
      eps,
      stepSize,
      invBc2Sqrt,
    );
  }

  override reluNormalizeRows(
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
    if (rows * d < SMALL_VECTOR_LENGTH) {
      kernels.reluNormalizeRows(a, g, h, rows, d, target, floor, norms, squares);
    } else {
      this.addon.reluNormalizeRows(rows, d, a, g, h, target, floor, norms, squares);
    }
  }

  sgdUpdate(w: Float32Array, v: Float32Array, lr: number, weightDecay: number): void {
    checkSameLength('sgdUpdate', w, v);
    if (w.length < SMALL_VECTOR_LENGTH) this.js.sgdUpdate(w, v, lr, weightDecay);
    else this.addon.sgdUpdate(w.length, w, 0, v, 0, lr, weightDecay);
  }

  ger(alpha: number, x: Float32Array, y: Float32Array, a: Matrix): void {
    checkGer(x, y, a);
    if (x.length * y.length < SMALL_VECTOR_LENGTH) this.js.ger(alpha, x, y, a);
    else this.addon.sger(x.length, y.length, alpha, x, 0, y, 0, a.data, a.offset, a.stride);
  }
}

/** Options for {@link createEngine}. */
export interface EngineOptions {
  /** `auto` (default), `blas` or `js`; when omitted, the TOPDOWN_ENGINE environment variable, else `auto`. */
  engine?: EngineChoice;
  /** OpenBLAS threads; when omitted, TOPDOWN_THREADS, else all available cores. */
  threads?: number;
}

/** Result of {@link createEngine}: the engine, and why `blas` is not in use when `auto` fell back. */
export interface EngineSelection {
  engine: Engine;
  /** Set when `auto` chose `js` because the addon is unavailable (the reason, in one line). */
  fallbackReason?: string;
}

/** Parses an engine name (from a flag or the environment), throwing a usage error naming the choices. */
export function parseEngineChoice(value: string, source = 'engine'): EngineChoice {
  if ((ENGINE_NAMES as readonly string[]).includes(value)) return value as EngineChoice;
  throw new TopdownUsageError(`${source} must be one of ${ENGINE_NAMES.join(', ')}; got "${value}"`);
}

/** Parses a thread count, throwing a usage error unless it is a positive integer. */
export function parseThreads(value: string | number, source = 'threads'): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new TopdownUsageError(`${source} must be a positive integer; got "${value}"`);
  }
  return n;
}

/**
 * Creates the engine named by `options.engine`, then TOPDOWN_ENGINE, then `auto`.
 * Throws {@link TopdownUnavailableError} when `blas` is asked for explicitly and cannot load.
 */
export function createEngine(options: EngineOptions = {}): EngineSelection {
  const env = process.env.TOPDOWN_ENGINE;
  const choice = options.engine ?? (env ? parseEngineChoice(env, 'TOPDOWN_ENGINE') : 'auto');
  if (choice === 'js') return { engine: new JsEngine() };
  const load = loadBlasAddon();
  if (!load.ok) {
    if (choice === 'blas')
      throw new TopdownUnavailableError(`the blas engine is unavailable: ${load.reason}`);
    return { engine: new JsEngine(), fallbackReason: load.reason };
  }
  const envThreads = process.env.TOPDOWN_THREADS;
  const threads =
    options.threads ?? (envThreads ? parseThreads(envThreads, 'TOPDOWN_THREADS') : os.availableParallelism());
  const engine = new BlasEngine(load.addon, load.coreTypeForced);
  engine.setThreads(threads);
  return { engine };
}
