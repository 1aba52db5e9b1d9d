import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCliCaptured } from './helpers.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli', 'main.js');

const run = runCliCaptured;

/** Runs the built CLI as a user would. */
function spawnCli(args: string[], env: Record<string, string | undefined> = {}, script = cli) {
  const result = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TOPDOWN_ENGINE: undefined, ...env },
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const noStackTrace = (text: string): void => expect(text).not.toMatch(/^\s+at /m);

describe('topdown CLI (in-process)', () => {
  it('prints help with the commands', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/info/);
    expect(r.out).toMatch(/bench/);
    expect((await run([])).out).toMatch(/Usage: topdown/);
  });

  it('info --json is one valid JSON object describing engine, OpenBLAS and CPU', async () => {
    const r = await run(['info', '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(['blas', 'js']).toContain(info.engine.name);
    expect(info.engine.threads).toBeGreaterThanOrEqual(1);
    expect(info.cpu.cores).toBeGreaterThanOrEqual(1);
    if (info.engine.name === 'blas') expect(info.engine.openblasCore).toMatch(/\w+/);
    else expect(info.blasUnavailableReason).toMatch(/\w+/);
  });

  it('info --engine js reports the js engine; plain info is human-readable', async () => {
    const js = JSON.parse((await run(['info', '--json', '--engine', 'js'])).out);
    expect(js.engine).toEqual({ name: 'js', threads: 1 });
    const text = await run(['info']);
    expect(text.out).toMatch(/^engine: +(blas|js)/m);
    expect(text.out).toMatch(/^cpu: /m);
  });

  it('bench gemm --json reports every engine and shape, and the ratios between them', async () => {
    const r = await run([
      'bench',
      'gemm',
      '--json',
      '--shapes',
      '8x16x4,1x40x2:NT',
      '--reps',
      '3',
      '--min-rep-ms',
      '1',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    const engines = report.engines.map((e: { name: string }) => e.name);
    expect(report.results).toHaveLength(2 * engines.length);
    for (const res of report.results) {
      expect(engines).toContain(res.engine);
      expect(res.gflops).toBeGreaterThan(0);
      expect(res.us_per_call).toBeGreaterThan(0);
      expect(res.gflops).toBeCloseTo((2 * res.m * res.n * res.k) / (res.us_per_call * 1e3), 6);
    }
    expect(report.results[2 * engines.length - 1]).toMatchObject({
      m: 1,
      k: 40,
      n: 2,
      transA: false,
      transB: true,
    });
    expect(engines).toEqual(expect.arrayContaining(['wasm', 'js']));
    expect(report.ratios).toHaveLength(2);
    for (const ratio of report.ratios) {
      expect(ratio.wasm_over_js).toBeGreaterThan(0);
      if (engines.includes('blas')) expect(ratio.wasm_over_blas).toBeGreaterThan(0);
    }
  });

  it('bench gemm prints a table; --engine js measures only js', async () => {
    const r = await run([
      'bench',
      'gemm',
      '--engine',
      'js',
      '--shapes',
      '4x4x4',
      '--reps',
      '3',
      '--min-rep-ms',
      '1',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^js\s+4x4x4\s+NN\s+[\d.]+\s+[\d.]+/m);
    expect(r.out).not.toMatch(/^blas/m);
  });

  it('bench train --json reports training throughput for each rule', async () => {
    for (const rule of ['pepita', 'bp', 'dfa']) {
      const r = await run([
        'bench',
        'train',
        '--json',
        '--rule',
        rule,
        '--data',
        'mnist',
        '--hidden',
        '32,16',
        '--batches',
        '3',
        '--warmup',
        '1',
      ]);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.out);
      expect(report).toMatchObject({ rule, data: 'mnist', sizes: [784, 32, 16, 10], batch: 64, batches: 3 });
      expect(report.samples_per_s).toBeGreaterThan(0);
      expect(report.samples_per_s).toBeCloseTo((64 * 1000) / report.ms_per_batch, 3);
      // every available engine measured in the same run, the first being the one auto trains on
      const names = report.engines.map((e: { engine: { name: string } }) => e.engine.name);
      expect(names).toEqual(expect.arrayContaining(['wasm', 'js']));
      expect(names[0]).toBe(report.engine.name);
      expect(report.ratios.wasm_over_js).toBeCloseTo(
        report.engines.find((e: { engine: { name: string } }) => e.engine.name === 'wasm').samples_per_s /
          report.engines.find((e: { engine: { name: string } }) => e.engine.name === 'js').samples_per_s,
        6,
      );
    }
    const text = await run([
      'bench',
      'train',
      '--mode',
      'time-local',
      '--data',
      'cifar100',
      '--hidden',
      '8',
      '--batches',
      '2',
    ]);
    expect(text.out).toMatch(
      // time-local's own default batch (the bench builds the model as train does)
      /rule pepita \(time-local\) on cifar100-shaped synthetic data, net 3072-8-100, batch 32/,
    );
    expect(text.out).toMatch(/\d+ samples\/s/);
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['bench', 'train', '--rule', 'hebb'], /Allowed choices are pepita, afa, bp, fa, dfa, drtp, ff/],
    [
      ['bench', 'train', '--hidden', '1024,0'],
      /--hidden must be a comma-separated list of positive integers/,
    ],
    [['bench', 'train', '--dropout', '1'], /--dropout must be a number in \[0, 1\)/],
    [['bench', 'train', '--lr', 'fast'], /--lr must be a number >= 0/],
    [['info', '--bogus'], /unknown option '--bogus'/],
    [['bench', 'gemm', '--reps', 'many'], /--reps must be a positive integer/],
    [['bench', 'gemm', '--reps', '0'], /--reps must be a positive integer/],
    [['bench', 'gemm', '--shapes', '3x4'], /bad shape "3x4"/],
    [['info', '--threads', '-2'], /threads must be a positive integer/],
    [['info', '--engine', 'gpu'], /Allowed choices are auto, blas, wasm, js/],
  ])('user mistake %j prints one line and exits 2', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
    noStackTrace(r.err);
  });
});

