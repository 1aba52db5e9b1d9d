/**
 * The machine's physical limits, measured: the CPU's float32 FMA peak (independent chains of fused
 * multiply-adds at the widest vector width it has, on the engine's threads, in the native addon). Products
 * and training steps are reported as fractions of it, beside the replay roofline that measures the library.
 */
import { loadBlasAddon } from '../core/blas-addon.js';

/** A measured FMA peak. */
export interface MachinePeak {
  /** Float32 GFLOP/s over `threads` threads (2 per fused multiply-add). */
  gflops: number;
  /** The vector path measured: avx512, avx2-fma or scalar. */
  path: string;
  threads: number;
}

const measured = new Map<number, MachinePeak>();

/**
 * Measures the float32 FMA peak on `threads` threads in about `seconds` (the best of five repetitions; once
 * per process and thread count), or returns why it cannot: the measurement runs native code, so it needs the
 * addon (`topdown info` says why it is missing).
 */
export function measureFmaPeak(threads: number, seconds = 0.25): MachinePeak | { unavailable: string } {
  const known = measured.get(threads);
  if (known) return known;
  const load = loadBlasAddon();
  if (!load.ok) return { unavailable: `needs the native addon (${load.reason})` };
  const { gflops, path } = load.addon.fmaPeak(threads, seconds);
  const peak = { gflops, path, threads };
  measured.set(threads, peak);
  return peak;
}
