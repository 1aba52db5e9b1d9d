/**
 * The runner's job queues. Runs are put on a queue and their outcomes read from it; the local runner keeps
 * one in memory and takes its runs from it, a distributed backend (BullMQ on Redis) holds them for workers on
 * any machine; the experiments and the way a run is made (`executor.ts`) are the same for both.
 */
import type { Job } from './job.js';

/** How a run ended. */
export type JobOutcome =
  | { status: 'done'; testAcc: number | null; epochs: number }
  | { status: 'failed'; error: string; attempts: number }
  | { status: 'interrupted' };

/** Counts for the progress display. */
export interface QueueStatus {
  queued: number;
  running: number;
  done: number;
  failed: number;
  interrupted: number;
}

/**
 * Where runs are put and their outcomes read: what an experiment's enqueuer needs. The local queue and the
 * distributed one (Redis, `redis-queue.ts`) both are one.
 */
export interface JobSource {
  /** Adds jobs; a job whose id is already known is not added again. Returns how many were new. */
  add(jobs: readonly Job[]): Promise<number>;
  status(): Promise<QueueStatus>;
  /** Every finished job and its outcome, in the order they finished. */
  outcomes(): Promise<{ job: Job; outcome: JobOutcome }[]>;
}

/** A queue that this process's runner also takes runs from (the local runner's lanes). */
export interface JobQueue extends JobSource {
  /** The next job to run, or null when none is waiting. */
  take(): Promise<Job | null>;
  /** Puts a taken job back (to be retried), counting the attempt. Returns the attempts so far. */
  retry(job: Job, error: string): Promise<number>;
  /** Records how a taken job ended. */
  finish(job: Job, outcome: JobOutcome): Promise<void>;
}

/** A queue in this process's memory. */
export class MemoryQueue implements JobQueue {
  private readonly known = new Set<string>();
  private readonly waiting: Job[] = [];
  private readonly attempts = new Map<string, number>();
  private readonly ended: { job: Job; outcome: JobOutcome }[] = [];
  private running = 0;

  async add(jobs: readonly Job[]): Promise<number> {
    let added = 0;
    for (const job of jobs) {
      if (this.known.has(job.id)) continue;
      this.known.add(job.id);
      this.waiting.push(job);
      added++;
    }
    return added;
  }

  async take(): Promise<Job | null> {
    const job = this.waiting.shift() ?? null;
    if (job) this.running++;
    return job;
  }

  async retry(job: Job, error: string): Promise<number> {
    void error;
    const n = (this.attempts.get(job.id) ?? 1) + 1;
    this.attempts.set(job.id, n);
    this.running--;
    this.waiting.push(job);
    return n;
  }

  async finish(job: Job, outcome: JobOutcome): Promise<void> {
    this.running--;
    this.ended.push({ job, outcome });
  }

  async status(): Promise<QueueStatus> {
    const count = (s: JobOutcome['status']) => this.ended.filter((e) => e.outcome.status === s).length;
    return {
      queued: this.waiting.length,
      running: this.running,
      done: count('done'),
      failed: count('failed'),
      interrupted: count('interrupted'),
    };
  }

  async outcomes(): Promise<{ job: Job; outcome: JobOutcome }[]> {
    return [...this.ended];
  }

  /** Attempts made for a job so far (1 once taken). */
  attemptsOf(id: string): number {
    return this.attempts.get(id) ?? 1;
  }
}
