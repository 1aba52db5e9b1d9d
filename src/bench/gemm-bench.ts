/**
 * GEMM throughput measurement: warm-up, then the median over repetitions of the time per call, each
 * repetition timing enough calls to last at least `minRepMs`.
 */
import type { Engine } from '../core/engine-base.js';
import { Rng } from '../core/rng.js';

import type { GemmShape } from './gemm-shapes.js';

/** Timing knobs. */
export interface GemmBenchOptions {
  /** Timed repetitions per shape and engine (median reported); default 7. */
  reps?: number;
  /** Minimum duration of one repetition in milliseconds; default 20. */
  minRepMs?: number;
  /**
   * Soft cap on the timed part for one shape and engine, in milliseconds; slow cases run fewer repetitions
   * (at least 3). Default 4000.
   */
  maxShapeMs?: number;
}

/** One measurement (field names as in `topdown bench gemm --json`). */
export interface GemmBenchResult {
  engine: string;
  label: string;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  gflops: number;
  us_per_call: number;
  reps: number;
  calls_per_rep: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Measures `engine` on one shape. Operands are seeded random normals, so runs are comparable. */
export function benchGemm(engine: Engine, shape: GemmShape, options: GemmBenchOptions = {}): GemmBenchResult {
  const reps = options.reps ?? 7;
  const minRepMs = options.minRepMs ?? 20;
  const maxShapeMs = options.maxShapeMs ?? 4000;
  const { m, k, n, transA, transB } = shape;
  const rng = Rng.fromSeed(0).derive(`${m}x${k}x${n}`);
  // operands where the engine computes (the wasm engine's memory), as a training run allocates them
  const a = rng.fillNormal(engine.floats(m * k));
  const b = rng.fillNormal(engine.floats(k * n));
  const c = engine.floats(m * n);
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const call = (): void => engine.sgemm(transA, transB, m, n, k, 1, a, 0, lda, b, 0, ldb, 0, c, 0, n);

  // Warm-up (JIT, OpenBLAS thread pool, caches), which also calibrates the calls per repetition.
  let calls = 0;
  const start = performance.now();
  do {
    call();
    calls++;
  } while (performance.now() - start < minRepMs);
  const perCallMs = (performance.now() - start) / calls;
  const callsPerRep = Math.max(1, Math.ceil(minRepMs / perCallMs));
  const affordable = Math.floor(maxShapeMs / (perCallMs * callsPerRep));
  const repsRun = Math.max(Math.min(reps, affordable), Math.min(reps, 3));

  const samples: number[] = [];
  for (let r = 0; r < repsRun; r++) {
    const t0 = performance.now();
    for (let i = 0; i < callsPerRep; i++) call();
    samples.push((performance.now() - t0) / callsPerRep);
  }
  const ms = median(samples);
  return {
    engine: engine.name,
    label: shape.label,
    m,
    k,
    n,
    transA,
    transB,
    gflops: (2 * m * n * k) / (ms * 1e6),
    us_per_call: ms * 1e3,
    reps: repsRun,
    calls_per_rep: callsPerRep,
  };
}
