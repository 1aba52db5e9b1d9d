/**
 * The runner's jobs on a distributed queue: BullMQ on Redis. An enqueuer puts an experiment's runs on it
 * (BullMQ job id = run id and target epochs, so enqueuing the same runs twice adds nothing) and follows them;
 * `topdown worker` processes on any machine take them, make them in a shared results directory and report
 * their summary back. A run whose worker dies is taken over by another once its lock expires, and resumes
 * from its checkpoint.
 */
import { Job as BullMqJob, Queue, type Job as BullJob, type JobJson, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

import type { Job } from './job.js';
import { PROTOCOL, type QueuedRun } from './payload.js';
import type { JobOutcome, JobSource, QueueStatus } from './queue.js';
import { KEY_PREFIX, QUEUE_NAME, queueConnection, type QueueAddress } from './redis.js';

export { PROTOCOL, type QueuedRun } from './payload.js';

/** What a worker reports back for a finished run. */
export interface RunSummary {
  testAcc: number | null;
  epochs: number;
  /** The worker's host and pid. */
  worker: string;
}

/** Attempts of a run before it is failed (a crash is retried once). */
export const ATTEMPTS = 2;

/** The BullMQ id of a run: its run id, and the epochs it is to reach (a longer budget is a new job). */
export function queueJobId(job: Job): string {
  return job.kind === 'train' ? `${job.id}-e${job.config.epochs}` : job.id;
}

export type QueueState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'missing';

function stateOf(state: string): QueueState {
  switch (state) {
    case 'completed':
    case 'failed':
    case 'active':
    case 'delayed':
      return state;
    case 'unknown':
      return 'missing';
    default:
      return 'waiting'; // waiting, prioritized, waiting-children
  }
}

/** A run as BullMQ holds it. */
export type RunJob = BullJob<QueuedRun, RunSummary>;

/** The part of BullMQ's queue topdown uses, typed with its payload. */
export interface RunQueue {
  add(name: string, data: QueuedRun, opts: JobsOptions): Promise<RunJob>;
  getJob(id: string): Promise<RunJob | undefined>;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  getJobs(types: string[], start?: number, end?: number): Promise<RunJob[]>;
  drain(delayed?: boolean): Promise<void>;
  retryJobs(opts: { state?: 'failed' | 'completed'; count?: number }): Promise<void>;
  close(): Promise<void>;
  /** Connection errors (the commands that fail also reject). */
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Enqueuers that follow their runs (`reproduce|sweep --queue`) say so with a heartbeat: a key that expires
 * unless renewed, listed in a set. A worker started with `--until-empty` does not stop while one is alive,
 * since a follower puts back the runs a restarted Redis lost.
 */
const FOLLOWERS = `${KEY_PREFIX}:followers`;
const FOLLOWER_TTL_MS = 5000;

/** Says that `who` (host:pid) is following runs on the queue, for the next few seconds. */
export async function beatFollower(client: Redis, who: string): Promise<void> {
  await client.multi().set(`${FOLLOWERS}:${who}`, '1', 'PX', FOLLOWER_TTL_MS).sadd(FOLLOWERS, who).exec();
}

/** Says that `who` has stopped following. */
export async function endFollower(client: Redis, who: string): Promise<void> {
  await client.multi().del(`${FOLLOWERS}:${who}`).srem(FOLLOWERS, who).exec();
}

/** How many enqueuers are following runs now (those whose heartbeat stopped are forgotten). */
export async function liveFollowers(client: Redis): Promise<number> {
  let live = 0;
  for (const who of await client.smembers(FOLLOWERS)) {
    if (await client.exists(`${FOLLOWERS}:${who}`)) live++;
    else await client.srem(FOLLOWERS, who);
  }
  return live;
}

/**
 * BullMQ's job, except that a payload that is not JSON (edited or damaged in Redis) is read as its text, for
 * the payload's checks to refuse, rather than failing inside BullMQ (where it would look like a lost
 * connection and leave the run stuck).
 */
export class TolerantJob extends BullMqJob {
  static override fromJSON<T = unknown, R = unknown, N extends string = string>(
    queue: Parameters<typeof BullMqJob.fromJSON>[0],
    json: JobJson,
    jobId?: string,
  ): BullMqJob<T, R, N> {
    try {
      return super.fromJSON<T, R, N>(queue, json, jobId);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return super.fromJSON<T, R, N>(queue, { ...json, data: JSON.stringify(String(json.data)) }, jobId);
    }
  }
}

/** BullMQ's queue, reading jobs as {@link TolerantJob}s. */
class RunsQueue extends Queue {
  protected override get Job(): typeof BullMqJob {
    // the generic construct signature cannot be restated for a subclass; the class is BullMQ's, unchanged
    return TolerantJob as unknown as typeof BullMqJob;
  }
}

/** The BullMQ queue of topdown's runs at `address`. */
export function openQueue(address: QueueAddress): RunQueue {
  return new RunsQueue(QUEUE_NAME, {
    connection: queueConnection(address),
    prefix: KEY_PREFIX,
  }) as unknown as RunQueue;
}

/** A plain Redis connection to the queue's server, for the keys topdown keeps beside BullMQ's (the followers). */
export function openClient(address: QueueAddress): Redis {
  const client = new Redis(queueConnection(address) as RedisOptions);
  // connection trouble shows as the commands that fail (each has a timeout), not as unhandled events
  client.on('error', () => {});
  return client;
}

/** An enqueuer's view of its runs on the queue. */
export class RedisJobQueue implements JobSource {
  readonly queue: RunQueue;
  /** For the follower's heartbeat. */
  readonly client: Redis;
  private readonly mine = new Map<string, Job>();
  private readonly ended = new Map<string, { job: Job; outcome: JobOutcome }>();

  constructor(
    address: QueueAddress,
    private readonly version: string,
  ) {
    this.queue = openQueue(address);
    this.client = openClient(address);
  }

  /** Puts runs on the queue; those already there (waiting, running or finished) are not added again. */
  async add(jobs: readonly Job[]): Promise<number> {
    let added = 0;
    for (const job of jobs) {
      const id = queueJobId(job);
      this.mine.set(id, job);
      if (await this.queue.getJob(id)) continue;
      await this.queue.add(
        job.label,
        { job, topdown: this.version, protocol: PROTOCOL },
        { jobId: id, attempts: ATTEMPTS, removeOnComplete: false, removeOnFail: false },
      );
      added++;
    }
    return added;
  }

  /** The state of each of this enqueuer's runs on the queue, by queue id. */
  async states(): Promise<Map<string, { state: QueueState; bull: RunJob | null }>> {
    const states = new Map<string, { state: QueueState; bull: RunJob | null }>();
    for (const id of this.mine.keys()) {
      const bull = (await this.queue.getJob(id)) ?? null;
      const state = bull ? stateOf(await bull.getState()) : 'missing';
      states.set(id, { state, bull });
      if ((state === 'completed' || state === 'failed') && bull && !this.ended.has(id)) {
        const job = this.mine.get(id)!;
        const outcome: JobOutcome =
          state === 'completed'
            ? {
                status: 'done',
                testAcc: bull.returnvalue?.testAcc ?? null,
                epochs: bull.returnvalue?.epochs ?? 0,
              }
            : { status: 'failed', error: bull.failedReason || 'failed', attempts: bull.attemptsMade };
        this.ended.set(id, { job, outcome });
      }
    }
    return states;
  }

  /** Puts back runs the queue has lost (a Redis restarted without its data); returns how many. */
  async restoreMissing(): Promise<number> {
    const states = await this.states();
    const missing = [...states].filter(([, s]) => s.state === 'missing').map(([id]) => this.mine.get(id)!);
    return missing.length ? this.add(missing) : 0;
  }

  async status(): Promise<QueueStatus> {
    const states = [...(await this.states()).values()].map((s) => s.state);
    const count = (...which: QueueState[]) => states.filter((s) => which.includes(s)).length;
    return {
      queued: count('waiting', 'delayed', 'missing'),
      running: count('active'),
      done: count('completed'),
      failed: count('failed'),
      interrupted: 0,
    };
  }

  async outcomes(): Promise<{ job: Job; outcome: JobOutcome }[]> {
    await this.states();
    return [...this.ended.values()];
  }

  async close(): Promise<void> {
    this.client.disconnect();
    await this.queue.close();
  }
}
