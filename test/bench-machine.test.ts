/**
 * The machine's physical roofline: the CPU's float32 FMA peak, measured by the native addon, bounds what any
 * matrix product reaches on the same threads, and the reports give products and steps as fractions of it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { benchGemm } from '../src/bench/gemm-bench.js';
import { measureFmaPeak } from '../src/bench/machine.js';
import { benchTrain } from '../src/bench/train-bench.js';
import { loadBlasAddon } from '../src/core/blas-addon.js';
import { createEngine } from '../src/core/engine.js';
import { resolveTrainConfig } from '../src/train/config.js';

import { runCliCaptured } from './helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const blas = loadBlasAddon().ok;

describe.runIf(blas || process.env.CI === 'true')('the FMA peak (native addon)', () => {
  it('is measured on the widest vector path and bounds a large product on the same thread', () => {
    const peak = measureFmaPeak(1);
    if (!('gflops' in peak)) throw new Error(peak.unavailable);
    expect(['avx512', 'avx2-fma', 'scalar']).toContain(peak.path);
    expect(peak.gflops).toBeGreaterThan(1);
    const { engine } = createEngine({ engine: 'blas', threads: 1 });
    const load = loadBlasAddon();
    if (!load.ok) throw new Error(load.reason);
    // a product is FMAs and more: it cannot beat the chains of FMAs alone. Each is measured three times,
    // interleaved, and the best of each compared, so that another process on the cores cannot skew one of them
    let bestPeak = 0;
    let bestGemm = 0;
    for (let i = 0; i < 3; i++) {
      bestPeak = Math.max(bestPeak, load.addon.fmaPeak(1, 0.1).gflops);
      const shape = { label: 'big', m: 256, k: 1024, n: 1024, transA: false, transB: false };
      bestGemm = Math.max(bestGemm, benchGemm(engine, shape, { reps: 3 }).gflops);
    }
    expect(bestGemm).toBeLessThan(1.1 * bestPeak);
    // per process and thread count, measured once
    expect(measureFmaPeak(1)).toBe(peak);
  });

  it('refuses a thread count or a budget out of range in the addon', () => {
    const load = loadBlasAddon();
    if (!load.ok) throw new Error(load.reason);
    expect(() => load.addon.fmaPeak(0, 0.1)).toThrow(RangeError);
    expect(() => load.addon.fmaPeak(1, 0)).toThrow(RangeError);
    expect(() => load.addon.fmaPeak(1, 61)).toThrow(RangeError);
  });

  it('info names the peak and the GEMM path; bench gemm gives each product as a fraction of the peak', async () => {
    const info = await runCliCaptured(['info', '--engine', 'blas', '--threads', '1']);
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(
      /^gemm: {5}(oneDNN [\d.]+ for products of 2\^21 multiply-adds or more or no dimension under 32 \(A B\^T through a transpose\), )?OpenBLAS \(\w+ kernels\)/m,
    );
    expect(info.out).toMatch(
      /^peak: {5}\d+ GFLOP\/s float32 FMA \((avx512|avx2-fma|scalar), 1 thread; measured\)$/m,
    );
    const bench = await runCliCaptured([
      'bench',
      'gemm',
      '--engine',
      'blas',
      '--threads',
      '1',
      '--shapes',
      '64x512x512:NT',
      '--json',
    ]);
    expect(bench.code, bench.err).toBe(0);
    const report = JSON.parse(bench.out) as {
      peak: { gflops: number }[];
      results: { gflops: number; of_peak: number }[];
    };
    const [row] = report.results;
    expect(row!.of_peak).toBeCloseTo(row!.gflops / report.peak[0]!.gflops, 9);
    expect(row!.of_peak).toBeGreaterThan(0);
    expect(row!.of_peak).toBeLessThan(1.25);
  });

  it('a training step reports its physical roofline beside the replay roofline', () => {
    const { engine } = createEngine({ engine: 'blas', threads: 1 });
    const config = resolveTrainConfig({ rule: 'bp', data: 'mnist', hidden: [64], batchSize: 32 }, 'test');
    const result = benchTrain(engine, { config, batches: 3, warmup: 1 });
    const r = result.roofline!;
    expect(r.peak_gflops).toBeGreaterThan(0);
    // the same elementwise time as the replay roofline, the products at the peak instead of replayed
    const elementwiseMs = r.roofline_ms - r.gemm_ms;
    expect(r.physical_roofline_ms!).toBeCloseTo((r.gemm_gflop / r.peak_gflops!) * 1000 + elementwiseMs, 9);
    expect(r.step_over_physical!).toBeCloseTo(result.median_ms_per_batch / r.physical_roofline_ms!, 9);
  });
});

describe('without the native addon', () => {
  it('info says the peak is not measured, and why, in its own line', () => {
    const empty = mkdtempSync(join(tmpdir(), 'topdown-no-addon-'));
    try {
      const r = spawnSync(process.execPath, [cli, 'info'], {
        encoding: 'utf8',
        env: { ...process.env, TOPDOWN_ADDON_DIR: empty },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^peak: {5}not measured: needs the native addon \(not built/m);
      expect(r.stdout).not.toMatch(/^gemm: {5}OpenBLAS/m);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
