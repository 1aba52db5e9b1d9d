/**
 * Issue 28, defects 10-14 and the two identical sweeps: `sweep` and `reproduce` refuse, in one line and before
 * anything is written, a grid they would silently shrink or that cannot make distinct runs, a plan too large to
 * make, a budget that would replace another sweep's manifest, and a second runner in a busy results folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EXIT } from '../src/cli/program.js';
import { checkRunCount } from '../src/experiments/plan.js';
import { runState } from '../src/runner/local.js';

import { runCliCaptured } from './helpers.js';
import { writeSyntheticMnist } from './train-helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
let tmp: string;
let data: string;
let base: string;

/** The built CLI as a process of its own, as a user runs it. */
function topdown(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'topdown-trust-sweep-'));
  data = join(tmp, 'data');
  writeSyntheticMnist(data, 3, 400, 100);
  base = join(tmp, 'base.yaml');
  writeFileSync(
    base,
    'data: mnist\nhidden: [8]\nepochs: 1\ntrainSubset: 200\ntestSubset: 50\nbatchSize: 50\n',
  );
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const runsOf = (out: string): string[] =>
  existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')).sort() : [];

/** `topdown sweep BASE ...args` in-process into a fresh folder: exit 2, one line matching `message`, no folder. */
async function refusedSweep(args: string[], message: RegExp): Promise<void> {
  const out = mkdtempSync(join(tmp, 'refused-'));
  rmSync(out, { recursive: true });
  const r = await runCliCaptured(['sweep', base, ...args, '--data-dir', data, '--out', out]);
  expect(r.code, r.err).toBe(EXIT.usage);
  expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(1);
  expect(r.err.trimEnd()).toMatch(message);
  expect(existsSync(out), 'nothing written').toBe(false);
}

