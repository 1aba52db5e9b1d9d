/**
 * CPU facts needed to drive OpenBLAS: the model string and the core type to force when OpenBLAS's own
 * detection is known to fail.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** What /proc/cpuinfo says about the first processor (empty fields where it cannot be read). */
export interface CpuInfo {
  model: string;
  vendor: string;
  family: number | null;
  modelNumber: number | null;
  flags: ReadonlySet<string>;
  cores: number;
}

/** Parses the first processor block of a /proc/cpuinfo text. */
export function parseCpuInfo(text: string, cores: number): CpuInfo {
  const field = (name: string): string | undefined => {
    const match = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text);
    return match?.[1]?.trim();
  };
  const num = (name: string): number | null => {
    const v = field(name);
    return v === undefined || !/^\d+$/.test(v) ? null : Number(v);
  };
  return {
    model: field('model name') ?? '',
    vendor: field('vendor_id') ?? '',
    family: num('cpu family'),
    modelNumber: num('model'),
    flags: new Set((field('flags') ?? '').split(/\s+/).filter(Boolean)),
    cores,
  };
}

/** This machine's CPU; falls back to Node's view where /proc/cpuinfo is absent (macOS, Windows). */
export function readCpuInfo(): CpuInfo {
  const cores = os.availableParallelism();
  try {
    return parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'), cores);
  } catch {
    return {
      model: os.cpus()[0]?.model ?? '',
      vendor: '',
      family: null,
      modelNumber: null,
      flags: new Set(),
      cores,
    };
  }
}

const AVX512 = ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'];

/**
 * The OPENBLAS_CORETYPE to force on this CPU, or undefined to let OpenBLAS decide.
 *
 * Debian 12's OpenBLAS 0.3.21 does not know CPUs newer than itself (Sapphire/Emerald Rapids, family 6 model
 * 143/207) and falls back to generic SSE3 kernels, about 8x slower. Forcing the newest kernel family the
 * CPU's instruction set supports fixes that and is harmless where detection already works: AVX-512
 * (F/CD/BW/DQ/VL) selects SkylakeX, AVX2 with FMA selects Haswell.
 */
export function chooseOpenBlasCoreType(cpu: CpuInfo): string | undefined {
  if (AVX512.every((flag) => cpu.flags.has(flag))) return 'SkylakeX';
  if (cpu.flags.has('avx2') && cpu.flags.has('fma')) return 'Haswell';
  return undefined;
}
