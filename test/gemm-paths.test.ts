/**
 * The blas engine's two GEMM paths: oneDNN for A B and A^T B where the system has it, OpenBLAS for the rest
 * (and for everything with TOPDOWN_GEMM=openblas, or without oneDNN). Each path agrees with float64, trains
 * the same run to the same bits run after run, and the two agree within float32 rounding.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadBlasAddon } from '../src/core/blas-addon.js';

import { writeSyntheticMnist } from './train-helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const blas = loadBlasAddon().ok;
// CI installs oneDNN (libdnnl-dev); elsewhere the oneDNN cases run where it is present
const dnnl = blas && (loadBlasAddon() as { gemm?: { dnnl: string | null } }).gemm?.dnnl != null;

function topdown(
  args: string[],
  gemm: 'auto' | 'openblas' | string,
): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, TOPDOWN_GEMM: gemm },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.runIf(blas || process.env.CI === 'true')("the blas engine's GEMM paths", () => {
  let tmp: string;
  let data: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'topdown-gemm-paths-'));
    data = join(tmp, 'data');
    writeSyntheticMnist(data, 4, 600, 100);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it.runIf(dnnl || process.env.CI === 'true')(
    'oneDNN is found and named; TOPDOWN_GEMM=openblas hides it',
    () => {
      const auto = JSON.parse(topdown(['info', '--json', '--engine', 'blas'], 'auto').out);
      expect(auto.engine.dnnl).toMatch(/^oneDNN \d+\.\d+\.\d+$/);
      const hidden = JSON.parse(topdown(['info', '--json', '--engine', 'blas'], 'openblas').out);
      expect(hidden.engine.dnnl).toBeUndefined();
      expect(hidden.engine.dnnlUnavailableReason).toBe('not asked for (TOPDOWN_GEMM=openblas)');
      expect(hidden.gemmPath).toMatch(/^OpenBLAS/);
    },
  );

  it('a bad TOPDOWN_GEMM is one line naming it, exit 2', () => {
    const r = topdown(['info'], 'mkl');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('topdown: TOPDOWN_GEMM must be auto or openblas; got "mkl"');
  });

  it('each path trains to the same bits run after run; the two agree within float32 rounding', () => {
    const metrics = (gemm: string, name: string): Record<string, number>[] => {
      const out = join(tmp, name);
      const r = topdown(
        [
          'train',
          '--rule',
          'bp',
          '--data',
          'mnist',
          '--hidden',
          '64,32',
          '--batch-size',
          '50',
          '--epochs',
          '2',
          '--engine',
          'blas',
          '--threads',
          '1',
          '--data-dir',
          data,
          '--out',
          out,
        ],
        gemm,
      );
      expect(r.code, r.err).toBe(0);
      return readFileSync(join(out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, number>)
        .map(({ seconds, samples_per_s, ...rest }) => (void seconds, void samples_per_s, rest));
    };
    const auto = [metrics('auto', 'auto-1'), metrics('auto', 'auto-2')];
    const openblas = [metrics('openblas', 'openblas-1'), metrics('openblas', 'openblas-2')];
    expect(auto[1]).toEqual(auto[0]);
    expect(openblas[1]).toEqual(openblas[0]);
    const last = (m: Record<string, number>[]) => m.at(-1)!;
    expect(Math.abs(last(auto[0]!).train_loss! - last(openblas[0]!).train_loss!)).toBeLessThan(1e-3);
    expect(Math.abs(last(auto[0]!).test_acc! - last(openblas[0]!).test_acc!)).toBeLessThanOrEqual(0.02);
  });
});