describe('topdown CLI (built, spawned)', () => {
  beforeAll(() => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first (npm test does)`);
  });

  it('info --json prints valid JSON', () => {
    const r = spawnCli(['info', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).version).toBe(
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    );
  });

  it('bad flags exit 2 with a one-line message and no stack trace', () => {
    const r = spawnCli(['bench', 'gemm', '--reps', 'x']);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    noStackTrace(r.err);
  });

  it('honours TOPDOWN_ENGINE and rejects a bad value with exit 2', () => {
    expect(JSON.parse(spawnCli(['info', '--json'], { TOPDOWN_ENGINE: 'js' }).out).engine.name).toBe('js');
    const bad = spawnCli(['info'], { TOPDOWN_ENGINE: 'cuda' });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/TOPDOWN_ENGINE must be one of auto, blas, wasm, js/);
    noStackTrace(bad.err);
  });

  describe('without the native addon', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'topdown-noaddon-'));
      cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
      cpSync(join(root, 'wasm'), join(dir, 'wasm'), { recursive: true });
      cpSync(join(root, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('auto falls back to wasm with a one-line notice; bench gemm measures wasm and js', () => {
      const cli = join(dir, 'dist/cli/main.js');
      const info = spawnCli(['info', '--json'], {}, cli);
      expect(info.code).toBe(0);
      expect(JSON.parse(info.out).engine).toMatchObject({ name: 'wasm', wasmSharedMemory: true });
      const text = spawnCli(['info'], {}, cli).out;
      expect(text).toMatch(/^engine: {3}wasm \(blas unavailable: .+\)$/m);
      expect(text).toMatch(/^wasm: {5}(relaxed-simd|simd) kernels, shared memory/m);
      const r = spawnCli(['bench', 'gemm', '--shapes', '2x2x2', '--reps', '3', '--min-rep-ms', '1'], {}, cli);
      expect(r.code).toBe(0);
      expect(r.err.trim().split('\n')).toEqual([
        expect.stringMatching(/^topdown: notice: the blas engine is unavailable: .+; not measured$/),
      ]);
      expect(r.out).toMatch(/^wasm\s+2x2x2/m);
      expect(r.out).toMatch(/^js\s+2x2x2/m);
      expect(r.out).toMatch(/wasm\/js/);
    });

    it('falls back to js, naming both reasons, when the wasm kernels are missing too', () => {
      const bare = mkdtempSync(join(tmpdir(), 'topdown-nowasm-'));
      try {
        cpSync(join(root, 'dist'), join(bare, 'dist'), { recursive: true });
        cpSync(join(root, 'package.json'), join(bare, 'package.json'));
        symlinkSync(join(root, 'node_modules'), join(bare, 'node_modules'));
        const r = spawnCli(['info', '--json'], {}, join(bare, 'dist/cli/main.js'));
        expect(r.code).toBe(0);
        const report = JSON.parse(r.out);
        expect(report.engine.name).toBe('js');
        expect(report.wasmUnavailableReason).toMatch(/its kernels are not built/);
        const b = spawnCli(
          ['bench', 'gemm', '--shapes', '2x2x2', '--reps', '3', '--min-rep-ms', '1'],
          {},
          join(bare, 'dist/cli/main.js'),
        );
        expect(b.err.trim().split('\n')).toEqual([
          expect.stringMatching(/^topdown: notice: the blas engine is unavailable: .+; not measured$/),
          expect.stringMatching(
            /^topdown: notice: the wasm engine is unavailable: its kernels are not built .+; not measured$/,
          ),
        ]);
        const forced = spawnCli(['info', '--engine', 'wasm'], {}, join(bare, 'dist/cli/main.js'));
        expect(forced.code).toBe(3);
        expect(forced.err).toMatch(/the wasm engine is unavailable: its kernels are not built/);
        noStackTrace(forced.err);
      } finally {
        rmSync(bare, { recursive: true, force: true });
      }
    });

    it('exits 3 when blas is asked for explicitly', () => {
      const r = spawnCli(['info', '--engine', 'blas'], {}, join(dir, 'dist/cli/main.js'));
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/the blas engine is unavailable/);
      noStackTrace(r.err);
    });
  });
});
