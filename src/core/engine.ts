/**
 * The engines and their selection: `blas` (OpenBLAS through an N-API addon), `wasm` (WebAssembly SIMD, see
 * `wasm-engine.ts`) and `js` (portable TypeScript, always available, also the tests' oracle).
 * {@link createEngine} picks one.
 */
import os from 'node:os';

import { loadBlasAddon, type BlasAddon, type GemmLibraries } from './blas-addon.js';
import { Engine, type EngineInfo, type EngineChoice, ENGINE_NAMES } from './engine-base.js';
import { TopdownUnavailableError, TopdownUsageError } from './errors.js';
import type { MapsArgs } from './conv-kernels.js';
import { jsSgemm } from './js-gemm.js';
import { KERNELS, type KernelTable } from './kernel-specs.js';
import type { SgemmFn } from './sgemm-type.js';
import { quoted } from './untrusted.js';
import { createWasmEngine } from './wasm-node.js';

export * from './engine-base.js';

/** The portable TypeScript engine: single-threaded, always available; every kernel runs its reference. */
export class JsEngine extends Engine {
  readonly name = 'js' as const;

  info(): EngineInfo {
    return { name: 'js', threads: 1 };
  }

  sgemm: SgemmFn = jsSgemm;
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

  constructor(
    private readonly addon: BlasAddon,
    private readonly coreForced: string | undefined,
    private readonly gemmLibraries: GemmLibraries = { dnnl: null, why: 'not set up' },
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
    if (this.gemmLibraries.dnnl) out.dnnl = this.gemmLibraries.dnnl;
    else out.dnnlUnavailableReason = this.gemmLibraries.why;
    return out;
  }

  /** Sets the thread count (process-wide: OpenBLAS's pool, or with oneDNN in use the OpenMP team). */
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

  private regroupMaps(toMaps: boolean, args: MapsArgs): void {
    const { rows, rowsOff, rowsStride, n, filters, positions, maps } = args;
    if (n * filters * positions < SMALL_VECTOR_LENGTH) {
      KERNELS[toMaps ? 'gatherMaps' : 'scatterMaps'].reference(args);
      return;
    }
    this.addon.regroupMaps(toMaps, n, filters, positions, rows, rowsOff, rowsStride, maps);
  }

  /** Native kernels; the short ones run their reference, which is faster than a native call. */
  protected override readonly kernels: KernelTable = {
    axpy: (args) => {
      const { alpha, x, y } = args;
      if (x.length < SMALL_VECTOR_LENGTH) KERNELS.axpy.reference(args);
      else this.addon.saxpy(x.length, alpha, x, 0, y, 0);
    },
    // OpenBLAS releases disagree on sscal(0) over NaN (0.3.27+ keeps the NaN); topdown's contract is to clear.
    scal: (args) => {
      const { alpha, x } = args;
      if (alpha === 0 || x.length < SMALL_VECTOR_LENGTH) KERNELS.scal.reference(args);
      else this.addon.sscal(x.length, alpha, x, 0);
    },
    ger: (args) => {
      const { alpha, x, y, a } = args;
      if (x.length * y.length < SMALL_VECTOR_LENGTH) KERNELS.ger.reference(args);
      else this.addon.sger(x.length, y.length, alpha, x, 0, y, 0, a.data, a.offset, a.stride);
    },
    sgdUpdate: (args) => {
      const { w, v, lr, weightDecay } = args;
      if (w.length < SMALL_VECTOR_LENGTH) KERNELS.sgdUpdate.reference(args);
      else this.addon.sgdUpdate(w.length, w, 0, v, 0, lr, weightDecay);
    },
    adamUpdate: (args) => {
      const { p, pOff, pStride, rows, cols, g, m, v, scalars: s } = args;
      if (rows * cols < SMALL_VECTOR_LENGTH) {
        KERNELS.adamUpdate.reference(args);
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
    },
    reluDifference: (args) => {
      const { n, a, aOff, b, bOff, out, outOff } = args;
      if (n < SMALL_VECTOR_LENGTH) KERNELS.reluDifference.reference(args);
      else this.addon.reluDifference(n, a, aOff, b, bOff, out, outOff);
    },
    reluNormalizeRows: (args) => {
      const { a, g, h, rows, d, target, floor, norms, squares } = args;
      if (rows * d < SMALL_VECTOR_LENGTH) KERNELS.reluNormalizeRows.reference(args);
      else this.addon.reluNormalizeRows(rows, d, a, g, h, target, floor, norms, squares);
    },
    im2colRows: (args) => {
      const { geometry: g, x, xOff, xStride, n, cols, ld } = args;
      if (n * g.channels * g.height * g.width < SMALL_VECTOR_LENGTH) {
        KERNELS.im2colRows.reference(args);
        return;
      }
      const { channels, height, width, kernel, stride, padding } = g;
      this.addon.im2colRows(channels, height, width, kernel, stride, padding, n, x, xOff, xStride, cols, ld);
    },
    maxPool2Rows: (args) => {
      const { channels, height, width, n, x, xOff, xStride, out, outOff, outStride, argmax, argOff } = args;
      if (n * channels * height * width < SMALL_VECTOR_LENGTH) {
        KERNELS.maxPool2Rows.reference(args);
        return;
      }
      this.addon.maxPool2Rows(
        channels,
        height,
        width,
        n,
        x,
        xOff,
        xStride,
        out,
        outOff,
        outStride,
        argmax,
        argOff,
      );
    },
    maxPool2Backward: (args) => {
      const { n, inFeatures, outFeatures, dy, dyOff, dyStride, dx, dxOff, dxStride, argmax } = args;
      if (n * inFeatures < SMALL_VECTOR_LENGTH) KERNELS.maxPool2Backward.reference(args);
      else
        this.addon.maxPool2Backward(
          n,
          inFeatures,
          outFeatures,
          dy,
          dyOff,
          dyStride,
          dx,
          dxOff,
          dxStride,
          argmax,
        );
    },
    gatherMaps: (args) => this.regroupMaps(true, args),
    scatterMaps: (args) => this.regroupMaps(false, args),
  };
}

/** Options for {@link createEngine}. */
export interface EngineOptions {
  /** `auto` (default), `blas`, `wasm` or `js`; when omitted, the TOPDOWN_ENGINE environment variable, else `auto`. */
  engine?: EngineChoice;
  /** Threads for large operations; when omitted, TOPDOWN_THREADS, else all available cores. */
  threads?: number;
}

/** Result of {@link createEngine}: the engine, and why `auto` did not pick a faster one. */
export interface EngineSelection {
  engine: Engine;
  /** Set when `auto` passed over `blas` because the addon is unavailable (the reason, in one line). */
  fallbackReason?: string;
  /** Set when `auto` passed over `wasm` too (the reason, in one line). */
  wasmReason?: string;
}

/** Parses an engine name (from a flag or the environment), throwing a usage error naming the choices. */
export function parseEngineChoice(value: string, source = 'engine'): EngineChoice {
  if ((ENGINE_NAMES as readonly string[]).includes(value)) return value as EngineChoice;
  throw new TopdownUsageError(`${source} must be one of ${ENGINE_NAMES.join(', ')}; got ${quoted(value)}`);
}

/**
 * The most engine threads topdown accepts (flags, configs, TOPDOWN_THREADS): far above any core count it
 * runs on (OpenBLAS caps its own pool lower still), low enough that a typo cannot start 100,000 wasm
 * workers. A fixed bound rather than the core count, so a config valid on one machine is valid on another.
 * (The config schema in train/config.ts repeats it: that module must not load this one in a browser.)
 */
export const MAX_THREADS = 1024;

/** Parses a thread count, throwing a usage error unless it is an integer from 1 to {@link MAX_THREADS}. */
export function parseThreads(value: string | number, source = 'threads'): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new TopdownUsageError(`${source} must be a positive integer; got ${quoted(String(value))}`);
  }
  if (n > MAX_THREADS) {
    throw new TopdownUsageError(`${source} must be at most ${MAX_THREADS}; got ${quoted(String(value))}`);
  }
  return n;
}

