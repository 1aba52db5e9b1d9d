/**
 * Run folders are never shared or mixed: real runs started together get folders of their own, a folder that
 * holds a run is refused as --out, a running run's folder is locked against a second process, a lock left
 * by a killed process is taken over, and reading a run writes nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LOCK_FILE, LOCK_STALE_MS, RunLock } from '../src/train/run-lock.js';

import { readCheckpointFile } from '../src/train/checkpoint-file.js';

import { writeSyntheticMnist } from './train-helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'topdown-folders-'));
const data = join(tmp, 'data');
beforeAll(() => writeSyntheticMnist(data, 5, 600, 100));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BASE = ['train', '--data-dir', data, '--hidden', '16', '--batch-size', '32', '--decay-epochs', ''];

function topdown(args: string[], cwd = tmp) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TOPDOWN_ENGINE: undefined },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function start(args: string[], cwd = tmp) {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd,
    env: { ...process.env, TOPDOWN_ENGINE: undefined },
  });
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, err })),
  );
  return { child, done };
}

async function until(check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('run folders', () => {
  it('two runs started together in one folder get folders of their own', async () => {
    const cwd = join(tmp, 'together');
    mkdirSync(cwd);
    const runs = [0, 1].map((seed) =>
      start([...BASE, '--epochs', '1', '--seed', String(seed), '--json'], cwd),
    );
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) expect(r.code, r.err).toBe(0);
    const folders = readdirSync(join(cwd, 'runs'));
    expect(folders).toHaveLength(2);
    const seeds = folders.map(
      (f) => JSON.parse(readFileSync(join(cwd, 'runs', f, 'config.json'), 'utf8')).seed,
    );
    expect(seeds.sort()).toEqual([0, 1]);
    for (const f of folders) {
      const lines = readFileSync(join(cwd, 'runs', f, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n');
      expect(lines).toHaveLength(1);
      expect(existsSync(join(cwd, 'runs', f, 'run.lock'))).toBe(false);
    }
  });

  it('--out at a folder holding a run is refused unless --overwrite, and --overwrite needs --out', () => {
    const out = join(tmp, 'taken');
    expect(topdown([...BASE, '--epochs', '1', '--out', out]).code).toBe(0);
    const before = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    const again = topdown([...BASE, '--epochs', '2', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(
      /already holds a run .*: continue it with --resume .*, or replace it with --overwrite/,
    );
    expect(again.err.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8')).toBe(before);
    const replaced = topdown([...BASE, '--epochs', '2', '--out', out, '--overwrite']);
    expect(replaced.code, replaced.err).toBe(0);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(topdown([...BASE, '--overwrite']).err).toMatch(
      /--overwrite replaces the run in --out: give --out too/,
    );
  });

  it("a runner's replacement (--overwrite-unfinished) removes a dead attempt's leftovers, never a run with a checkpoint", () => {
    // a run another process finished meanwhile: refused with exit 3 (its runner retries, then resumes it)
    const finished = join(tmp, 'finished-meanwhile');
    expect(topdown([...BASE, '--epochs', '1', '--out', finished]).code).toBe(0);
    const before = readFileSync(join(finished, 'metrics.jsonl'), 'utf8');
    const refused = topdown([...BASE, '--epochs', '2', '--out', finished, '--overwrite-unfinished']);
    expect(refused.code).toBe(3);
    expect(refused.err.trim()).toBe(
      `topdown: ${finished} gained a checkpoint while this run was starting (another process made it): run it again to resume it`,
    );
    expect(readFileSync(join(finished, 'metrics.jsonl'), 'utf8')).toBe(before);
    // an attempt that died before its first checkpoint: its files are replaced
    const leftovers = join(tmp, 'leftovers');
    expect(topdown([...BASE, '--epochs', '1', '--out', leftovers]).code).toBe(0);
    rmSync(join(leftovers, 'checkpoint.bin'));
    const replaced = topdown([...BASE, '--epochs', '2', '--out', leftovers, '--overwrite-unfinished']);
    expect(replaced.code, replaced.err).toBe(0);
    expect(readFileSync(join(leftovers, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    // an internal flag: not in the help
    expect(topdown(['train', '--help']).out).not.toContain('--overwrite-unfinished');
  });

  it('a running run holds its folder; the lock of a killed run is taken over by --resume', async () => {
    const out = join(tmp, 'locked');
    const run = start([...BASE, '--epochs', '100000', '--out', out]); // killed long before its end
    await until(() => existsSync(join(out, 'checkpoint.bin')));
    const second = topdown(['train', '--resume', out, '--data-dir', data]);
    expect(second.code).toBe(2);
    expect(second.err).toMatch(/is in use by another topdown process \(pid \d+/);
    run.child.kill('SIGKILL');
    await run.done;
    expect(existsSync(join(out, 'run.lock'))).toBe(true); // left behind by the kill
    writeFileSync(join(out, 'checkpoint.bin.tmp-999999'), 'torn'); // a torn write of a process long gone
    const done = readCheckpointFile(join(out, 'checkpoint.bin')).header.epochsDone as number;
    const resumed = topdown(['train', '--resume', out, '--data-dir', data, '--epochs', String(done + 1)]);
    expect(resumed.code, resumed.err).toBe(0);
    expect(existsSync(join(out, 'run.lock'))).toBe(false);
    expect(existsSync(join(out, 'checkpoint.bin.tmp-999999'))).toBe(false);
  });

  it('a checkpoint copied in from another run is refused', () => {
    const a = join(tmp, 'run-a');
    const b = join(tmp, 'run-b');
    expect(topdown([...BASE, '--epochs', '1', '--out', a]).code).toBe(0);
    expect(topdown([...BASE, '--epochs', '1', '--seed', '7', '--out', b]).code).toBe(0);
    cpSync(join(a, 'checkpoint.bin'), join(b, 'checkpoint.bin'));
    for (const args of [
      ['train', '--resume', b, '--data-dir', data],
      ['eval', b, '--data-dir', data],
    ]) {
      const r = topdown(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/does not belong to this run: its config differs from .*config.json/);
    }
  });

  it('reading a run writes nothing: eval, --resume and show-samples --run on a missing path create no folder', () => {
    const missing = join(tmp, 'nowhere', 'deeper');
    for (const args of [
      ['eval', missing],
      ['train', '--resume', missing],
      ['show-samples', '--run', missing, '--data-dir', data, '--out', join(tmp, 'x.png')],
    ]) {
      const r = topdown(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/cannot open the run folder .*deeper: no such file or folder \(ENOENT\)/);
      expect(existsSync(join(tmp, 'nowhere'))).toBe(false);
    }
  });
});

describe('run locks on a results directory shared between machines', () => {
  it("another host's lock holds while it is touched, and is stale a minute after its last touch", () => {
    const dir = mkdtempSync(join(tmpdir(), 'topdown-lock-'));
    try {
      const path = join(dir, LOCK_FILE);
      writeFileSync(
        path,
        JSON.stringify({ pid: 4242, host: 'elsewhere', since: '2026-01-01T00:00:00Z' }) + '\n',
      );
      expect(() => RunLock.acquire(dir)).toThrow(
        /is in use by a topdown process on elsewhere \(pid 4242, since 2026-01-01T00:00:00Z\); wait for it to end/,
      );
      const old = new Date(Date.now() - LOCK_STALE_MS - 5000);
      utimesSync(path, old, old);
      const lock = RunLock.acquire(dir);
      expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
      lock.release();
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
