/**
 * A training step's roofline: what its matrix products cost measured alone at the same shapes, plus the bytes
 * its elementwise passes must move at the machine's streaming bandwidth. The products are found by watching
 * the engine during real steps (any rule, any optimiser), so nothing here knows a rule.
 *
 * Beside it, the physical roofline: the same products at the CPU's measured float32 FMA peak (`machine.ts`),
 * which says how far the library is from the machine.
 *
 * Bytes counted as the least the step must move: every product's output that is an activity gets one
 * read-and-write pass (8 bytes an element: its activation, mask or error), and every optimiser sweep moves
 * what its kernel declares (`KERNELS[name].bytes`: SGD 16 bytes a weight, 12 without weight decay; Adam 28).
 * The other kernels' passes are the activities' (counted through the products' outputs) and their time is part
 * of the rest of the step.
 */
import type { Engine } from '../core/engine-base.js';
import { KERNELS, type KernelArgs, type KernelName, type KernelSpec } from '../core/kernel-specs.js';
import type { SgemmFn } from '../core/sgemm-type.js';

import { measureFmaPeak } from './machine.js';

/** One matrix product seen during a step. */
export interface GemmCall {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  lda: number;
  ldb: number;
  ldc: number;
  /** The output's storage, to tell activities from optimiser buffers. */
  output: ArrayBufferLike;
}

/** What a watched step did, besides its products. */
export interface StepRecord {
  gemms: GemmCall[];
  /** Buffers the optimiser sweeps updated (their products are gradients, not activities). */
  swept: Set<ArrayBufferLike>;
  /** Bytes the optimiser sweeps must read and write. */
  sweepBytes: number;
  /** Time spent in products and in sweeps during the watched steps, in ms. */
  gemmMs: number;
  sweepMs: number;
}

/** The roofline report (field names as in `bench train --json`). */
export interface RooflineReport {
  /** Products per step. */
  gemm_calls: number;
  /** Floating-point operations of the products per step (2 per multiply-add), in GFLOP. */
  gemm_gflop: number;
  /** Median time of one step's products replayed alone at the same shapes, in ms. */
  gemm_ms: number;
  /** Time the products took inside the step (watched steps), in ms. */
  gemm_in_step_ms: number;
  /** Time the optimiser sweeps took inside the step, in ms. */
  sweep_in_step_ms: number;
  /** The least bytes the step's elementwise passes move, by kind. */
  elementwise_bytes: { activities: number; optimizer: number };
  /** Streaming bandwidth of one sweep on this engine, GB/s (measured in the same run). */
  bandwidth_gbps: number;
  /** gemm_ms + elementwise bytes / bandwidth. */
  roofline_ms: number;
  /** The measured step time over roofline_ms. */
  step_over_roofline: number;
  /** The CPU's float32 FMA peak on the engine's threads, measured in the same run (null without the addon). */
  peak_gflops: number | null;
  /**
   * The physical roofline: the products at the FMA peak plus the elementwise bytes at the bandwidth, in ms
   * (what the machine allows, where `roofline_ms` is what the engine's own library allows).
   */
  physical_roofline_ms: number | null;
  /** The measured step time over physical_roofline_ms. */
  step_over_physical: number | null;
}