describe('sweep --grid', () => {
  it('10: an option given twice is refused, naming both and the grid meant, instead of keeping the last', async () => {
    await refusedSweep(
      ['--grid', 'lr=0.01,0.02', '--grid', 'lr=0.03'],
      /^topdown: --grid "lr=0.03": lr is already in --grid "lr=0.01,0.02"; give each option once, with all its values \("lr=0.01,0.02,0.03"\)$/,
    );
    // the flag and the config key are one option; list options join with "/"
    await refusedSweep(
      ['--grid', 'batch-size=50', '--grid', 'batchSize=25'],
      /batchSize is already in --grid "batch-size=50"/,
    );
    await refusedSweep(['--grid', 'hidden=8/16', '--grid', '--hidden=4'], /\("hidden=8\/16\/4"\)$/);
    // as is a value given twice (one point, two cells of the report)
    await refusedSweep(['--grid', 'lr=0.1,0.10'], /--grid "lr=0.1,0.10": "0.1" twice/);
  });

  it('11: a grid over the seed points at --seeds; over what a run id leaves out, says the runs would be one', async () => {
    await refusedSweep(
      ['--grid', 'seed=1,2'],
      /^topdown: --grid "seed=1,2": every point runs seeds 0 to N-1 of --seeds N \(a seed in the grid is overridden\): give --seeds$/,
    );
    for (const [spec, instead] of [
      ['epochs=1,2', /give --epochs N for every run/],
      ['data-dir=a,b', /give --data-dir$/],
      ['threads=1,2', /give --threads/],
      ['engine=js,wasm', /set it in the config file/],
      ['max-memory=1,2', /set it in the config file/],
      ['tensorboard=true,false', /set it in the config file/],
    ] as const) {
      const flag = spec.split('=')[0]!;
      await refusedSweep(
        ['--grid', spec],
        new RegExp(
          `: ${flag} is not part of a run's id \\(the points would be one run folder, trained once\\)`,
        ),
      );
      await refusedSweep(['--grid', spec], instead);
    }
  });

  it('a config file whose name cannot name the manifest needs --name', async () => {
    const odd = join(tmp, 'my base.yaml');
    writeFileSync(odd, readFileSync(base));
    const out = join(tmp, 'out-odd');
    const r = await runCliCaptured(['sweep', odd, '--data-dir', data, '--out', out]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toMatch(
      /^topdown: the config file's name "my base" cannot name OUT\/experiments\/NAME.json .*: give --name\n$/,
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('plans too large to make are refused before planning', () => {
  it('13: a grid of 10^6 points: one line with the count and --max-runs, at once, nothing written', async () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1).join(',');
    const started = performance.now();
    await refusedSweep(
      ['--grid', `batch-size=${values}`, '--grid', `val-split=${values}`],
      /^topdown: the grid: 1000 batchSize values x 1000 valSplit values x 1 seed = 1000000 runs, more than --max-runs 10000: ask for fewer \(--max-runs goes up to 100000\)$/,
    );
    expect(performance.now() - started).toBeLessThan(10_000);
    await refusedSweep(
      ['--grid', 'lr=0.1,0.2,0.3', '--seeds', '2', '--max-runs', '5'],
      /3 lr values x 2 seeds = 6 runs, more than --max-runs 5: ask for fewer, or raise --max-runs to 6$/,
    );
    await refusedSweep(
      ['--seeds', '99999999999'],
      /: the grid: 99999999999 seeds = 99999999999 runs, more than/,
    );
    await refusedSweep(['--max-runs', '100001'], /--max-runs must be an integer from 1 to 100000/);
  });

  it('the count is exact however large, and a plan within the limit passes', () => {
    expect(
      checkRunCount(
        'x',
        [
          [3, '3 a'],
          [2, '2 seeds'],
        ],
        6,
      ),
    ).toBe(6);
    expect(() =>
      checkRunCount(
        'x',
        [
          [99999999999, 'n'],
          [99999999999, 'm'],
        ],
        10,
      ),
    ).toThrow(/^x: n x m = 9999999999800000000001 runs, more than --max-runs 10/);
  });

  it('14: reproduce --seeds 99999999999 answers in one line at once (a real process), nothing written', () => {
    const out = join(tmp, 'out-seeds');
    const started = performance.now();
    const r = topdown(['reproduce', 'baselines', '--seeds', '99999999999', '--out', out]);
    // generous for a busy machine: it used to plan 10^11 jobs
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(r.code, r.err).toBe(EXIT.usage);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err.trimEnd()).toMatch(
      /^topdown: baselines: \d+ cells x 99999999999 seeds = \d+ runs, more than --max-runs 10000: ask for fewer \(--max-runs goes up to 100000\)$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('an experiment file from elsewhere with 10^11 seeds is refused when it is loaded', async () => {
    const file = join(tmp, 'big.yaml');
    writeFileSync(
      file,
      'name: big\ndescription: x\nseeds: 99999999999\ncells:\n  - { id: a, config: { rule: bp } }\n',
    );
    const out = join(tmp, 'out-big');
    const r = await runCliCaptured(['reproduce', file, '--out', out]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toMatch(/^topdown: experiment .*big\.yaml: seeds: .*100000\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('a planning that the limit allows but takes long still ends on SIGTERM', async () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1).join(',');
    const out = join(tmp, 'out-sigterm');
    // 10^5 runs, the most --max-runs allows: many seconds of planning
    const child = spawn(process.execPath, [
      cli,
      'sweep',
      base,
      '--grid',
      `batch-size=${values}`,
      '--grid',
      `val-split=${values}`,
      '--seeds',
      '10',
      '--max-runs',
      '100000',
      '--queue',
      'redis://127.0.0.1:1',
      '--out',
      out,
    ]);
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const sent = performance.now();
    child.kill('SIGTERM');
    const { code, signal } = await ended;
    expect(performance.now() - sent).toBeLessThan(5000);
    expect(signal === 'SIGTERM' || code === 143, `code ${code}, signal ${signal}`).toBe(true);
  });
});

describe('sweeps into one results folder', () => {
  it('12: a second sweep at another budget that would drop cells of the first is refused; nothing replaced', () => {
    const out = join(tmp, 'out-budget');
    const first = topdown(['sweep', base, '--grid', 'lr=0.05,0.02', '--data-dir', data, '--out', out]);
    expect(first.code, first.err).toBe(0);
    const manifest = join(out, 'experiments', 'base.json');
    const before = readFileSync(manifest, 'utf8');
    const runs = runsOf(out);
    expect(runs).toHaveLength(2);
    const second = topdown([
      'sweep',
      base,
      '--grid',
      'lr=0.05',
      '--seeds',
      '2',
      '--data-dir',
      data,
      '--out',
      out,
    ]);
    expect(second.code, second.err).toBe(EXIT.usage);
    expect(second.err.trimEnd().split('\n')).toHaveLength(1);
    expect(second.err).toMatch(
      /base\.json holds 2 cells at 1 seed x 1 epochs on a data subset; this run's budget \(2 seeds x 1 epochs on a data subset\) would replace it and drop 1 of them.*keep --seeds 1 --epochs 1.*--name/,
    );
    expect(readFileSync(manifest, 'utf8')).toBe(before);
    expect(runsOf(out)).toEqual(runs);
    // apart, under another name, it runs
    const apart = topdown([
      'sweep',
      base,
      '--grid',
      'lr=0.05',
      '--seeds',
      '2',
      '--name',
      'base-2-seeds',
      '--data-dir',
      data,
      '--out',
      out,
    ]);
    expect(apart.code, apart.err).toBe(0);
    expect(readFileSync(manifest, 'utf8')).toBe(before);
  });

  it('two identical sweeps at once: the second names the first and leaves its runs alone', async () => {
    const out = join(tmp, 'out-twice');
    // far more epochs than the first makes before it is stopped, however fast the machine
    const args = ['sweep', base, '--grid', 'lr=0.05,0.02', '--epochs', '5000', '--workers', '1'];
    const first = spawn(process.execPath, [cli, ...args, '--data-dir', data, '--out', out]);
    let firstErr = '';
    first.stderr.on('data', (d: Buffer) => (firstErr += d.toString()));
    const firstEnded = new Promise<number | null>((resolve) => first.on('close', resolve));
    const dir = join(out, 'runs');
    const end = Date.now() + 60_000;
    while (!(existsSync(dir) && readdirSync(dir).some((id) => runState(join(dir, id)).epochs >= 1))) {
      if (Date.now() > end) throw new Error(`the first sweep made no epoch: ${firstErr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const manifest = readFileSync(join(out, 'experiments', 'base.json'), 'utf8');
    const second = topdown([...args, '--data-dir', data, '--out', out]);
    expect(second.code, second.err).toBe(EXIT.usage);
    expect(second.err.trimEnd().split('\n')).toHaveLength(1);
    expect(second.err).toMatch(
      new RegExp(
        `^topdown: ${out} is in use by another topdown process \\(pid ${first.pid}, since [^)]+\\); wait for it to end, or give this one another --out\\n$`,
      ),
    );
    expect(second.err).not.toMatch(/overwrite/);
    expect(readFileSync(join(out, 'experiments', 'base.json'), 'utf8')).toBe(manifest);
    first.kill('SIGINT');
    expect(await firstEnded, firstErr).toBe(130);
    // once the first has ended the folder is free: the same sweep resumes its runs
    const after = topdown([...args.slice(0, 4), '--epochs', '1', '--data-dir', data, '--out', out]);
    expect(after.code, after.err).toBe(0);
    expect(after.err).toMatch(/2 of 2 runs done/);
  }, 120_000);
});

describe('the runner commands and the environment their runs read', () => {
  it('a bad TOPDOWN_ENGINE or TOPDOWN_THREADS, or --threads over the bound, is one line before anything is planned', () => {
    const out = join(tmp, 'env-refused');
    const env = (vars: Record<string, string>, args: string[]) => {
      const r = spawnSync(process.execPath, [cli, ...args], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, ...vars },
      });
      return { code: r.status, err: r.stderr };
    };
    const sweep = ['sweep', base, '--grid', 'lr=0.1', '--data-dir', data, '--out', out];
    for (const [vars, args, message] of [
      [
        { TOPDOWN_ENGINE: 'garbage' },
        sweep,
        /TOPDOWN_ENGINE must be one of auto, blas, wasm, js; got "garbage"/,
      ],
      [{ TOPDOWN_THREADS: 'x' }, sweep, /TOPDOWN_THREADS must be a positive integer; got "x"/],
      [{}, [...sweep, '--threads', '5000'], /--threads must be at most 1024; got "5000"/],
      [
        { TOPDOWN_ENGINE: 'gpu' },
        ['reproduce', 'baselines', '--epochs', '1', '--out', out],
        /TOPDOWN_ENGINE/,
      ],
      [{}, ['worker', '--queue', 'redis://127.0.0.1:1', '--threads', '5000', '--out', out], /at most 1024/],
    ] as const) {
      const r = env(vars, [...args]);
      expect(r.code, r.err).toBe(2);
      expect(r.err.trimEnd().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(message);
      expect(existsSync(out)).toBe(false);
    }
  });
});
