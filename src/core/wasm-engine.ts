/**
 * The `wasm` engine: the kernels of `assembly/` (AssemblyScript, 128-bit SIMD, relaxed SIMD when the runtime
 * has it) over one WebAssembly memory, with the GEMM split over helper threads when the memory is shared.
 * Arrays from {@link WasmEngine.floats} (and matrices made with `Matrix.zeros(rows, cols, engine)`) live in that memory, so kernels read
 * and write them in place; other arrays are copied in and out around each call (correct, slower). The
 * platform part (reading the .wasm files, starting threads) is given by the caller: see `wasm-node.ts`.
 */
import type {} from './wasm-globals.js';
import { Engine, type EngineInfo } from './engine-base.js';
import { TopdownUsageError } from './errors.js';
import { jsSgemm } from './js-gemm.js';
import { KERNELS, type KernelTable } from './kernel-specs.js';
import type { SgemmFn } from './sgemm-type.js';
import { WasmMemory } from './wasm-memory.js';
import { MAX_THREADS, ThreadPool, type GemmBlockFn, type SpawnThread } from './wasm-threads.js';

/** The kernels' exports (assembly/index.ts); addresses are bytes, counts elements. */
export interface WasmKernels {
  workFloats(): number;
  fused(): number;
  gemmBlock: GemmBlockFn;
  axpy(n: number, alpha: number, x: number, y: number): void;
  scal(n: number, alpha: number, x: number): void;
  ger(m: number, n: number, alpha: number, x: number, y: number, a: number, lda: number): void;
  sgdUpdate(n: number, w: number, v: number, lr: number, wd: number): void;
  adamUpdate(
    rows: number,
    cols: number,
    p: number,
    pStride: number,
    g: number,
    m: number,
    v: number,
    beta1: number,
    beta2: number,
    wd: number,
    eps: number,
    stepSize: number,
    invBc2Sqrt: number,
    c1: number,
    c2: number,
  ): void;
  relu(n: number, x: number, out: number): void;
  reluMask(n: number, x: number, out: number): void;
  multiply(n: number, x: number, y: number, out: number): void;
  subtract(n: number, x: number, y: number, out: number): void;
  reluNormalizeRows(
    rows: number,
    d: number,
    a: number,
    g: number,
    h: number,
    target: number,
    floor: number,
    out: number,
  ): void;
}

/** Which build of the kernels runs. */
export type WasmKernelVariant = 'relaxed-simd' | 'simd';

/** What {@link WasmEngine} is built from. */
export interface WasmEngineSetup {
  /** The compiled kernels, built for a shared memory when `shared`. */
  module: WebAssembly.Module;
  variant: WasmKernelVariant;
  /** Why the relaxed-SIMD kernels are not in use, when they are not. */
  variantReason?: string;
  /** A shared memory (required for more than one thread). */
  shared: boolean;
  /** Threads in all (the calling one included); 1 without a shared memory. */
  threads: number;
  /** Starts a helper thread; required when threads > 1. */
  spawn?: SpawnThread;
  /** Pages the memory starts with (an unshared memory never grows past them). Default 256 (16 MiB). */
  initialPages?: number;
  /** Products from this many multiply-adds are split over the threads; default {@link WASM_THREAD_GEMM_MACS}. */
  threadGemmMacs?: number;
}

/** Products below this many multiply-adds run in TypeScript (a call into the kernels is not free). */
export const WASM_SMALL_GEMM_MACS = 4096;
/**
 * Products from this many multiply-adds are split over threads. Measured (2 threads, NT, batch 64): at 1M
 * multiply-adds two threads take 0.68 of one thread's time, at 4M 0.51; below, a product has too few chunks of
 * at least 64 rows or columns to share, and waking a helper costs microseconds.
 */
export const WASM_THREAD_GEMM_MACS = 1 << 20;

