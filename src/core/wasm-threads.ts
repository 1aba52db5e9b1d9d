/**
 * Threads for the `wasm` engine's GEMM: worker threads with their own instance of the kernels over the one
 * shared memory. A product is cut into chunks of rows or columns of C; the calling thread and every helper
 * that is ready take chunks from an atomic counter until none is left. Each element of C is computed by one
 * chunk with the same operations whichever thread takes it, so results do not depend on the thread count.
 *
 * The control block (the first bytes of the memory) holds the product's parameters and, per helper, a
 * generation word it waits on (Atomics.wait), a done word the caller waits on, a ready flag and the address
 * of its packing scratch. `takeChunks` and `threadMain` are also run from their source text in the helpers,
 * so they use nothing but their arguments and the language's globals.
 */
import type {} from './wasm-globals.js';

/** Word indices of the control block (int32; alpha and beta read as float32). */
export const LAYOUT = {
  next: 0,
  chunks: 1,
  transA: 2,
  transB: 3,
  m: 4,
  n: 5,
  k: 6,
  alpha: 7,
  a: 8,
  lda: 9,
  b: 10,
  ldb: 11,
  beta: 12,
  c: 13,
  ldc: 14,
  splitRows: 15,
  chunkSize: 16,
  /** First word of the per-thread records. */
  threads: 32,
  /** Words per thread record: generation, done, ready, scratch address. */
  stride: 4,
  gen: 0,
  done: 1,
  ready: 2,
  work: 3,
} as const;
export type Layout = typeof LAYOUT;

/** Most threads the control block has records for. */
export const MAX_THREADS = 64;

/** The kernels' gemmBlock export (see assembly/gemm.ts). */
export type GemmBlockFn = (
  transA: number,
  transB: number,
  k: number,
  alpha: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  beta: number,
  c: number,
  ldc: number,
  i0: number,
  i1: number,
  j0: number,
  j1: number,
  work: number,
) => void;

/** Takes chunks of the product in the control block until none is left. */
export function takeChunks(
  ctl: Int32Array,
  f32: Float32Array,
  L: Layout,
  gemmBlock: GemmBlockFn,
  work: number,
): void {
  const chunks = ctl[L.chunks]!;
  const size = ctl[L.chunkSize]!;
  const m = ctl[L.m]!;
  const n = ctl[L.n]!;
  const rows = ctl[L.splitRows] === 1;
  for (;;) {
    const chunk = Atomics.add(ctl, L.next, 1);
    if (chunk >= chunks) return;
    const lo = chunk * size;
    const i0 = rows ? lo : 0;
    const i1 = rows ? Math.min(m, lo + size) : m;
    const j0 = rows ? 0 : lo;
    const j1 = rows ? n : Math.min(n, lo + size);
    gemmBlock(
      ctl[L.transA]!,
      ctl[L.transB]!,
      ctl[L.k]!,
      f32[L.alpha]!,
      ctl[L.a]!,
      ctl[L.lda]!,
      ctl[L.b]!,
      ctl[L.ldb]!,
      f32[L.beta]!,
      ctl[L.c]!,
      ctl[L.ldc]!,
      i0,
      i1,
      j0,
      j1,
      work,
    );
  }
}

/** What a helper thread starts with. */
export interface ThreadInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  index: number;
  layout: Layout;
}

/** A helper thread's life: instantiate, say ready, then run every product it is woken for. */
export function threadMain(init: ThreadInit, take: typeof takeChunks): void {
  const L = init.layout;
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const gemmBlock = instance.exports.gemmBlock as GemmBlockFn;
  // 64 is MAX_THREADS, written out: this function runs from its source text, without the module around it
  const ctl = new Int32Array(init.memory.buffer, 0, L.threads + 64 * L.stride);
  const f32 = new Float32Array(init.memory.buffer, 0, L.threads + 64 * L.stride);
  const base = L.threads + init.index * L.stride;
  Atomics.store(ctl, base + L.ready, 1);
  let seen = Atomics.load(ctl, base + L.gen);
  for (;;) {
    Atomics.wait(ctl, base + L.gen, seen);
    const gen = Atomics.load(ctl, base + L.gen);
    if (gen === seen) continue;
    if (gen < 0) return;
    seen = gen;
    take(ctl, f32, L, gemmBlock, Atomics.load(ctl, base + L.work));
    Atomics.store(ctl, base + L.done, gen);
    Atomics.notify(ctl, base + L.done);
  }
}

/** The JavaScript source a helper runs: `init` is the {@link ThreadInit} it receives. */
export function threadSource(init: string): string {
  return `(${threadMain.toString()})(${init}, ${takeChunks.toString()});`;
}

