/**
 * A worker of the distributed queue: takes runs from BullMQ, makes them with the same executor as the local
 * runner in a (shared) results directory, and reports each run's summary back. `concurrency` runs at a time,
 * each with `threads` engine threads. Stopping (Ctrl-C) checkpoints the running runs and puts them back on the
 * queue, where another worker resumes them; a run enqueued by another topdown version is left on the queue
 * and the worker stops with one line.
 */
import { hostname } from 'node:os';

import {
  DelayedError,
  Job as BullMqJob,
  UnrecoverableError,
  WaitingError,
  Worker,
  type Job as BullJob,
} from 'bullmq';

import { printable } from '../core/untrusted.js';
import { RunExecutor, type ExecutorOptions } from './executor.js';
import type { Job } from './job.js';
import { parseQueuedRun, payloadVersion, PROTOCOL, type QueuedRun } from './payload.js';
import { queueJobId, TolerantJob, type RunSummary } from './redis-queue.js';
import { bullConnection, describeRedisError, KEY_PREFIX, QUEUE_NAME, type QueueAddress } from './redis.js';

export interface WorkerOptions extends ExecutorOptions {
  concurrency: number;
  /** How long a run stays locked to this worker without a renewal (another worker takes it over after). */
  lockMs: number;
  /** This worker's topdown version: runs enqueued by another are not made. */
  version: string;
  onStart?: (job: Job) => void;
  onEnd?: (job: Job, result: string) => void;
  /** One line on a connection change or a refused run. */
  onNotice?: (line: string) => void;
}

/** Why a worker stopped by itself. */
export class VersionMismatch extends Error {}

/** BullMQ's worker, reading jobs as {@link TolerantJob}s (a payload that is not JSON is refused, not stuck). */
class RunsWorker extends Worker<QueuedRun, RunSummary> {
  protected override get Job(): typeof BullMqJob {
    // the generic construct signature cannot be restated for a subclass; the class is BullMQ's, unchanged
    return TolerantJob as unknown as typeof BullMqJob;
  }
}

export class QueueWorker {
  private readonly executor: RunExecutor;
  private readonly worker: Worker<QueuedRun, RunSummary>;
  private connectionLost = false;
  private mismatch: string | null = null;
  private closing: Promise<void> | null = null;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    address: QueueAddress,
    private readonly options: WorkerOptions,
  ) {
    this.executor = new RunExecutor(options);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.worker = new RunsWorker(QUEUE_NAME, (job, token) => this.process(job, token), {
      connection: bullConnection(address),
      prefix: KEY_PREFIX,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
      // a run may lose its worker several times (machines lost, kill -9): it resumes each time
      maxStalledCount: 10,
      autorun: true,
    });
    this.worker.on('error', (error) => {
      if (!this.connectionLost) {
        this.connectionLost = true;
        options.onNotice?.(`${describeRedisError(address, error)}; retrying (running runs go on)`);
      }
    });
    this.worker.on('ready', () => {
      if (this.connectionLost) {
        this.connectionLost = false;
        options.onNotice?.(`connected to Redis at ${address.display} again`);
      }
    });
  }

  private async process(bull: BullJob<QueuedRun, RunSummary>, token?: string): Promise<RunSummary> {
    const source = `queued run ${printable(String(bull.id))}`;
    const version = payloadVersion(bull.data);
    if (version && (version.topdown !== this.options.version || version.protocol !== PROTOCOL)) {
      // leave it for a worker of the right version, and stop taking runs
      this.mismatch = `run ${printable(version.label)} was enqueued by topdown ${printable(version.topdown)}, this worker is topdown ${this.options.version}: run the same version on every machine (the run stays on the queue)`;
      await bull.moveToDelayed(Date.now() + 5000, token);
      void this.stop();
      throw new DelayedError();
    }
    let job: Job;
    try {
      job = parseQueuedRun(bull.data, source).job;
      if (String(bull.id) !== queueJobId(job)) {
        throw new Error(
          `${source}: its queue id is not ${queueJobId(job)}, the id of its run and epochs: the payload was edited`,
        );
      }
    } catch (error) {
      // nothing is made of a payload that fails its checks: the run fails for good, with the reason
      const line = (error as Error).message;
      this.options.onNotice?.(`refused ${line}`);
      throw new UnrecoverableError(`refused: ${line}`);
    }
    if (this.executor.stopped) {
      await bull.moveToWait(token);
      throw new WaitingError();
    }
    this.options.onStart?.(job);
    const attempt = await this.executor.execute(job);
    switch (attempt.status) {
      case 'done': {
        const result =
          attempt.testAcc === null
            ? 'done'
            : `test ${(100 * attempt.testAcc).toFixed(2)}% after ${attempt.epochs} epochs`;
        this.options.onEnd?.(job, result);
        return { testAcc: attempt.testAcc, epochs: attempt.epochs, worker: `${hostname()}:${process.pid}` };
      }
      case 'interrupted':
        // back on the queue without counting an attempt: another worker resumes it from its checkpoint
        this.options.onEnd?.(job, 'stopped with a checkpoint; back on the queue');
        await bull.moveToWait(token);
        throw new WaitingError();
      case 'busy':
        // the same run taken twice (a queue that lost it and had it put back, or two budgets of one run): its
        // folder's holder finishes it; this copy waits a lock's length, then finds it done or resumes it
        this.options.onEnd?.(job, `its folder is in use by another process; back on the queue for now`);
        await bull.moveToDelayed(Date.now() + this.options.lockMs, token);
        throw new DelayedError();
      case 'failed':
        this.options.onEnd?.(job, `failed: ${attempt.error}`);
        throw attempt.retryable ? new Error(attempt.error) : new UnrecoverableError(attempt.error);
    }
  }

  /** Checkpoints the running runs, puts them back on the queue and closes; a second call stops runs at once. */
  stop(): Promise<void> {
    this.executor.stop();
    if (!this.closing) {
      this.closing = this.worker.close().then(
        () => this.resolveDone(),
        () => this.resolveDone(),
      );
    }
    return this.closing;
  }

  /** Resolves when the worker has closed; rejects with {@link VersionMismatch} if it stopped over a version. */
  async closed(): Promise<void> {
    await this.done;
    if (this.mismatch) throw new VersionMismatch(this.mismatch);
  }
}
