/**
 * The queue as a trust boundary: jobs edited in a real Redis, a database out of range, a server that never
 * answers. A real `topdown worker` meets each payload; nothing may be written outside its results folder,
 * and no payload may pass another run's results off as its own.
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { packageVersion } from '../src/cli/package-info.js';
import { jobFor, type TrainJob } from '../src/runner/job.js';
import { parseQueuedRun, PROTOCOL } from '../src/runner/payload.js';
import { openQueue, queueJobId, RedisJobQueue } from '../src/runner/redis-queue.js';
import { parseQueueUrl } from '../src/runner/redis.js';
import { resolveMergedConfig } from '../src/train/config.js';
import { RunLock } from '../src/train/run-lock.js';

import { redisAvailable, startRedis, type TestRedis } from './redis-helpers.js';
import { writeSyntheticMnist } from './train-helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the real CLI to its end (asynchronously: servers of this process keep answering). */
function topdown(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

/** Starts the real CLI; its output so far, and its exit. */
function start(args: string[]): { err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout.on('data', (d: Buffer) => (err += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { err: () => err, exited };
}

/** Every file under `dir`, with its size and modification time. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else files.set(p, `${s.size} ${s.mtimeMs}`);
    }
  };
  walk(dir);
  return files;
}

describe('queue payloads (parsed without Redis)', () => {
  const config = resolveMergedConfig([{ rule: 'pepita', data: 'mnist', hidden: [8], epochs: 1 }, 'test']);
  const job = jobFor(config, 3, 'unit');
  const payload = { job, topdown: '1.0.0', protocol: PROTOCOL };

  it("takes an enqueuer's payload as it is, and refuses edits of the id, kind, seed or config in one line", () => {
    const parsed = parseQueuedRun(JSON.parse(JSON.stringify(payload)), 'queued run x');
    expect(parsed.job).toEqual(job);
    const refusals: [unknown, RegExp][] = [
      [{ ...payload, job: { ...job, id: '../../victim' } }, /job\.id ".*": must be 16 hex digits/],
      [{ ...payload, job: { ...job, id: '' } }, /job\.id ".*": must be 16 hex digits/],
      [{ ...payload, job: { ...job, id: '0123456789abcdef' } }, /is not the id of its configuration/],
      [{ ...payload, job: { ...job, kind: 'bogus' } }, /job\.kind/],
      [{ ...payload, job: { ...job, seed: 4 } }, /job\.seed 4 is not its config's seed 3/],
      [{ ...payload, job: { ...job, config: { ...job.config, lr: -1 } } }, /job\.config/],
      [
        JSON.parse(`{"job":{"kind":"train","config":{"__proto__":{"x":1}}},"topdown":"1","protocol":1}`),
        /__proto__/,
      ],
      [{ ...payload, job: null }, /job is null, not a queued run/],
      [{}, /the payload|job|topdown/],
      [null, /the payload is null/],
      [[], /the payload is a list/],
    ];
    for (const [data, message] of refusals) {
      let error: Error | null = null;
      try {
        parseQueuedRun(data, 'queued run x');
      } catch (e) {
        error = e as Error;
      }
      expect(error?.name, JSON.stringify(data)).toBe('TopdownUsageError');
      expect(error!.message).toMatch(message);
      expect(error!.message).not.toMatch(/\n/);
    }
  });
});

// under CI the queue tests must run: CI installs redis-server
describe.runIf(redisAvailable() || process.env.CI === 'true')(
  'the queue as a trust boundary (a private Redis, real workers)',
  { timeout: 300_000 },
  () => {
    let tmp: string;
    let data: string;
    let redis: TestRedis;
    let client: Redis;

    beforeAll(async () => {
      tmp = mkdtempSync(join(tmpdir(), 'topdown-trust-queue-'));
      data = join(tmp, 'data');
      writeSyntheticMnist(data, 5, 300, 60);
      redis = await startRedis();
      client = new Redis(redis.port, '127.0.0.1');
    });

    afterAll(async () => {
      client?.disconnect();
      await redis?.dispose();
      rmSync(tmp, { recursive: true, force: true });
    });

    const configOf = (lr: number) =>
      resolveMergedConfig([
        { rule: 'pepita', data: 'mnist', hidden: [16], batchSize: 20, testSubset: 60, epochs: 1, lr },
        'test',
      ]);

    /** A worker on the test's Redis that stops once the queue is empty. */
    const workerArgs = (out: string) => [
      'worker',
      '--queue',
      redis.url,
      '--out',
      out,
      '--data-dir',
      data,
      '--threads',
      '1',
      '--until-empty',
    ];

    /** Puts `job` on the queue as an enqueuer does, then overwrites its payload in Redis with `edited`. */
    async function enqueueEdited(job: TrainJob, edited: string): Promise<string> {
      const queue = new RedisJobQueue(parseQueueUrl(redis.url), packageVersion());
      try {
        await queue.add([job]);
      } finally {
        await queue.close();
      }
      const id = queueJobId(job);
      await client.hset(`topdown:runs:${id}`, 'data', edited);
      return id;
    }

    it('a worker refuses edited payloads in one line each, writes nothing outside --out and passes no run off as done', async () => {
      await client.flushall();
      const out = join(tmp, 'shared');
      // a finished run outside the results folder, and one inside it, that edited ids point at
      const first = configOf(0.05);
      const finished = jobFor(first, 0, 'finished');
      const trained = await topdown([
        'train',
        '--rule',
        'pepita',
        '--data',
        'mnist',
        '--hidden',
        '16',
        '--batch-size',
        '20',
        '--test-subset',
        '60',
        '--epochs',
        '1',
        '--lr',
        '0.05',
        '--seed',
        '0',
        '--data-dir',
        data,
        '--out',
        join(out, 'runs', finished.id),
      ]);
      expect(trained.code, trained.err).toBe(0);
      const victim = join(tmp, 'victim');
      cpSync(join(out, 'runs', finished.id), victim, { recursive: true });
      cpSync(join(out, 'runs', finished.id), join(tmp, 'victimB'), { recursive: true });
      const before = snapshot(tmp);

      const payload = (job: unknown) =>
        JSON.stringify({ job, topdown: packageVersion(), protocol: PROTOCOL });
      const edits: { job: TrainJob; data: string; why: RegExp }[] = [];
      const edit = (seed: number, data: (j: TrainJob) => string, why: RegExp) => {
        const job = jobFor(configOf(0.01 + seed / 100), seed, `edited ${seed}`);
        edits.push({ job, data: data(job), why });
      };
      edit(1, (j) => payload({ ...j, id: '../../victim' }), /job\.id ".*": must be 16 hex digits/);
      edit(2, (j) => payload({ ...j, id: '../../victimB/config' }), /job\.id ".*": must be 16 hex digits/);
      edit(3, (j) => payload({ ...j, id: '' }), /job\.id ".*": must be 16 hex digits/);
      edit(4, (j) => payload({ ...j, id: finished.id, kind: 'bogus' }), /job\.kind/);
      edit(
        5,
        () =>
          `{"job":{"kind":"train","id":"${finished.id}","label":"x","seed":0,"config":{"__proto__":{"epochs":1}}},"topdown":"${packageVersion()}","protocol":${PROTOCOL}}`,
        /__proto__/,
      );
      edit(6, (j) => payload({ ...j, id: finished.id }), /is not the id of its configuration/);
      edit(7, () => payload(null), /job is null, not a queued run/);
      edit(8, () => '{}', /job|topdown|protocol/);
      edit(
        9,
        (j) => payload({ ...j, id: '../x', label: 'evil\u001b[2J\nforged: test 100.00%' }),
        /must be 16 hex digits/,
      );
      // not JSON at all: BullMQ cannot read it; the worker must refuse it, not take it for a lost connection
      edit(
        10,
        () => '{"job": {"kind": "tr',
        /the payload is a string \("\{"job": \{"kind": "tr": not JSON\?\), not a queued run/,
      );
      for (const e of edits) await enqueueEdited(e.job, e.data);
      // and one honest run whose label carries escape sequences and a line break
      const honest = jobFor(configOf(0.03), 0, 'honest \u001b[31mred\u001b[0m\nforged line');
      await enqueueEdited(honest, payload(honest));

      const worker = await topdown(workerArgs(out));
      expect(worker.code, worker.err).toBe(0);
      // nothing raw reaches the terminal
      expect(worker.err).not.toContain('\u001b');
      expect(worker.err).toContain('honest \\x1b[31mred\\x1b[0m\\nforged line');
      const refusals = worker.err.split('\n').filter((l) => l.startsWith('topdown: refused'));
      expect(refusals).toHaveLength(edits.length);
      for (const e of edits) {
        const line = refusals.find((l) => l.includes(queueJobId(e.job)));
        expect(line, `${e.job.label}: ${worker.err}`).toMatch(e.why);
      }
      // the only run reported done is the honest one
      expect(worker.err.match(/: test \d+\.\d+% after/g)).toHaveLength(1);
      // nothing outside --out changed, and inside it only the honest run (and its job file) appeared
      const after = snapshot(tmp);
      for (const [path, stamp] of before) {
        if (!path.startsWith(out)) expect(after.get(path), path).toBe(stamp);
      }
      const added = [...after.keys()].filter((p) => !before.has(p));
      for (const path of added) {
        expect(
          path.startsWith(join(out, 'runs', honest.id)) || path === join(out, '.jobs', `${honest.id}.json`),
          path,
        ).toBe(true);
      }
      expect(readdirSync(join(out, 'runs')).sort()).toEqual([finished.id, honest.id].sort());

      // queue status shows them failed, with the reason, labels escaped
      const status = await topdown(['queue', 'status', '--queue', redis.url]);
      expect(status.code, status.err).toBe(0);
      expect(status.out).toMatch(new RegExp(`1 done, ${edits.length} failed`));
      expect(status.out).not.toContain('\u001b');
      expect(status.out).toContain('evil\\x1b[2J\\nforged: test 100.00%');
      expect(status.out.split('\n').filter((l) => l.startsWith('failed:'))).toHaveLength(edits.length);
      expect(status.out).toMatch(/refused: queued run .*job\.id "\.\.\/x": must be 16 hex digits/);
      const json = JSON.parse((await topdown(['queue', 'status', '--queue', redis.url, '--json'])).out);
      expect(json.runs_failed.map((r: { label: string }) => r.label)).toContain(
        'evil\u001b[2J\nforged: test 100.00%',
      );
    });

    it('a worker with --until-empty stays while an enqueuer puts back the runs a flushed Redis lost', async () => {
      await client.flushall();
      const out = join(tmp, 'flushed');
      const base = join(tmp, 'base.yaml');
      writeFileSync(base, 'rule: pepita\ndata: mnist\nhidden: [16]\nbatchSize: 20\ntestSubset: 60\n');
      const worker = start(workerArgs(out));
      const sweep = start([
        'sweep',
        base,
        '--grid',
        'lr=0.05,0.02',
        '--epochs',
        '3',
        '--data-dir',
        data,
        '--out',
        out,
        '--queue',
        redis.url,
      ]);
      // the queue loses everything while the first run trains
      const end = Date.now() + 120_000;
      while (!/took /.test(worker.err()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      await client.flushall();
      expect(await sweep.exited, sweep.err()).toBe(0);
      expect(sweep.err()).toMatch(/2 of 2 runs done, 0 failed/);
      expect(await worker.exited, worker.err()).toBe(0);
      expect(readdirSync(join(out, 'runs'))).toHaveLength(2);
    });

    it('a run whose folder another process holds goes back on the queue, and is made once it is free', async () => {
      await client.flushall();
      const out = join(tmp, 'held');
      const job = jobFor(configOf(0.02), 7, 'held');
      // another live process (this one) holds the run's folder, as a second copy of the run would find it
      mkdirSync(join(out, 'runs', job.id), { recursive: true });
      const lock = RunLock.acquire(join(out, 'runs', job.id));
      await enqueueEdited(job, JSON.stringify({ job, topdown: packageVersion(), protocol: PROTOCOL }));
      const worker = start([...workerArgs(out), '--lock-seconds', '2']);
      const end = Date.now() + 120_000;
      while (!/back on the queue for now/.test(worker.err()) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(worker.err()).toContain(
        'held seed 7: its folder is in use by another process; back on the queue for now',
      );
      lock.release();
      expect(await worker.exited, worker.err()).toBe(0);
      expect(worker.err()).toMatch(/held seed 7: test \d+\.\d+% after 1 epochs/);
      const status = await topdown(['queue', 'status', '--queue', redis.url]);
      expect(status.out).toMatch(/1 done, 0 failed/);
    });

    it('a database out of range is one line, exit 2, before anything is done on database 0', async () => {
      await client.flushall();
      const queue = openQueue(parseQueueUrl(redis.url));
      const job = jobFor(configOf(0.02), 0, 'waiting');
      await queue.add(
        job.label,
        { job, topdown: packageVersion(), protocol: PROTOCOL },
        { jobId: queueJobId(job) },
      );
      await queue.close();
      for (const action of ['status', 'cancel', 'retry']) {
        const r = await topdown(['queue', action, '--queue', `${redis.url}/99999`]);
        expect(r.code).toBe(2);
        expect(r.err.trim()).toBe(
          `topdown: --queue ${redis.url}/99999: Redis has no database 99999 (it has databases 0 to 15); nothing was done there`,
        );
      }
      const worker = await topdown(['worker', '--queue', `${redis.url}/16`, '--out', join(tmp, 'db16')]);
      expect(worker.code).toBe(2);
      expect(worker.err.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(tmp, 'db16'))).toBe(false);
      // the run waiting on database 0 is still there
      const status = await topdown(['queue', 'status', '--queue', redis.url]);
      expect(status.out).toMatch(/1 waiting/);
      // a database that exists works
      expect((await topdown(['queue', 'status', '--queue', `${redis.url}/3`])).out).toMatch(/0 waiting/);
    });

    it('a server that accepts the connection and never answers is one line, exit 3, within the timeout', async () => {
      const sockets: import('node:net').Socket[] = [];
      const silent: Server = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      const port = (silent.address() as { port: number }).port;
      try {
        const started = Date.now();
        const r = await topdown(['queue', 'status', '--queue', `redis://127.0.0.1:${port}`]);
        expect(r.code).toBe(3);
        expect(r.err.trim()).toBe(
          `topdown: cannot reach Redis at redis://127.0.0.1:${port}: no answer (timed out)`,
        );
        // 5 s of timeout, plus the start of a process on a busy machine
        expect(Date.now() - started).toBeLessThan(60_000);
      } finally {
        for (const s of sockets) s.destroy();
        silent.close();
      }
    });
  },
);
