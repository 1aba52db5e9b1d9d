/**
 * The distributed queue from the command line: `reproduce|sweep --queue URL` (enqueue and follow, in
 * {@link runOnQueue}), `topdown worker --queue URL` (take runs on any machine) and `topdown queue
 * status|cancel|retry --queue URL`.
 */
import { availableParallelism, hostname } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command } from 'commander';

import { TopdownInterruptedError, TopdownUnavailableError, TopdownUsageError } from '../../core/errors.js';
import { printable } from '../../core/untrusted.js';
import { unitsDone } from '../../runner/executor.js';
import { jobUnits, type Job } from '../../runner/job.js';
import type { JobOutcome, QueueStatus } from '../../runner/queue.js';
import {
  beatFollower,
  endFollower,
  liveFollowers,
  openClient,
  openQueue,
  RedisJobQueue,
  type RunJob,
} from '../../runner/redis-queue.js';
import { checkRedis, describeRedisError, parseQueueUrl, type QueueAddress } from '../../runner/redis.js';
import { QueueWorker, VersionMismatch } from '../../runner/worker.js';
import { checkEngineEnvironment, threadsOption } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { packageVersion } from '../package-info.js';
import { nonEmpty, numberIn, positiveInt } from '../parse.js';

/** The topdown entry point the runs are made with. */
const cli = (): string => fileURLToPath(new URL('../main.js', import.meta.url));

/** `--queue URL`, parsed when given. */
export const queueOption = (value: string): string => {
  parseQueueUrl(value);
  return value;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ctrl-C and SIGTERM while `body` runs: `onSignal(count)` on each; handlers removed after. */
async function withSignals<T>(onSignal: (count: number) => void, body: () => Promise<T>): Promise<T> {
  let count = 0;
  const handler = (): void => onSignal(++count);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await body();
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}

export interface QueueRunHooks {
  describe: (job: Job, outcome: JobOutcome) => string;
  formatSeconds: (seconds: number) => string;
}

/**
 * Puts `jobs` on the queue at `url` and follows them until every one has ended (done or failed), showing
 * progress; runs the queue lost (a Redis restarted without its data) are put back. Ctrl-C stops following,
 * not the runs.
 */
export async function runOnQueue(
  jobs: Job[],
  flags: { queue: string; out: string },
  io: CliIO,
  hooks: QueueRunHooks,
): Promise<void> {
  const address = parseQueueUrl(flags.queue);
  await checkRedis(address);
  const out = resolvePath(flags.out);
  const queue = new RedisJobQueue(address, packageVersion());
  let lost = false;
  queue.queue.on('error', (error: unknown) => {
    if (lost) return;
    lost = true;
    io.err(
      `\ntopdown: ${describeRedisError(address, error)}; waiting for it to come back (the runs go on)\n`,
    );
  });
  const live = io.errIsTTY;
  const follower = `${hostname()}:${process.pid}`;
  let stopRequested = false;
  let wake: () => void = () => {};
  try {
    const added = await queue.add(jobs);
    io.err(
      `${jobs.length} runs on the queue at ${address.display} (${added} new, ${jobs.length - added} already there); ` +
        `results in ${out}/runs; workers: topdown worker --queue ${address.display} --out ${out}\n`,
    );
    const started = performance.now();
    const unitsAtStart = jobs.reduce((s, j) => s + unitsDone(out, j), 0);
    const reported = new Set<string>();
    await withSignals(
      () => {
        stopRequested = true;
        wake();
      },
      async () => {
        const poll = async (): Promise<QueueStatus> => {
          await beatFollower(queue.client, follower);
          const restored = await queue.restoreMissing();
          if (lost) {
            lost = false;
            io.err(`${live ? '\r\x1b[K' : ''}topdown: connected to Redis at ${address.display} again\n`);
          }
          if (restored) {
            io.err(
              `${live ? '\r\x1b[K' : ''}topdown: the queue had lost ${restored} run(s) (Redis restarted?); put them back\n`,
            );
          }
          const status = await queue.status();
          for (const { job, outcome } of await queue.outcomes()) {
            if (reported.has(job.id)) continue;
            reported.add(job.id);
            io.err(`${live ? '\r\x1b[K' : ''}${hooks.describe(job, outcome)}\n`);
          }
          return status;
        };
        for (;;) {
          let status: QueueStatus;
          try {
            status = await poll();
          } catch (error) {
            // a command that failed or went unanswered: Redis is away; the runs go on, and so does following
            if (!lost) {
              lost = true;
              io.err(
                `\ntopdown: ${describeRedisError(address, error)}; waiting for it to come back (the runs go on)\n`,
              );
            }
            await sleep(1000);
            if (stopRequested) break;
            continue;
          }
          if (status.done + status.failed >= jobs.length) break;
          if (live) {
            const done = jobs.reduce((s, j) => s + unitsDone(out, j), 0);
            const total = jobs.reduce((s, j) => s + jobUnits(j), 0);
            const worked = done - unitsAtStart;
            const elapsed = (performance.now() - started) / 1000;
            const eta = worked > 0 ? `, ETA ${hooks.formatSeconds((elapsed * (total - done)) / worked)}` : '';
            io.err(
              `\r\x1b[Kruns: ${status.done} done, ${status.running} running, ${status.queued} queued` +
                `${status.failed ? `, ${status.failed} failed` : ''}; epochs ${done}/${total}${eta}`,
            );
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 1000);
          });
          if (stopRequested) break;
        }
      },
    );
    if (live) io.err('\r\x1b[K');
    const outcomes = await queue.outcomes();
    const failed = outcomes.filter((o) => o.outcome.status === 'failed').length;
    const done = outcomes.length - failed;
    const summary = `${done} of ${jobs.length} runs done, ${failed} failed; results in ${out}/runs`;
    if (stopRequested) {
      throw new TopdownInterruptedError(
        `stopped following: ${summary}; the other runs stay on the queue (topdown queue status --queue ${address.display})`,
        130,
      );
    }
    io.err(`${summary}\n`);
    if (failed > 0) {
      throw new TopdownUsageError(
        `${failed} run(s) failed (see above; topdown queue retry --queue ${address.display} puts them back); the others are kept`,
      );
    }
  } finally {
    await endFollower(queue.client, follower).catch(() => {});
    await queue.close().catch(() => {});
  }
}

