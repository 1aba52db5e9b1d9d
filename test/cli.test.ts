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

  it('bench gemm --json reports every engine and shape, and blas/js ratios', async () => {
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
    expect(report.ratios).toHaveLength(engines.length === 2 ? 2 : 0);
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
    [['info', '--engine', 'gpu'], /Allowed choices are auto, blas, js/],
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
    expect(bad.err).toMatch(/TOPDOWN_ENGINE must be one of auto, blas, js/);
    noStackTrace(bad.err);
  });

  describe('without the native addon', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'topdown-noaddon-'));
      cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
      cpSync(join(root, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('falls back to js with a one-line notice', () => {
      const r = spawnCli(
        ['bench', 'gemm', '--shapes', '2x2x2', '--reps', '3', '--min-rep-ms', '1'],
        {},
        join(dir, 'dist/cli/main.js'),
      );
      expect(r.code).toBe(0);
      expect(r.err.trim().split('\n')).toEqual([
        expect.stringMatching(/^topdown: notice: blas engine unavailable \(.+\); using the js engine$/),
      ]);
      expect(r.out).toMatch(/^js\s+2x2x2/m);
    });

    it('exits 3 when blas is asked for explicitly', () => {
      const r = spawnCli(['info', '--engine', 'blas'], {}, join(dir, 'dist/cli/main.js'));
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/the blas engine is unavailable/);
      noStackTrace(r.err);
    });
  });
});
