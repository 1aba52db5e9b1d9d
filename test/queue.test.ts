import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseQueueUrl } from '../src/runner/redis.js';
import { openQueue, PROTOCOL } from '../src/runner/redis-queue.js';
import { runState } from '../src/runner/local.js';
import { jobFor } from '../src/runner/job.js';
import { resolveMergedConfig } from '../src/train/config.js';

import { redisAvailable, startRedis, type TestRedis } from './redis-helpers.js';
import { untimedMetrics, writeSyntheticMnist } from './train-helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
let tmp: string;
let data: string;
let base: string;
let redis: TestRedis;

function topdown(args: string[], timeout = 180_000): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface Proc {
  child: ChildProcess;
  err: () => string;
  exited: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (err += d.toString()));
  // 'close', not 'exit': output still in the pipes (the test may have been blocked in spawnSync) is read first
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, err: () => err, exited };
}

function worker(queue: string, out: string, extra: string[] = []): Proc {
  return start([
    'worker',
    '--queue',
    queue,
    '--out',
    out,
    '--data-dir',
    data,
    '--threads',
    '1',
    '--lock-seconds',
    '2',
    ...extra,
  ]);
}

async function until(what: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const runsOf = (out: string): string[] =>
  existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')).sort() : [];

/** The sweep of these tests: PEPITA lr x 2 seeds on synthetic MNIST (4 runs), `epochs` each. */
function sweepArgs(out: string, epochs: number, extra: string[] = []): string[] {
  return [
    'sweep',
    base,
    '--grid',
    'lr=0.05,0.02',
    '--seeds',
    '2',
    '--epochs',
    String(epochs),
    '--data-dir',
    data,
    '--out',
    out,
    ...extra,
  ];
}

/** Every run of `out` has `epochs` epochs and the same metrics (timing aside) as in `reference`. */
function expectSameAsLocal(out: string, reference: string, epochs: number): void {
  expect(runsOf(out)).toEqual(runsOf(reference));
  for (const id of runsOf(out)) {
    expect(runState(join(out, 'runs', id)).epochs).toBe(epochs);
    expect(untimedMetrics(join(out, 'runs', id))).toEqual(untimedMetrics(join(reference, 'runs', id)));
  }
}

/** How many times the workers' logs say they took each run. */
function takes(logs: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const log of logs) {
    for (const m of log.matchAll(/^took .* \(run ([0-9a-f]+)\)$/gm))
      counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return counts;
}

const flush = (url: string) => spawnSync('redis-cli', ['-u', url, 'FLUSHALL'], { encoding: 'utf8' });

describe('queue URLs', () => {
  it('parses host, port, database and credentials, and refuses the rest in one line', () => {
    expect(parseQueueUrl('redis://127.0.0.1:6380/2')).toMatchObject({
      options: { host: '127.0.0.1', port: 6380, db: 2 },
      display: 'redis://127.0.0.1:6380/2',
    });
    const auth = parseQueueUrl('redis://alice:s%40cret@localhost');
    expect(auth.options).toMatchObject({
      host: 'localhost',
      port: 6379,
      username: 'alice',
      password: 's@cret',
    });
    expect(auth.display).toBe('redis://localhost:6379');
    expect(parseQueueUrl('redis://[::1]:7000').options.host).toBe('::1');
    expect(parseQueueUrl('rediss://h:1').options.tls).toEqual({});
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/expected a redis:\/\/ .*URL/);
    expect(() => parseQueueUrl('http://h:1')).toThrow(
      /expected a redis:\/\/ \(or rediss:\/\/\) URL, not http:/,
    );
    expect(() => parseQueueUrl('redis://h:1/x')).toThrow(/database after the "\/" must be a number/);
    expect(() => parseQueueUrl('nonsense')).toThrow(/is not a URL/);
  });
});