/**
 * The engine TOPDOWN_ENGINE names, or undefined when it is unset or empty; anything else is a usage error
 * naming the variable (it is checked wherever topdown creates an engine, even when a flag overrides it).
 */
export function engineFromEnvironment(env: NodeJS.ProcessEnv = process.env): EngineChoice | undefined {
  const value = env.TOPDOWN_ENGINE;
  return value ? parseEngineChoice(value, 'TOPDOWN_ENGINE') : undefined;
}

/** The thread count TOPDOWN_THREADS gives, or undefined when unset or empty (checked by {@link parseThreads}). */
export function threadsFromEnvironment(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.TOPDOWN_THREADS;
  return value ? parseThreads(value, 'TOPDOWN_THREADS') : undefined;
}

/**
 * Creates the engine named by `options.engine`, then TOPDOWN_ENGINE, then `auto` (`blas` when its addon
 * loads, else `wasm`, else `js`). Throws {@link TopdownUnavailableError} when `blas` or `wasm` is asked for
 * explicitly and cannot be made, and {@link TopdownUsageError} for a TOPDOWN_ENGINE, TOPDOWN_THREADS or
 * thread count that is not valid.
 */
export function createEngine(options: EngineOptions = {}): EngineSelection {
  // both variables are checked even when options override them: a typo there should not lie in wait
  const envChoice = engineFromEnvironment();
  const envThreads = threadsFromEnvironment();
  const choice = options.engine ?? envChoice ?? 'auto';
  if (choice === 'js') return { engine: new JsEngine() };
  const threads =
    options.threads !== undefined
      ? parseThreads(options.threads, 'threads')
      : (envThreads ?? Math.min(os.availableParallelism(), MAX_THREADS));
  if (choice === 'wasm') {
    const wasm = createWasmEngine(threads);
    if ('reason' in wasm) throw new TopdownUnavailableError(`the wasm engine is unavailable: ${wasm.reason}`);
    return { engine: wasm.engine };
  }
  const load = loadBlasAddon();
  if (!load.ok) {
    if (choice === 'blas')
      throw new TopdownUnavailableError(`the blas engine is unavailable: ${load.reason}`);
    const wasm = createWasmEngine(threads);
    if ('reason' in wasm)
      return { engine: new JsEngine(), fallbackReason: load.reason, wasmReason: wasm.reason };
    return { engine: wasm.engine, fallbackReason: load.reason };
  }
  const engine = new BlasEngine(load.addon, load.coreTypeForced, load.gemm);
  engine.setThreads(threads);
  return { engine };
}