export class WasmEngine extends Engine {
  readonly name = 'wasm' as const;
  private readonly memory: WasmMemory;
  private readonly k: WasmKernels;
  private readonly pool: ThreadPool | null;
  private readonly work: number;
  private doubleScratch: Float64Array = new Float64Array(0);

  constructor(private readonly setup: WasmEngineSetup) {
    super();
    const threads = setup.shared ? Math.min(setup.threads, MAX_THREADS) : 1;
    this.memory = new WasmMemory({
      shared: setup.shared,
      initialPages: setup.initialPages ?? 256,
      maximumPages: 65536,
    });
    const instance = new WebAssembly.Instance(setup.module, { env: { memory: this.memory.memory } });
    this.k = instance.exports as unknown as WasmKernels;
    const workBytes = this.k.workFloats() * 4;
    const works = Array.from({ length: threads }, () => {
      const ptr = this.memory.reserve(workBytes);
      if (ptr < 0) throw new TopdownUsageError('the wasm engine memory is too small for its scratch');
      return ptr;
    });
    this.work = works[0]!;
    if (threads > 1) {
      if (!setup.spawn) throw new TopdownUsageError('a threaded wasm engine needs a way to start threads');
      this.pool = new ThreadPool(this.memory.memory, this.k.gemmBlock, threads, works);
      this.pool.start(setup.module, setup.spawn);
    } else {
      this.pool = null;
    }
  }

  info(): EngineInfo {
    const out: EngineInfo = {
      name: 'wasm',
      threads: this.pool?.threads ?? 1,
      wasmKernels: this.setup.variant,
      wasmSharedMemory: this.setup.shared,
    };
    if (this.setup.variantReason) out.wasmKernelsReason = this.setup.variantReason;
    return out;
  }

  /** Helper threads instantiated so far (they start asynchronously and join products once ready). */
  readyThreads(): number {
    return 1 + (this.pool?.readyHelpers() ?? 0);
  }