// under CI the queue tests must run: CI installs redis-server
describe.runIf(redisAvailable() || process.env.CI === 'true')(
  'the distributed queue (a private Redis on loopback)',
  // real workers training real (small) runs, several at once: minutes on a busy 2-core machine
  { timeout: 300_000 },
  () => {
    beforeAll(async () => {
      tmp = mkdtempSync(join(tmpdir(), 'topdown-queue-'));
      data = join(tmp, 'data');
      writeSyntheticMnist(data, 5, 1000, 100);
      base = join(tmp, 'base.yaml');
      writeFileSync(base, 'rule: pepita\ndata: mnist\nhidden: [32]\nbatchSize: 20\ntestSubset: 100\n');
      redis = await startRedis();
    });

    afterAll(async () => {
      await redis?.dispose();
      rmSync(tmp, { recursive: true, force: true });
    });

    it('a wrong URL, nothing listening and refused credentials are one line each, exit 2 or 3', async () => {
      const bad = topdown(['worker', '--queue', 'http://127.0.0.1:1']);
      expect(bad.code).toBe(2);
      expect(bad.err.trim().split('\n')).toHaveLength(1);
      expect(bad.err).toMatch(/expected a redis:\/\//);
      const closed = topdown(['queue', 'status', '--queue', 'redis://127.0.0.1:1']);
      expect(closed.code).toBe(3);
      expect(closed.err.trim()).toBe(
        'topdown: cannot reach Redis at redis://127.0.0.1:1: connection refused (is redis-server running there?)',
      );
      // something else listening (an HTTP server on loopback)
      const http = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
      const httpPort = (http.address() as { port: number }).port;
      // (spawned, not spawnSync: the server answers from this process's event loop)
      const notRedis = start(['queue', 'status', '--queue', `redis://127.0.0.1:${httpPort}`]);
      expect(await notRedis.exited).toBe(3);
      http.close();
      expect(notRedis.err()).toMatch(/does not speak the Redis protocol/);
      const locked = await startRedis(['--requirepass', 'sesame']);
      try {
        const none = topdown(['queue', 'status', '--queue', locked.url]);
        expect(none.code).toBe(3);
        expect(none.err.trim().split('\n')).toHaveLength(1);
        expect(none.err).toMatch(/refused the credentials \(NOAUTH/);
        const wrong = topdown(['queue', 'status', '--queue', `redis://:nope@127.0.0.1:${locked.port}`]);
        expect(wrong.code).toBe(3);
        expect(wrong.err).toMatch(/refused the credentials \(WRONGPASS/);
        const right = topdown(['queue', 'status', '--queue', `redis://:sesame@127.0.0.1:${locked.port}`]);
        expect(right.code, right.err).toBe(0);
        expect(right.out).toMatch(/0 waiting, 0 delayed, 0 running, 0 done, 0 failed/);
      } finally {
        await locked.dispose();
      }
    });

    it('3 workers make a sweep: every run exactly once, equal to a local run; enqueuing it again adds nothing', async () => {
      flush(redis.url);
      const reference = join(tmp, 'local');
      expect(topdown(sweepArgs(reference, 2)).code).toBe(0);
      const out = join(tmp, 'shared-a');
      const workers = [0, 1, 2].map(() => worker(redis.url, out, ['--until-empty']));
      const r = topdown(sweepArgs(out, 2, ['--queue', redis.url]));
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/4 runs on the queue at redis:\/\/127\.0\.0\.1:\d+ \(4 new, 0 already there\)/);
      expect(r.err).toMatch(/4 of 4 runs done, 0 failed/);
      await Promise.all(workers.map((w) => w.exited));
      expectSameAsLocal(out, reference, 2);
      const counts = takes(workers.map((w) => w.err()));
      expect([...counts.keys()].sort()).toEqual(runsOf(out));
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      // the same sweep again: nothing new, and done at once from the queue's records
      const again = topdown(sweepArgs(out, 2, ['--queue', redis.url]));
      expect(again.code, again.err).toBe(0);
      expect(again.err).toMatch(/\(0 new, 4 already there\)/);
      const status = JSON.parse(topdown(['queue', 'status', '--queue', redis.url, '--json']).out);
      expect(status).toMatchObject({ waiting: 0, running: 0, done: 4, failed: 0 });
      // the report reads the shared directory
      const report = JSON.parse(topdown(['report', out, '--json']).out);
      expect(report.cells.map((c: { seeds: number }) => c.seeds)).toEqual([2, 2]);
    });

    it('a worker killed with SIGKILL mid-run: another takes the run over after the lock and resumes it bit for bit', async () => {
      flush(redis.url);
      const epochs = 6;
      const reference = join(tmp, 'local-long');
      expect(topdown(sweepArgs(reference, epochs)).code).toBe(0);
      const out = join(tmp, 'shared-kill');
      const enqueue = start(sweepArgs(out, epochs, ['--queue', redis.url]));
      const victim = worker(redis.url, out);
      // kill it once its first run has a checkpoint and is mid-way
      await until(() =>
        runsOf(out).some((id) => {
          const s = runState(join(out, 'runs', id));
          return s.hasCheckpoint && s.epochs >= 2 && s.epochs < epochs;
        }),
      );
      victim.child.kill('SIGKILL');
      await victim.exited;
      // on a busy machine the victim may have finished runs before the one it was killed in (its last)
      const taken = [...takes([victim.err()]).keys()];
      const interrupted = taken.at(-1)!;
      // the report reads the shared directory while the sweep goes on: partial cells, seeds done per cell
      const partial = topdown(['report', out, '--json']);
      expect(partial.code, partial.err).toBe(0);
      const cells = JSON.parse(partial.out).cells as { seeds: number; seeds_planned: number }[];
      expect(cells.map((c) => c.seeds_planned)).toEqual([2, 2]);
      expect(cells.reduce((n, c) => n + c.seeds, 0)).toBeLessThan(4);
      const others = [worker(redis.url, out, ['--until-empty']), worker(redis.url, out, ['--until-empty'])];
      expect(await enqueue.exited, enqueue.err()).toBe(0);
      await Promise.all(others.map((w) => w.exited));
      expectSameAsLocal(out, reference, epochs);
      const counts = takes(others.map((w) => w.err()));
      // the killed worker's run was taken over once and resumed (from a checkpoint: it did not start again);
      // the runs it had finished were not made again, and every other run was made once
      expect(counts.get(interrupted)).toBe(1);
      for (const id of taken.slice(0, -1)) expect(counts.has(id)).toBe(false);
      expect(counts.size).toBe(4 - (taken.length - 1));
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    });

    it('Ctrl-C on a worker: its run saves a checkpoint, goes back on the queue and another worker finishes it', async () => {
      flush(redis.url);
      // long enough that the interrupted run is still going when Ctrl-C lands, on a busy machine too
      const epochs = 8;
      const reference = join(tmp, 'local-8');
      expect(topdown(sweepArgs(reference, epochs)).code).toBe(0);
      const out = join(tmp, 'shared-int');
      const enqueue = start(sweepArgs(out, epochs, ['--queue', redis.url]));
      const first = worker(redis.url, out);
      await until(() =>
        runsOf(out).some((id) => {
          const s = runState(join(out, 'runs', id));
          return s.hasCheckpoint && s.epochs >= 1 && s.epochs <= 3;
        }),
      );
      first.child.kill('SIGINT');
      expect(await first.exited).toBe(130);
      expect(first.err()).toMatch(/: stopped with a checkpoint; back on the queue$/m);
      const second = worker(redis.url, out, ['--until-empty']);
      expect(await enqueue.exited, enqueue.err()).toBe(0);
      expect(await second.exited).toBe(0);
      expectSameAsLocal(out, reference, epochs);
    });

    it('Redis restarted mid-sweep (its data lost): the runs are put back and every one ends once, as locally', async () => {
      flush(redis.url);
      const reference = join(tmp, 'local');
      const out = join(tmp, 'shared-restart');
      const enqueue = start(sweepArgs(out, 2, ['--queue', redis.url]));
      const workers = [worker(redis.url, out), worker(redis.url, out)];
      await until(() => runsOf(out).some((id) => runState(join(out, 'runs', id)).epochs >= 1));
      await redis.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await redis.start();
      expect(await enqueue.exited, enqueue.err()).toBe(0);
      expect(enqueue.err()).toMatch(/the queue had lost \d+ run\(s\) \(Redis restarted\?\); put them back/);
      expect(enqueue.err()).toMatch(/4 of 4 runs done, 0 failed/);
      for (const w of workers) w.child.kill('SIGINT');
      await Promise.all(workers.map((w) => w.exited));
      expectSameAsLocal(out, reference, 2);
    });

    it('a failing run is marked failed with its error and does not block the others; retry puts it back', async () => {
      flush(redis.url);
      const out = join(tmp, 'shared-fail');
      const workers = [worker(redis.url, out), worker(redis.url, out)];
      // the third cell's data set is not in the data folder: a usage error, not retried
      const r = topdown([
        'sweep',
        base,
        '--grid',
        'data=mnist,fashion-mnist',
        '--epochs',
        '1',
        '--data-dir',
        data,
        '--out',
        out,
        '--queue',
        redis.url,
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/base\/data=fashion-mnist seed 0 failed: .*fashion-mnist/);
      expect(r.err).toMatch(/1 of 2 runs done, 1 failed/);
      const status = JSON.parse(topdown(['queue', 'status', '--queue', redis.url, '--json']).out);
      expect(status).toMatchObject({ done: 1, failed: 1 });
      expect(status.runs_failed[0].error).toMatch(/fashion-mnist/);
      const retry = topdown(['queue', 'retry', '--queue', redis.url]);
      expect(retry.out).toMatch(/put 1 failed run\(s\) back/);
      await until(() => /fashion-mnist seed 0: failed/.test(workers.map((w) => w.err()).join('')));
      const cancel = topdown(['queue', 'cancel', '--queue', redis.url]);
      expect(cancel.code, cancel.err).toBe(0);
      for (const w of workers) w.child.kill('SIGINT');
      await Promise.all(workers.map((w) => w.exited));
    });

    it('a run enqueued by another version: the worker leaves it on the queue and stops with one line', async () => {
      flush(redis.url);
      const out = join(tmp, 'shared-version');
      const config = resolveMergedConfig([
        { data: 'mnist', hidden: [8], epochs: 1, trainSubset: 100 },
        'test',
      ]);
      const job = jobFor(config, 0, 'other-version');
      const queue = openQueue(parseQueueUrl(redis.url));
      await queue.add(job.label, { job, topdown: '0.0.0-other', protocol: PROTOCOL }, { jobId: 'other-e1' });
      const w = worker(redis.url, out);
      expect(await w.exited).toBe(2);
      expect(w.err()).toMatch(
        /topdown: run other-version seed 0 was enqueued by topdown 0\.0\.0-other, this worker is topdown [\d.]+: run the same version on every machine \(the run stays on the queue\)/,
      );
      const state = await (await queue.getJob('other-e1'))!.getState();
      expect(['delayed', 'waiting']).toContain(state);
      await queue.close();
      expect(runsOf(out)).toEqual([]);
    });
  },
);
