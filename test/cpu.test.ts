import { describe, expect, it } from 'vitest';

import { chooseOpenBlasCoreType, parseCpuInfo } from '../src/core/cpu.js';

const cpuinfo = (vendor: string, family: number, model: number, name: string, flags: string): string =>
  [
    'processor\t: 0',
    `vendor_id\t: ${vendor}`,
    `cpu family\t: ${family}`,
    `model\t\t: ${model}`,
    `model name\t: ${name}`,
    `flags\t\t: ${flags}`,
    '',
    'processor\t: 1',
    'model name\t: second processor (ignored)',
  ].join('\n');

const AVX512 =
  'fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl amx_tile';

describe('CPU detection', () => {
  it('parses the first processor block', () => {
    const info = parseCpuInfo(cpuinfo('GenuineIntel', 6, 207, 'INTEL(R) XEON(R) PLATINUM 8581C', AVX512), 2);
    expect(info.vendor).toBe('GenuineIntel');
    expect(info.family).toBe(6);
    expect(info.modelNumber).toBe(207);
    expect(info.model).toBe('INTEL(R) XEON(R) PLATINUM 8581C');
    expect(info.flags.has('avx512bw')).toBe(true);
    expect(info.cores).toBe(2);
  });

  it('forces SkylakeX kernels on AVX-512 CPUs that OpenBLAS 0.3.21 does not know (Emerald Rapids)', () => {
    expect(chooseOpenBlasCoreType(parseCpuInfo(cpuinfo('GenuineIntel', 6, 207, 'Xeon', AVX512), 2))).toBe(
      'SkylakeX',
    );
  });

  it('picks Haswell for AVX2 machines and leaves older ones to OpenBLAS', () => {
    const avx2 = parseCpuInfo(cpuinfo('AuthenticAMD', 23, 49, 'EPYC', 'sse4_2 avx avx2 fma'), 4);
    expect(chooseOpenBlasCoreType(avx2)).toBe('Haswell');
    const old = parseCpuInfo(cpuinfo('GenuineIntel', 6, 42, 'Core i7', 'sse4_2 avx'), 4);
    expect(chooseOpenBlasCoreType(old)).toBeUndefined();
    expect(chooseOpenBlasCoreType(parseCpuInfo('', 1))).toBeUndefined();
  });
});