interface WorkerFlags {
  queue: string;
  concurrency: number;
  threads?: number;
  dataDir?: string;
  out: string;
  lockSeconds: number;
  untilEmpty?: boolean;
}

async function runWorker(flags: WorkerFlags, io: CliIO): Promise<void> {
  const address = parseQueueUrl(flags.queue);
  await checkRedis(address);
  const out = resolvePath(flags.out);
  const threads = flags.threads ?? Math.max(1, Math.floor(availableParallelism() / flags.concurrency));
  const worker = new QueueWorker(address, {
    out,
    threads,
    dataDir: flags.dataDir ? resolvePath(flags.dataDir) : undefined,
    cli: cli(),
    concurrency: flags.concurrency,
    lockMs: Math.round(flags.lockSeconds * 1000),
    version: packageVersion(),
    onStart: (job) => io.err(`took ${printable(job.label)} (run ${job.id})\n`),
    onEnd: (job, result) => io.err(`${printable(job.label)}: ${printable(result)}\n`),
    onNotice: (line) => io.err(`topdown: ${printable(line)}\n`),
  });
  io.err(
    `worker ${process.pid}: taking runs from ${address.display}, ${flags.concurrency} at a time with ${threads} thread${threads === 1 ? '' : 's'} each; results in ${out}/runs; Ctrl-C to stop\n`,
  );
  let signals = 0;
  const idle = flags.untilEmpty ? watchUntilEmpty(address, () => void worker.stop()) : null;
  try {
    await withSignals(
      (count) => {
        signals = count;
        if (count === 1) {
          io.err(
            '\ntopdown: stopping: running runs save a checkpoint and go back on the queue; press Ctrl-C again to stop them at once\n',
          );
        }
        void worker.stop();
      },
      () => worker.closed(),
    );
  } catch (error) {
    if (error instanceof VersionMismatch) throw new TopdownUsageError(error.message);
    throw error;
  } finally {
    idle?.stop();
  }
  if (signals > 0) throw new TopdownInterruptedError('worker stopped', 130);
}

/** How long a worker started with --until-empty waits for a first run before it takes the queue for done. */
const FIRST_RUN_GRACE_MS = 15_000;

/**
 * Checks, a second apart, that the queue must look empty with no follower alive before a worker started with
 * --until-empty stops: a follower renews its heartbeat every second, so an empty queue that a follower is
 * about to refill (a restarted Redis lost its runs) is never taken for done.
 */
const EMPTY_CHECKS = 3;

/**
 * With --until-empty: stops the worker once the queue has nothing waiting, delayed or running and no
 * enqueuer is following its runs (`reproduce|sweep --queue`, which puts back the runs a restarted Redis
 * lost), after it has seen runs there (or, if it never does, after a grace period: workers are often started
 * before the runs are enqueued).
 */
function watchUntilEmpty(address: QueueAddress, stop: () => void): { stop: () => void } {
  const queue = openQueue(address);
  queue.on('error', () => {}); // the worker reports connection trouble
  const client = openClient(address);
  const started = Date.now();
  let running = true;
  let sawRuns = false;
  let emptyChecks = 0;
  void (async () => {
    while (running) {
      await sleep(1000);
      if (!running) break;
      try {
        const c = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
        const empty = Object.values(c).every((n) => n === 0) && (await liveFollowers(client)) === 0;
        if (!empty) {
          sawRuns = true;
          emptyChecks = 0;
        } else if (++emptyChecks >= EMPTY_CHECKS && (sawRuns || Date.now() - started > FIRST_RUN_GRACE_MS)) {
          stop();
          break;
        }
      } catch {
        // the worker reports connection trouble
        emptyChecks = 0;
      }
    }
    client.disconnect();
    await queue.close().catch(() => {});
  })();
  return { stop: () => (running = false) };
}

