/**
 * The `wasm` engine's memory: one WebAssembly.Memory (shared between threads when it can be) from which the
 * engine hands out float32 arrays, so that the network's weights, activations and optimiser buffers live
 * where the kernels read them and no call copies them. Arrays from anywhere else still work: they are copied
 * into a staging area around each call.
 *
 * Allocation is a bump pointer in 64-byte steps; arrays live as long as the engine (training allocates its
 * buffers once, at setup). A shared memory grows in place and every array handed out stays valid; an
 * unshared one cannot grow without detaching its arrays, so it is reserved at its full size up front and
 * allocations past it come from the JavaScript heap (correct, copied per call).
 */
import type {} from './wasm-globals.js';
import { TopdownUsageError } from './errors.js';

const PAGE_BYTES = 65536;
const ALIGN_BYTES = 64;
/** Bytes at the bottom of the memory for the thread control block (see wasm-threads.ts). */
const CONTROL_BYTES = 4096;

/** How to create the memory. */
export interface WasmMemoryOptions {
  /** Shared memory (needed for threads; in browsers only when the page is cross-origin isolated). */
  shared: boolean;
  /** Pages reserved at creation (an unshared memory never grows past them). */
  initialPages: number;
  /** Largest size in pages (65536 = 4 GiB). */
  maximumPages: number;
}

/** An operand of a kernel call: x[offset, offset + count). */
export interface Operand {
  x: Float32Array;
  offset: number;
  count: number;
}

/** A float32 range copied into the memory for one call. */
interface Staged {
  ptr: number;
  source: Float32Array;
  start: number;
  count: number;
}

export class WasmMemory {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /** Every buffer object the memory has had (a shared memory's grows give new objects over the same bytes). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private top = CONTROL_BYTES;
  private staging = { ptr: 0, bytes: 0 };
  private staged: Staged[] = [];

  constructor(options: WasmMemoryOptions) {
    this.shared = options.shared;
    this.memory = new WebAssembly.Memory({
      initial: options.initialPages,
      maximum: options.maximumPages,
      shared: options.shared,
    });
    this.buffers.add(this.memory.buffer);
  }

  /** Bytes handed out so far (arrays, scratch and staging). */
  get allocatedBytes(): number {
    return this.top;
  }

  /** A zero-filled array of n floats in the memory, or on the JavaScript heap when an unshared memory is full. */
  floats(n: number): Float32Array {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new TopdownUsageError(`cannot allocate ${n} floats`);
    }
    const ptr = this.reserve(n * 4);
    if (ptr < 0) return new Float32Array(n);
    // bytes freshly reserved are zero: the memory starts zeroed and nothing is ever handed out twice
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  /** Reserves bytes (64-byte aligned); -1 when an unshared memory has no room left. */
  reserve(bytes: number): number {
    const ptr = this.top;
    const end = ptr + roundUp(Math.max(bytes, 1));
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      if (!this.shared) return -1;
      const pages = Math.ceil((end - have) / PAGE_BYTES);
      try {
        this.memory.grow(pages);
      } catch {
        throw new TopdownUsageError(
          `the wasm engine's memory cannot grow to ${Math.ceil(end / 2 ** 20)} MiB (4 GiB at most)`,
        );
      }
      this.buffers.add(this.memory.buffer);
    }
    this.top = end;
    return ptr;
  }

  /** The current top of the memory, for {@link WasmMemory.release}. */
  mark(): number {
    return this.top;
  }

  /**
   * Gives back every byte handed out after `mark` (zeroed again, as fresh bytes are): arrays allocated since
   * must not be used again. What a page does when it drops its runs and starts new ones.
   */
  release(mark: number): void {
    if (!Number.isSafeInteger(mark) || mark < CONTROL_BYTES || mark > this.top)
      throw new TopdownUsageError(`cannot release the wasm memory to ${mark} (top ${this.top})`);
    new Uint8Array(this.memory.buffer, mark, this.top - mark).fill(0);
    if (this.staging.ptr >= mark) this.staging = { ptr: 0, bytes: 0 };
    this.top = mark;
  }

  /** True when x lies in this memory. */
  owns(x: Float32Array): boolean {
    return this.buffers.has(x.buffer);
  }

  /**
   * Byte addresses of x[offset] for each operand of one kernel call: an operand's own when it lies in the
   * memory, else that of a copy of x[offset, offset + count) made for this call. {@link WasmMemory.unstage}
   * ends the call.
   */
  addresses(operands: readonly Operand[]): number[] {
    let bytes = 0;
    for (const o of operands) if (!this.owns(o.x)) bytes += roundUp(o.count * 4);
    if (bytes > this.staging.bytes) {
      const size = Math.max(bytes, this.staging.bytes * 2, 1 << 20);
      const ptr = this.reserve(size);
      if (ptr < 0) {
        throw new TopdownUsageError(
          `the wasm engine's memory is full (${Math.ceil(this.top / 2 ** 20)} MiB, not shared so it cannot grow)`,
        );
      }
      this.staging = { ptr, bytes: size };
    }
    let used = 0;
    return operands.map((o) => {
      if (this.owns(o.x)) return o.x.byteOffset + o.offset * 4;
      const ptr = this.staging.ptr + used;
      used += roundUp(o.count * 4);
      new Float32Array(this.memory.buffer, ptr, o.count).set(o.x.subarray(o.offset, o.offset + o.count));
      this.staged.push({ ptr, source: o.x, start: o.offset, count: o.count });
      return ptr;
    });
  }

  /** Ends a call: copies the staged copy of `written` (if it was staged) back to it. */
  unstage(written?: Float32Array): void {
    if (this.staged.length === 0) return;
    for (const s of this.staged) {
      if (s.source === written) s.source.set(new Float32Array(this.memory.buffer, s.ptr, s.count), s.start);
    }
    this.staged = [];
  }
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES;
}