/** Starts a helper thread (worker_threads in Node, a Web Worker in browsers); it runs until the process ends. */
export type SpawnThread = (init: ThreadInit) => void;

/** One product for {@link ThreadPool.gemm}: addresses are bytes, leading dimensions elements. */
export interface GemmCall {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  beta: number;
  c: number;
  ldc: number;
}

/** Columns (or rows) per chunk at least, so that packing the other operand per chunk stays cheap. */
const MIN_CHUNK = 64;

export class ThreadPool {
  private readonly L = LAYOUT;
  private generation = 0;

  /**
   * @param threads - threads in all, the caller included (helpers = threads - 1)
   * @param works - scratch address per thread, the caller's first
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly gemmBlock: GemmBlockFn,
    readonly threads: number,
    private readonly works: number[],
  ) {}

  /** Starts the helpers (they join products once instantiated; until then the caller does the work). */
  start(module: WebAssembly.Module, spawn: SpawnThread): void {
    const ctl = this.control();
    for (let t = 1; t < this.threads; t++) {
      Atomics.store(ctl, this.record(t) + this.L.work, this.works[t]!);
      spawn({ module, memory: this.memory, index: t, layout: this.L });
    }
  }

  /** Helpers instantiated so far. */
  readyHelpers(): number {
    const ctl = this.control();
    let ready = 0;
    for (let t = 1; t < this.threads; t++)
      if (Atomics.load(ctl, this.record(t) + this.L.ready) === 1) ready++;
    return ready;
  }

  /** Runs one product over the caller and the ready helpers. */
  gemm(call: GemmCall): void {
    const L = this.L;
    const ctl = this.control();
    const f32 = new Float32Array(ctl.buffer, 0, ctl.length);
    const splitRows = call.m > call.n;
    const extent = splitRows ? call.m : call.n;
    const helpers: number[] = [];
    for (let t = 1; t < this.threads; t++) {
      if (Atomics.load(ctl, this.record(t) + L.ready) === 1) helpers.push(t);
    }
    const size = chunkSize(extent, helpers.length + 1);
    const chunks = Math.ceil(extent / size);
    const wanted = helpers.slice(0, Math.max(0, chunks - 1));
    ctl[L.chunks] = chunks;
    ctl[L.chunkSize] = size;
    ctl[L.transA] = call.transA ? 1 : 0;
    ctl[L.transB] = call.transB ? 1 : 0;
    ctl[L.m] = call.m;
    ctl[L.n] = call.n;
    ctl[L.k] = call.k;
    f32[L.alpha] = call.alpha;
    ctl[L.a] = call.a;
    ctl[L.lda] = call.lda;
    ctl[L.b] = call.b;
    ctl[L.ldb] = call.ldb;
    f32[L.beta] = call.beta;
    ctl[L.c] = call.c;
    ctl[L.ldc] = call.ldc;
    ctl[L.splitRows] = splitRows ? 1 : 0;
    Atomics.store(ctl, L.next, 0);
    this.generation = (this.generation % 0x3fffffff) + 1;
    const gen = this.generation;
    for (const t of wanted) {
      Atomics.store(ctl, this.record(t) + L.gen, gen);
      Atomics.notify(ctl, this.record(t) + L.gen);
    }
    takeChunks(ctl, f32, L, this.gemmBlock, this.works[0]!);
    for (const t of wanted) waitFor(ctl, this.record(t) + L.done, gen);
  }

  private record(t: number): number {
    return this.L.threads + t * this.L.stride;
  }

  private control(): Int32Array {
    return new Int32Array(this.memory.buffer, 0, this.L.threads + MAX_THREADS * this.L.stride);
  }
}

/** A multiple of 8 giving each thread a few chunks (for balance on a busy machine), at least MIN_CHUNK. */
function chunkSize(extent: number, threads: number): number {
  if (threads <= 1) return extent;
  const target = Math.ceil(extent / (threads * 3));
  return Math.max(MIN_CHUNK, Math.ceil(target / 8) * 8);
}

/** Waits until ctl[index] == value: spins briefly (a helper usually finishes at about the caller's time). */
function waitFor(ctl: Int32Array, index: number, value: number): void {
  for (let spin = 0; spin < 20000; spin++) if (Atomics.load(ctl, index) === value) return;
  let now: number;
  while ((now = Atomics.load(ctl, index)) !== value) {
    try {
      Atomics.wait(ctl, index, now, 1000);
    } catch {
      // a browser's main thread may not wait: keep spinning
    }
  }
}