/** A run's label as the queue holds it (untrusted: anything may have been written there). */
const label = (j: RunJob): string => {
  const l: unknown = (j.data as { job?: { label?: unknown } } | null)?.job?.label;
  return typeof l === 'string' ? l : String(j.name);
};

async function queueCommand(action: string, flags: { queue: string; json?: boolean }, io: CliIO) {
  const address = parseQueueUrl(flags.queue);
  await checkRedis(address);
  const queue = openQueue(address);
  // a connection lost after the check shows as the command that fails (each has a timeout): one line, exit 3
  queue.on('error', () => {});
  try {
    const counts = await queue.getJobCounts(
      'waiting',
      'prioritized',
      'delayed',
      'active',
      'completed',
      'failed',
    );
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    if (action === 'status') {
      const active = await queue.getJobs(['active']);
      const failed = await queue.getJobs(['failed']);
      const status = {
        queue: address.display,
        waiting,
        delayed: counts.delayed ?? 0,
        running: counts.active ?? 0,
        done: counts.completed ?? 0,
        failed: counts.failed ?? 0,
        runs_running: active.map((j) => ({ id: j.id, label: label(j) })),
        runs_failed: failed.map((j) => ({
          id: j.id,
          label: label(j),
          error: j.failedReason,
          attempts: j.attemptsMade,
        })),
      };
      if (flags.json) {
        io.out(JSON.stringify(status) + '\n');
        return;
      }
      io.out(
        `${address.display}: ${status.waiting} waiting, ${status.delayed} delayed, ${status.running} running, ${status.done} done, ${status.failed} failed\n`,
      );
      for (const r of status.runs_running) io.out(`running: ${printable(r.label)} (${printable(r.id)})\n`);
      for (const r of status.runs_failed) {
        io.out(
          `failed: ${printable(r.label)} (${printable(r.id)}) after ${r.attempts} attempt(s): ${printable(r.error)}\n`,
        );
      }
      return;
    }
    if (action === 'cancel') {
      await queue.drain(true);
      io.out(
        `removed ${waiting + (counts.delayed ?? 0)} waiting run(s) from ${address.display}; ${counts.active ?? 0} running run(s) go on (stop their workers to stop them)\n`,
      );
      return;
    }
    await queue.retryJobs({ state: 'failed' });
    io.out(`put ${counts.failed ?? 0} failed run(s) back on ${address.display}\n`);
  } catch (error) {
    if (error instanceof TopdownUsageError) throw error;
    throw new TopdownUnavailableError(describeRedisError(address, error));
  } finally {
    await queue.close().catch(() => {});
  }
}

export function registerQueueCommands(program: Command, io: CliIO): void {
  program
    .command('worker')
    .description(
      'take runs from a distributed queue (topdown reproduce|sweep --queue) and make them, on any machine',
    )
    .requiredOption('--queue <url>', 'the queue: redis://[USER:PASSWORD@]HOST:PORT[/DB]', queueOption)
    .option('--concurrency <n>', 'runs at once', positiveInt('--concurrency'), 1)
    .addOption(threadsOption('engine threads per run (default: cores / concurrency)'))
    .option('--data-dir <dir>', 'where the datasets are on this machine', nonEmpty('--data-dir'))
    .option(
      '--out <dir>',
      'the shared results directory (runs in DIR/runs/<hash>)',
      nonEmpty('--out'),
      'results',
    )
    .option(
      '--lock-seconds <s>',
      "how long a run stays this worker's without a renewal; after that another worker takes it over",
      numberIn('--lock-seconds', 1),
      30,
    )
    .option(
      '--until-empty',
      'stop once nothing is waiting or running on the queue and no enqueuer is following its runs (after its first runs, or 15 s without any)',
    )
    .hook('preAction', () => void checkEngineEnvironment())
    .action((flags: WorkerFlags) => runWorker(flags, io));

  program
    .command('queue <action>')
    .description(
      'show or manage the runs on a distributed queue: status, cancel (the waiting runs), retry (the failed runs)',
    )
    .requiredOption('--queue <url>', 'the queue: redis://[USER:PASSWORD@]HOST:PORT[/DB]', queueOption)
    .option('--json', 'status as one JSON object')
    .action((action: string, flags: { queue: string; json?: boolean }) => {
      if (!['status', 'cancel', 'retry'].includes(action)) {
        throw new TopdownUsageError(`queue ${action}: choose status, cancel or retry`);
      }
      return queueCommand(action, flags, io);
    });
}
