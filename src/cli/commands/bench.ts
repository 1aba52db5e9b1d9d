import { benchGemm, type GemmBenchOptions, type GemmBenchResult } from '../../bench/gemm-bench.js';
import { measureFmaPeak, type MachinePeak } from '../../bench/machine.js';
import { PAPER_GEMM_SHAPES, type GemmShape } from '../../bench/gemm-shapes.js';
import type { Engine } from '../../core/engine.js';
import { enginesToMeasure, RATIO_PAIRS, type EngineFlags } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { packageVersion } from '../package-info.js';

export interface BenchGemmFlags extends EngineFlags, GemmBenchOptions {
  json?: boolean;
  shapes?: GemmShape[];
}

/** Throughput ratios between engines for one shape, all measured in the same run. */
export interface GemmRatio {
  label: string;
  m: number;
  k: number;
  n: number;
  blas_over_js?: number;
  wasm_over_js?: number;
  wasm_over_blas?: number;
}

export function runBenchGemm(flags: BenchGemmFlags, io: CliIO): void {
  const engines = enginesToMeasure(flags, io);
  const shapes = flags.shapes ?? PAPER_GEMM_SHAPES;
  const results: GemmBenchResult[] = [];
  const total = engines.length * shapes.length;
  for (const shape of shapes) {
    for (const engine of engines) {
      if (io.errIsTTY) {
        io.err(
          `\r\x1b[K[${results.length + 1}/${total}] ${engine.name} ${shape.m}x${shape.k}x${shape.n} ...`,
        );
      }
      results.push(benchGemm(engine, shape, flags));
    }
  }
  if (io.errIsTTY) io.err('\r\x1b[K');
  const ratios: GemmRatio[] = [];
  for (const shape of shapes) {
    const of = (name: string): GemmBenchResult | undefined =>
      results.find((r) => r.engine === name && r.label === shape.label);
    const ratio: GemmRatio = { label: shape.label, m: shape.m, k: shape.k, n: shape.n };
    for (const [top, bottom, key] of RATIO_PAIRS) {
      const a = of(top);
      const b = of(bottom);
      if (a && b) ratio[key] = a.gflops / b.gflops;
    }
    if (Object.keys(ratio).length > 4) ratios.push(ratio);
  }
  const engineInfo = engines.map((e) => e.info());
  // each product as a fraction of the CPU's FMA peak on the same threads, measured in this run
  const peaks = new Map<number, MachinePeak | { unavailable: string }>();
  for (const e of engineInfo) if (!peaks.has(e.threads)) peaks.set(e.threads, measureFmaPeak(e.threads));
  const peakOf = (engine: string): number | null => {
    const threads = engineInfo.find((e) => e.name === engine)?.threads;
    const peak = threads === undefined ? undefined : peaks.get(threads);
    return peak && 'gflops' in peak ? peak.gflops : null;
  };
  const measured = results.map((r) => {
    const peak = peakOf(r.engine);
    return peak === null ? r : { ...r, of_peak: r.gflops / peak };
  });
  if (flags.json) {
    const peak = [...peaks.values()];
    io.out(
      JSON.stringify({ version: packageVersion(), engines: engineInfo, peak, results: measured, ratios }) +
        '\n',
    );
    return;
  }
  printTable(engineInfo, measured, ratios, peaks, io);
}

const trans = (r: { transA: boolean; transB: boolean }): string =>
  `${r.transA ? 'T' : 'N'}${r.transB ? 'T' : 'N'}`;

function printTable(
  engines: ReturnType<Engine['info']>[],
  results: (GemmBenchResult & { of_peak?: number })[],
  ratios: GemmRatio[],
  peaks: Map<number, MachinePeak | { unavailable: string }>,
  io: CliIO,
): void {
  for (const e of engines) {
    const core = e.openblasCore ? `, OpenBLAS core ${e.openblasCore}` : '';
    const kernels = e.wasmKernels ? `, ${e.wasmKernels} kernels` : '';
    io.out(`engine ${e.name}: ${e.threads} thread${e.threads === 1 ? '' : 's'}${core}${kernels}\n`);
  }
  for (const [threads, peak] of peaks) {
    io.out(
      'gflops' in peak
        ? `peak: ${peak.gflops.toFixed(0)} GFLOP/s float32 FMA on ${threads} thread${threads === 1 ? '' : 's'} (${peak.path}, measured in this run)\n`
        : `peak: not measured (${peak.unavailable})\n`,
    );
  }
  const header = ['engine', 'm x k x n', 'op', 'GFLOP/s', '% peak', 'us/call', 'shape'];
  const rows = results.map((r) => [
    r.engine,
    `${r.m}x${r.k}x${r.n}`,
    trans(r),
    r.gflops.toFixed(2),
    r.of_peak === undefined ? '-' : (100 * r.of_peak).toFixed(r.of_peak < 0.1 ? 2 : 1),
    r.us_per_call.toFixed(r.us_per_call < 10 ? 3 : 1),
    r.label,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]): string =>
    row.map((cell, i) => (i >= 3 && i <= 5 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ');
  io.out('\n' + fmt(header).trimEnd() + '\n');
  for (const row of rows) io.out(fmt(row).trimEnd() + '\n');
  if (ratios.length > 0) {
    const pairs = RATIO_PAIRS.filter(([, , key]) => ratios.some((r) => r[key] !== undefined));
    io.out('\nthroughput ratios (same run):\n');
    io.out(`  ${'m x k x n'.padEnd(16)} ${pairs.map(([a, b]) => `${a}/${b}`.padStart(10)).join(' ')}\n`);
    for (const r of ratios) {
      const cells = pairs.map(([, , key]) => {
        const v = r[key];
        return (v === undefined ? '-' : `${v.toFixed(v < 10 ? 2 : 1)}x`).padStart(10);
      });
      io.out(`  ${`${r.m}x${r.k}x${r.n}`.padEnd(16)} ${cells.join(' ')}\n`);
    }
  }
}
