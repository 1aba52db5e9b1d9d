/**
 * Trust boundaries of the engine and the run folder, driven as a user meets them (issue 28, defects 15, 16,
 * 20 and the questionable flags): the real CLI spawned, since environment variables and the native addon are
 * per process. Every refusal is one line, with its exit code, and leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadBlasAddon } from '../src/core/blas-addon.js';

import { writeSyntheticMnist } from './train-helpers.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'topdown-trust-cli-'));
const data = join(tmp, 'data');
beforeAll(() => writeSyntheticMnist(data, 3, 200, 100));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A one-epoch run small enough to take well under a second of training. */
const TRAIN = [
  'train',
  '--data-dir',
  data,
  '--hidden',
  '16',
  '--epochs',
  '1',
  '--decay-epochs',
  '',
  '--json',
];

/** The variables these tests set, cleared from the inherited environment so that the machine's own do not leak in. */
const CLEARED = ['TOPDOWN_ENGINE', 'TOPDOWN_THREADS', 'TOPDOWN_ADDON_DIR', 'TOPDOWN_PARENT_PID'];

interface Result {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the CLI with `env` added to a clean environment (spawned asynchronously, so cases can overlap). */
function topdown(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CLEARED) delete base[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...base, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** stderr is exactly one `topdown:` line (no stack trace) matching `pattern`. */
function oneLine(r: Result, pattern: RegExp): void {
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^topdown: /);
  expect(lines[0]).toMatch(pattern);
}

describe('environment variables (defect 15)', () => {
  it('TOPDOWN_ENGINE=js makes train use js; garbage is one line naming it, exit 2, nothing written', async () => {
    const jsRun = join(tmp, 'env-js');
    const bad = join(tmp, 'env-garbage');
    const [js, ...refused] = await Promise.all([
      topdown([...TRAIN, '--out', jsRun], { TOPDOWN_ENGINE: 'js' }),
      topdown([...TRAIN, '--out', bad], { TOPDOWN_ENGINE: 'garbage' }),
      // checked even where a flag overrides it, so a typo never lies in wait; shown escaped
      topdown([...TRAIN, '--out', bad, '--engine', 'js'], { TOPDOWN_ENGINE: 'fast\u001b[2J' }),
      topdown(['bench', 'train', '--json'], { TOPDOWN_ENGINE: 'garbage' }),
    ]);
    // before: the variable was ignored (blas) and garbage accepted
    expect(js.code, js.err).toBe(0);
    expect(JSON.parse(js.out).engine).toBe('js');
    // the run's config records the engine the variable chose
    expect(JSON.parse(readFileSync(join(jsRun, 'config.json'), 'utf8')).engine).toBe('js');
    for (const r of refused) {
      expect(r.code, r.err).toBe(2);
      oneLine(r, /TOPDOWN_ENGINE must be one of auto, blas, wasm, js; got "(garbage|fast\\x1b\[2J)"$/);
    }
    expect(existsSync(bad)).toBe(false);
    const evalRefused = await topdown(['eval', jsRun, '--json'], { TOPDOWN_ENGINE: 'garbage' });
    expect(evalRefused.code).toBe(2);
    oneLine(evalRefused, /TOPDOWN_ENGINE must be one of/);
  });

  it('TOPDOWN_THREADS and --threads are held to 1..1024 in one line, exit 2', async () => {
    const out = join(tmp, 'threads');
    const results = await Promise.all([
      topdown(['info'], { TOPDOWN_THREADS: '100000' }),
      topdown([...TRAIN, '--out', out, '--engine', 'js'], { TOPDOWN_THREADS: 'lots' }),
      topdown([...TRAIN, '--out', out, '--threads', '100000']),
    ]);
    for (const r of results) {
      expect(r.code, r.err).toBe(2);
      oneLine(r, /(TOPDOWN_THREADS|--threads) must be/);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('a stray TOPDOWN_PARENT_PID (a live process that is not the parent) is ignored', async () => {
    // the runner sets it for its children; a live pid that is not this one's parent is not a runner
    const stranger: ChildProcess = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const r = await topdown([...TRAIN, '--out', join(tmp, 'ppid'), '--engine', 'js', '--epochs', '3'], {
        TOPDOWN_PARENT_PID: String(stranger.pid),
      });
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out).epochs).toBe(3);
    } finally {
      stranger.kill();
    }
  });
});

describe('a damaged or foreign addon file (defect 16)', () => {
  const built = loadBlasAddon();
  const realBuild = join(root, 'build');

  /** A build folder laid out as build/ with `file` as its addon, and the real build's record unless `record` is false. */
  function buildFolder(name: string, file: Buffer, record: boolean): string {
    const dir = join(tmp, 'addons', name);
    mkdirSync(join(dir, 'Release'), { recursive: true });
    writeFileSync(join(dir, 'Release', 'topdown_blas.node'), file);
    if (record) cpSync(join(realBuild, 'addon-status.json'), join(dir, 'addon-status.json'));
    return dir;
  }

  /** Another package's Node addon (a real, loadable N-API module that is not topdown's). */
  function foreignAddon(): string | undefined {
    const candidates = [
      'node_modules/@msgpackr-extract/msgpackr-extract-linux-x64/node.napi.glibc.node',
      'node_modules/@resvg/resvg-js-linux-x64-gnu/resvgjs.linux-x64-gnu.node',
      'node_modules/@resvg/resvg-js-linux-arm64-gnu/resvgjs.linux-arm64-gnu.node',
      'node_modules/@resvg/resvg-js-darwin-arm64/resvgjs.darwin-arm64.node',
      'node_modules/@resvg/resvg-js-darwin-x64/resvgjs.darwin-x64.node',
    ];
    return candidates.map((c) => join(root, c)).find((c) => existsSync(c));
  }

  it.runIf(built.ok)(
    'a truncated copy is refused before loading: auto falls back with one notice, --engine blas is exit 3, info says why',
    async () => {
      const real = readFileSync(join(realBuild, 'Release', 'topdown_blas.node'));
      const truncated = real.subarray(0, Math.floor(real.length / 2));
      const good = buildFolder('good', real, true);
      const recorded = buildFolder('truncated', truncated, true);
      // without the build's record (an older build), the ELF headers catch it
      const unrecorded = buildFolder('truncated-unrecorded', truncated, false);
      const [sane, train, ...runs] = await Promise.all([
        topdown(['info', '--json'], { TOPDOWN_ADDON_DIR: good }),
        topdown([...TRAIN, '--out', join(recorded, 'run'), '--threads', '1'], {
          TOPDOWN_ADDON_DIR: recorded,
        }),
        ...[recorded, unrecorded].flatMap((dir) => [
          topdown(['info'], { TOPDOWN_ADDON_DIR: dir }),
          topdown(['info', '--engine', 'blas'], { TOPDOWN_ADDON_DIR: dir }),
        ]),
      ]);
      expect(sane.code, sane.err).toBe(0);
      expect(JSON.parse(sane.out).engine.name).toBe('blas');
      const why = [
        /not the file the build wrote \(\d+ bytes, the build recorded \d+\); rebuild it with: npm run build:addon/,
        /is truncated \(\d+ bytes; its ELF headers need \d+\)/,
      ];
      for (const [i, pattern] of why.entries()) {
        const [info, blas] = runs.slice(2 * i, 2 * i + 2) as [Result, Result];
        // before: SIGBUS (exit 135), no message
        expect(info.code, info.err).toBe(0);
        expect(info.out).toMatch(/^engine: {3}wasm \(blas unavailable: .*topdown_blas\.node /m);
        expect(info.out).toMatch(pattern);
        expect(blas.code).toBe(3);
        oneLine(blas, pattern);
      }
      expect(train.code, train.err).toBe(0);
      expect(JSON.parse(train.out).engine).toBe('wasm');
      oneLine(train, /^topdown: notice: blas engine unavailable \(.*\); using the wasm engine$/);
    },
  );

  it.runIf(foreignAddon() !== undefined)(
    "another package's addon in its place is refused: by the build's record before loading, else by its exports",
    async () => {
      const foreign = readFileSync(foreignAddon()!);
      const dirs = built.ok
        ? [buildFolder('foreign', foreign, true), buildFolder('foreign-unrecorded', foreign, false)]
        : [buildFolder('foreign-unrecorded', foreign, false)];
      const [info, ...blas] = await Promise.all([
        topdown(['info'], { TOPDOWN_ADDON_DIR: dirs.at(-1)! }),
        ...dirs.map((dir) => topdown(['info', '--engine', 'blas'], { TOPDOWN_ADDON_DIR: dir })),
      ]);
      // before: exit 1, `this.addon.setThreads is not a function`
      expect(info.code, info.err).toBe(0);
      expect(info.out).toMatch(/blas unavailable: .*not topdown's addon \(no sgemm, /);
      for (const r of blas) {
        expect(r.code).toBe(3);
        oneLine(
          r,
          /the blas engine is unavailable: .*(not the file the build wrote|not topdown's addon \(no )/,
        );
      }
    },
  );

  it('TOPDOWN_ADDON_DIR (internal, for these tests) must be an absolute folder: one line, exit 2', async () => {
    const r = await topdown(['info'], { TOPDOWN_ADDON_DIR: 'relative/build' });
    expect(r.code, r.err).toBe(2);
    oneLine(r, /TOPDOWN_ADDON_DIR must be the absolute path of a folder; got "relative\/build"$/);
  });
});

describe('the run folder and the network flags', () => {
  it('--tensorboard where OUT/tensorboard is a file: one line, exit 2, nothing written (defect 20)', async () => {
    const out = join(tmp, 'tb-clash');
    mkdirSync(out);
    writeFileSync(join(out, 'tensorboard'), 'not a folder');
    const r = await topdown([...TRAIN, '--out', out, '--tensorboard', '--engine', 'js', '--overwrite']);
    // before: exit 1 (EEXIST, an internal error) with config.json left behind
    expect(r.code, r.err).toBe(2);
    oneLine(r, /tensorboard is a file, not a folder: --tensorboard writes the run's event files there/);
    expect(readdirSync(out)).toEqual(['tensorboard']);
  });

  it("--hidden '' and --arch with --hidden are one line each, exit 2; --arch fc asks for no hidden layer", async () => {
    const out = join(tmp, 'questionable');
    const [empty, both, presetArch, noHidden] = await Promise.all([
      topdown([...TRAIN, '--out', out, '--hidden', '']),
      topdown([...TRAIN, '--out', out, '--arch', 'fc100-fc', '--dry-run']),
      topdown(['train', '--preset', 'pepita-conv-mnist', '--hidden', '64', '--dry-run']),
      // the documented way to a network with no hidden layer
      topdown(['train', '--arch', 'fc', '--rule', 'bp', '--dry-run']),
    ]);
    expect(empty.code).toBe(2);
    oneLine(
      empty,
      /--hidden: needs at least one width \(for a network with no hidden layer, give --arch fc\)/,
    );
    expect(both.code).toBe(2);
    oneLine(both, /--hidden 16 conflicts with flags: --arch fc100-fc, which sets the hidden widths \(100\)/);
    expect(presetArch.code).toBe(2);
    oneLine(presetArch, /--hidden 64 conflicts with preset pepita-conv-mnist: arch conv32x5-pool2-fc/);
    expect(existsSync(out)).toBe(false);
    expect(noHidden.code, noHidden.err).toBe(0);
    expect(JSON.parse(noHidden.out)).toMatchObject({ arch: 'fc', hidden: [] });
  });
});