  /** Waits (asynchronously) until every helper thread is ready, or the timeout passes. */
  async whenThreadsReady(timeoutMs = 10000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    const all = this.pool?.threads ?? 1;
    while (this.readyThreads() < all) {
      if (Date.now() > end) return false;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return true;
  }

  /** Bytes of engine memory in use. */
  get memoryBytes(): number {
    return this.memory.allocatedBytes;
  }

  override floats(n: number): Float32Array {
    return this.memory.floats(n);
  }

  override storageMark(): number {
    return this.memory.mark();
  }

  override releaseStorage(mark: number): void {
    this.memory.release(mark);
  }

  sgemm: SgemmFn = (transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc) => {
    if (m === 0 || n === 0) return;
    const macs = m * n * k;
    if (macs < WASM_SMALL_GEMM_MACS) {
      jsSgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
      return;
    }
    const [pa, pb, pc] = this.memory.addresses([
      { x: a, offset: aOff, count: extent(transA ? k : m, transA ? m : k, lda) },
      { x: b, offset: bOff, count: extent(transB ? n : k, transB ? k : n, ldb) },
      { x: c, offset: cOff, count: extent(m, n, ldc) },
    ]);
    if (this.pool && macs >= (this.setup.threadGemmMacs ?? WASM_THREAD_GEMM_MACS)) {
      this.pool.gemm({ transA, transB, m, n, k, alpha, a: pa!, lda, b: pb!, ldb, beta, c: pc!, ldc });
    } else {
      const tA = transA ? 1 : 0;
      const tB = transB ? 1 : 0;
      this.k.gemmBlock(tA, tB, k, alpha, pa!, lda, pb!, ldb, beta, pc!, ldc, 0, m, 0, n, this.work);
    }
    this.memory.unstage(c);
  };

  /** The SIMD kernels; arrays outside the engine's memory run the reference (the same bits). */
  protected override readonly kernels: KernelTable = {
    axpy: (args) => {
      const { alpha, x, y } = args;
      if (this.owned(x, y)) this.k.axpy(x.length, alpha, x.byteOffset, y.byteOffset);
      else KERNELS.axpy.reference(args);
    },
    scal: (args) => {
      const { alpha, x } = args;
      if (this.owned(x)) this.k.scal(x.length, alpha, x.byteOffset);
      else KERNELS.scal.reference(args);
    },
    ger: (args) => {
      const { alpha, x, y, a } = args;
      if (this.owned(x, y, a.data)) {
        const pa = a.data.byteOffset + a.offset * 4;
        this.k.ger(x.length, y.length, alpha, x.byteOffset, y.byteOffset, pa, a.stride);
      } else {
        KERNELS.ger.reference(args);
      }
    },
    sgdUpdate: (args) => {
      const { w, v, lr, weightDecay } = args;
      if (this.owned(w, v)) this.k.sgdUpdate(w.length, w.byteOffset, v.byteOffset, lr, weightDecay);
      else KERNELS.sgdUpdate.reference(args);
    },
    adamUpdate: (args) => {
      const { p, pOff, pStride, rows, cols, g, m, v, scalars: s } = args;
      if (!this.owned(p, g, m, v)) {
        KERNELS.adamUpdate.reference(args);
        return;
      }
      this.k.adamUpdate(
        rows,
        cols,
        p.byteOffset + pOff * 4,
        pStride,
        g.byteOffset,
        m.byteOffset,
        v.byteOffset,
        s.beta1,
        s.beta2,
        s.weightDecay,
        s.eps,
        s.stepSize,
        s.invBc2Sqrt,
        // 1 - beta formed in double, then rounded, as PyTorch passes it
        Math.fround(1 - s.beta1),
        Math.fround(1 - s.beta2),
      );
    },
    relu: (args) => {
      const { x, out } = args;
      if (this.owned(x, out)) this.k.relu(x.length, x.byteOffset, out.byteOffset);
      else KERNELS.relu.reference(args);
    },
    reluMask: (args) => {
      const { x, out } = args;
      if (this.owned(x, out)) this.k.reluMask(x.length, x.byteOffset, out.byteOffset);
      else KERNELS.reluMask.reference(args);
    },
    multiply: (args) => {
      const { a, b, out } = args;
      if (this.owned(a, b, out)) this.k.multiply(a.length, a.byteOffset, b.byteOffset, out.byteOffset);
      else KERNELS.multiply.reference(args);
    },
    subtract: (args) => {
      const { a, b, out } = args;
      if (this.owned(a, b, out)) this.k.subtract(a.length, a.byteOffset, b.byteOffset, out.byteOffset);
      else KERNELS.subtract.reference(args);
    },
    reluNormalizeRows: (args) => {
      const { a, g, h, rows, d, target, floor, norms, squares } = args;
      if (!this.owned(a, g, h)) {
        KERNELS.reluNormalizeRows.reference(args);
        return;
      }
      const out = this.doubles(2 * rows);
      this.k.reluNormalizeRows(
        rows,
        d,
        a.byteOffset,
        g.byteOffset,
        h.byteOffset,
        target,
        floor,
        out.byteOffset,
      );
      squares.set(out.subarray(0, rows));
      norms.set(out.subarray(rows, 2 * rows));
    },
  };

  /** A scratch of at least n doubles in the memory, grown (never shrunk) to the largest asked. */
  private doubles(n: number): Float64Array {
    if (this.doubleScratch.length < n) {
      const ptr = this.memory.reserve(n * 8);
      if (ptr < 0) throw new TopdownUsageError('the wasm engine memory is full');
      this.doubleScratch = new Float64Array(this.memory.memory.buffer, ptr, n);
    }
    return this.doubleScratch;
  }

  private owned(...xs: Float32Array[]): boolean {
    for (const x of xs) if (!this.memory.owns(x)) return false;
    return true;
  }
}

/** Elements spanned by a rows x cols view with leading dimension ld (0 for an empty view). */
function extent(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}
