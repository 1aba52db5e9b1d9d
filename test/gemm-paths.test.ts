/**
 * The blas engine's two GEMM paths: oneDNN where the system has it (A B and A^T B directly, A B^T after
 * transposing B or the whole product), OpenBLAS for small products (and for everything with
 * TOPDOWN_GEMM=openblas, or without oneDNN). Each route agrees with float64, trains the same run to the same
 * bits run after run, and the two paths agree within float32 rounding.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadBlasAddon } from '../src/core/blas-addon.js';
import { createEngine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';

import { checkGemmCase, type GemmCase } from './gemm-check.js';

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

  // Shapes that take each of the addon's routes (see native/topdown_blas.cc, UseDnnl and TransposeBFirst):
  // A B and A^T B straight to oneDNN, a skinny product over its size floor, A B^T with a small B (B is
  // transposed first), A B^T with few rows of A (the whole product is transposed), and a product small enough
  // for OpenBLAS; each with beta 0 over NaN, 0.9 and 1, odd sizes, offsets and padded strides, on one thread
  // (where beta != 0 goes to OpenBLAS) and on two.
  it.each([1, 2])('every route matches the float64 reference (%i threads)', (threads) => {
    const { engine } = createEngine({ engine: 'blas', threads });
    const rng = Rng.fromSeed(threads);
    const shapes: [string, boolean, boolean, Pick<GemmCase, 'm' | 'n' | 'k'>][] = [
      ['A B', false, false, { m: 67, n: 129, k: 601 }],
      ['A^T B', true, false, { m: 129, n: 67, k: 301 }],
      ['skinny A B', false, false, { m: 2999, n: 33, k: 25 }],
      ['A B^T, small B', false, true, { m: 301, n: 11, k: 701 }],
      ['A^T B^T, small B', true, true, { m: 301, n: 11, k: 701 }],
      ['A B^T, few rows of A', false, true, { m: 41, n: 301, k: 401 }],
      ['A^T B^T, few rows of A', true, true, { m: 41, n: 301, k: 401 }],
      ['small', false, true, { m: 9, n: 17, k: 33 }],
    ];
    for (const [label, transA, transB, size] of shapes) {
      for (const [alpha, beta] of [
        [1, 0],
        [-0.5, 0.9],
        [2.25, 1],
      ] as const) {
        const c: GemmCase = { ...size, alpha, beta, pad: 3, offset: 5 };
        try {
          checkGemmCase(engine, transA, transB, c, rng);
        } catch (error) {
          throw new Error(`${label}, alpha ${alpha}, beta ${beta}: ${(error as Error).message}`);
        }
      }
    }
  });

  // oneDNN 2.x's JIT sgemm points the stack pointer into the heap while it runs (oneDNN issue #4845): a signal
  // handled inside it corrupts the heap. Node's sampling profiler sends the main thread SIGPROF about every
  // millisecond; before the addon blocked signals around oneDNN's products this aborted every time.
  it.runIf(dnnl || process.env.CI === 'true')(
    "signals arriving during oneDNN's products (a sampling profiler's) leave the heap intact",
    () => {
      const dir = join(tmp, 'profile');
      const r = spawnSync(
        process.execPath,
        [
          '--cpu-prof',
          '--cpu-prof-dir',
          dir,
          '--cpu-prof-interval',
          '100',
          cli,
          'bench',
          'gemm',
          '--engine',
          'blas',
          '--threads',
          '2',
          '--shapes',
          '64x3072x1024:NT,1024x64x3072:TN,301x701x40:NT',
          '--reps',
          '5',
          '--min-rep-ms',
          '5',
        ],
        { encoding: 'utf8', timeout: 180_000 },
      );
      expect(r.stderr).not.toMatch(/corrupted|malloc|double free/);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/64x3072x1024\s+NT/);
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