/** Runs `steps` with the engine watched, and returns what they did per step. */
export function watchSteps(engine: Engine, steps: number, step: (i: number) => void): StepRecord {
  const record: StepRecord = { gemms: [], swept: new Set(), sweepBytes: 0, gemmMs: 0, sweepMs: 0 };
  const inner: SgemmFn = engine.sgemm;
  const run = engine.run.bind(engine);
  let recording = true;
  const target = engine as unknown as Record<string, unknown>;
  target.sgemm = ((transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc) => {
    const t0 = performance.now();
    inner(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    record.gemmMs += performance.now() - t0;
    if (recording) {
      record.gemms.push({ transA, transB, m, n, k, alpha, beta, lda, ldb, ldc, output: c.buffer });
    }
  }) satisfies SgemmFn;
  target.run = <K extends KernelName>(name: K, args: KernelArgs<K>): void => {
    const spec = KERNELS[name] as unknown as KernelSpec<KernelArgs<K>>;
    if (spec.phase !== 'optimiser') {
      run(name, args);
      return;
    }
    const t0 = performance.now();
    run(name, args);
    record.sweepMs += performance.now() - t0;
    if (recording) {
      const gradient = spec.gradient?.(args);
      if (gradient) record.swept.add(gradient.buffer);
      record.sweepBytes += spec.bytes(args);
    }
  };
  try {
    for (let i = 0; i < steps; i++) {
      step(i);
      recording = false; // the first step gives the list; the rest only add time
    }
  } finally {
    delete target.sgemm;
    delete target.run;
    target.sgemm = inner;
  }
  record.gemmMs /= steps;
  record.sweepMs /= steps;
  return record;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/**
 * A function that runs the products of one step alone, on buffers of the same shapes allocated once, and
 * returns how long they took in ms.
 */
export function gemmReplayer(engine: Engine, gemms: readonly GemmCall[]): () => number {
  const buffers = new Map<string, { a: Float32Array; b: Float32Array; c: Float32Array }>();
  const calls = gemms.map((g) => {
    const rowsA = g.transA ? g.k : g.m;
    const rowsB = g.transB ? g.n : g.k;
    const key = `${g.transA}${g.transB}:${g.m}x${g.n}x${g.k}:${g.lda},${g.ldb},${g.ldc}`;
    let buf = buffers.get(key);
    if (!buf) {
      buf = {
        a: new Float32Array(rowsA * g.lda).fill(0.5),
        b: new Float32Array(rowsB * g.ldb).fill(0.25),
        c: new Float32Array(g.m * g.ldc),
      };
      buffers.set(key, buf);
    }
    return { g, buf };
  });
  return () => {
    const t0 = performance.now();
    for (const { g, buf } of calls) {
      engine.sgemm(
        g.transA,
        g.transB,
        g.m,
        g.n,
        g.k,
        g.alpha,
        buf.a,
        0,
        g.lda,
        buf.b,
        0,
        g.ldb,
        g.beta,
        buf.c,
        0,
        g.ldc,
      );
    }
    return performance.now() - t0;
  };
}

/** Median time of the products of one step, replayed alone (after two untimed replays). */
export function replayGemms(engine: Engine, gemms: readonly GemmCall[], reps = 9): number {
  const replay = gemmReplayer(engine, gemms);
  replay();
  replay();
  return median(Array.from({ length: reps }, replay));
}

/**
 * Streaming bandwidth of the engine's SGD sweep with decay (reads and writes two arrays, 16 bytes an
 * element) over arrays far larger than the caches, in GB/s.
 */
export function sweepBandwidth(engine: Engine, elements = 1 << 23, reps = 5): number {
  const w = new Float32Array(elements).fill(1);
  const v = new Float32Array(elements).fill(1e-3);
  const sweep = { w, v, lr: 1e-6, weightDecay: 1e-6 };
  engine.run('sgdUpdate', sweep); // also maps the pages
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    engine.run('sgdUpdate', sweep);
    times.push(performance.now() - t0);
  }
  return (16 * elements) / (median(times) / 1000) / 1e9;
}

/**
 * The roofline of a step measured at `stepMs`, from a watched step record; `gemmMs` is the products' time
 * alone when already measured (e.g. interleaved with the timed steps), else they are replayed here.
 */
export function roofline(
  engine: Engine,
  record: StepRecord,
  stepMs: number,
  gemmMs?: number,
): RooflineReport {
  let flops = 0;
  let activityBytes = 0;
  for (const g of record.gemms) {
    flops += 2 * g.m * g.n * g.k;
    if (!record.swept.has(g.output)) activityBytes += 8 * g.m * g.n;
  }
  const gemmAlone = gemmMs ?? replayGemms(engine, record.gemms);
  const bandwidth = sweepBandwidth(engine);
  const bytes = activityBytes + record.sweepBytes;
  const bytesMs = (bytes / (bandwidth * 1e9)) * 1000;
  const rooflineMs = gemmAlone + bytesMs;
  const peak = measureFmaPeak(engine.info().threads);
  const peakGflops = 'gflops' in peak ? peak.gflops : null;
  const physicalMs = peakGflops === null ? null : (flops / (peakGflops * 1e9)) * 1000 + bytesMs;
  return {
    gemm_calls: record.gemms.length,
    gemm_gflop: flops / 1e9,
    gemm_ms: gemmAlone,
    gemm_in_step_ms: record.gemmMs,
    sweep_in_step_ms: record.sweepMs,
    elementwise_bytes: { activities: activityBytes, optimizer: record.sweepBytes },
    bandwidth_gbps: bandwidth,
    roofline_ms: rooflineMs,
    step_over_roofline: stepMs / rooflineMs,
    peak_gflops: peakGflops,
    physical_roofline_ms: physicalMs,
    step_over_physical: physicalMs === null ? null : stepMs / physicalMs,
  };
}
