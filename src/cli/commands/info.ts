import os from 'node:os';

import { loadBlasAddon } from '../../core/blas-addon.js';
import { chooseOpenBlasCoreType, readCpuInfo } from '../../core/cpu.js';
import type { EngineInfo } from '../../core/engine.js';
import { printable, quoted } from '../../core/untrusted.js';
import { measureFmaPeak, type MachinePeak } from '../../bench/machine.js';
import { engineFromFlags, type EngineFlags } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { packageVersion } from '../package-info.js';

/** Everything `topdown info --json` prints. */
export interface InfoReport {
  version: string;
  node: string;
  platform: string;
  engine: EngineInfo;
  blasAvailable: boolean;
  blasUnavailableReason?: string;
  /** Why `auto` passed over the wasm engine too (its kernels not built, no WebAssembly SIMD). */
  wasmUnavailableReason?: string;
  openblasCoreTypeEnv?: string;
  openblasCoreTypeChoice?: string;
  /** The CPU's float32 FMA peak on the engine's threads, measured (or why it was not). */
  peak: MachinePeak | { unavailable: string };
  /** The library that makes the engine's matrix products. */
  gemmPath: string;
  cpu: {
    model: string;
    vendor: string;
    family: number | null;
    model_number: number | null;
    cores: number;
    simd: string[];
  };
}

/** Which library makes the products of an engine. */
function gemmPath(e: EngineInfo): string {
  const openblas = `OpenBLAS (${e.openblasCore ?? 'its own'} kernels)`;
  if (e.name === 'blas' && e.dnnl)
    return `${e.dnnl} for products of 2^21 multiply-adds or more or no dimension under 32 (A B^T through a transpose), ${openblas} for the rest`;
  if (e.name === 'blas') return `${openblas}; oneDNN not in use: ${e.dnnlUnavailableReason ?? 'unknown'}`;
  if (e.name === 'wasm') return `WebAssembly (${e.wasmKernels ?? 'simd'} kernels)`;
  return 'TypeScript (the portable reference)';
}

export function infoReport(flags: EngineFlags, io: CliIO): InfoReport {
  const { engine, wasmReason } = engineFromFlags(flags, io, true);
  const load = loadBlasAddon();
  // Once topdown has chosen the core type, OPENBLAS_CORETYPE holds its choice, not the user's.
  const userCoreType = load.ok && load.coreTypeForced ? undefined : process.env.OPENBLAS_CORETYPE;
  const cpu = readCpuInfo();
  const report: InfoReport = {
    version: packageVersion(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    engine: engine.info(),
    blasAvailable: load.ok,
    peak: measureFmaPeak(engine.info().threads),
    gemmPath: gemmPath(engine.info()),
    cpu: {
      model: cpu.model,
      vendor: cpu.vendor,
      family: cpu.family,
      model_number: cpu.modelNumber,
      cores: cpu.cores,
      simd: [...cpu.flags].filter((f) => /^(avx|fma|sse4|neon|asimd)/.test(f)).sort(),
    },
  };
  if (!load.ok) report.blasUnavailableReason = load.reason;
  if (wasmReason) report.wasmUnavailableReason = wasmReason;
  if (userCoreType) report.openblasCoreTypeEnv = userCoreType;
  const choice = chooseOpenBlasCoreType(cpu);
  if (choice) report.openblasCoreTypeChoice = choice;
  return report;
}

export function runInfo(flags: EngineFlags & { json?: boolean }, io: CliIO): void {
  const r = infoReport(flags, io);
  if (flags.json) {
    io.out(JSON.stringify(r, null, 2) + '\n');
    return;
  }
  const e = r.engine;
  const lines = [
    `topdown ${r.version} (Node ${r.node}, ${r.platform})`,
    `engine:   ${e.name}${e.name !== 'blas' && !r.blasAvailable ? ` (blas unavailable: ${r.blasUnavailableReason})` : ''}`,
    `threads:  ${e.threads}`,
    `gemm:     ${r.gemmPath}`,
    'gflops' in r.peak
      ? `peak:     ${r.peak.gflops.toFixed(0)} GFLOP/s float32 FMA (${r.peak.path}, ${r.peak.threads} thread${r.peak.threads === 1 ? '' : 's'}; measured)`
      : `peak:     not measured: ${r.peak.unavailable}`,
  ];
  if (r.wasmUnavailableReason) lines.push(`wasm:     unavailable: ${r.wasmUnavailableReason}`);
  if (e.wasmKernels) {
    const memory = e.wasmSharedMemory ? 'shared memory' : 'unshared memory (one thread)';
    const why = e.wasmKernelsReason ? `; ${e.wasmKernelsReason}` : '';
    lines.push(`wasm:     ${e.wasmKernels} kernels, ${memory}${why}`);
  }
  if (e.openblasCore) {
    // OPENBLAS_CORETYPE is OpenBLAS's to read (other programs share it): topdown never refuses it, but says
    // when OpenBLAS did not take it (a misspelt core, or one this CPU lacks), and shows it escaped
    const env = r.openblasCoreTypeEnv;
    const how = e.openblasCoreForced
      ? 'OPENBLAS_CORETYPE set by topdown for this CPU'
      : env && env.toLowerCase() === e.openblasCore.toLowerCase()
        ? `OPENBLAS_CORETYPE=${printable(env)} from the environment`
        : env
          ? `OpenBLAS's own detection: it did not take OPENBLAS_CORETYPE=${quoted(env)} from the environment`
          : "OpenBLAS's own detection";
    lines.push(`openblas: core ${e.openblasCore} (${how})`, `          ${e.openblasConfig}`);
  }
  lines.push(
    `cpu:      ${r.cpu.model || 'unknown'} (${r.cpu.cores} cores${r.cpu.family !== null ? `, family ${r.cpu.family} model ${r.cpu.model_number}` : ''})`,
    `simd:     ${r.cpu.simd.join(' ') || 'unknown'}`,
  );
  io.out(lines.join('\n') + '\n');
}
