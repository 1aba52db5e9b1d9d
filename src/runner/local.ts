/**
 * Runs the jobs of a queue on this machine: `workers` child processes of `topdown train` (or `topdown theory`)
 * at a time, each with `threads` engine threads (or simulation workers), writing run folders `<out>/runs/<id>`.
 * A run already trained to its epochs is skipped, one with a checkpoint is resumed (extended to more epochs if
 * asked), a crashed run is retried once, and `stop()` (Ctrl-C) asks every child to checkpoint and exit. A
 * theory run has no checkpoint: it is done when its theory.json exists, and made again from the start if not.
 */
import { RunExecutor, unitsDone, type ExecutorOptions } from './executor.js';
import { jobUnits, type Job } from './job.js';
import type { JobOutcome, JobQueue, QueueStatus } from './queue.js';

export { jobDone, runFolder, runState, THEORY_DONE_FILE, unitsDone, type RunState } from './executor.js';

export interface LocalRunnerOptions extends ExecutorOptions {
  workers: number;
  /** Called about once a second and whenever a run ends. */
  onProgress?: (progress: RunnerProgress) => void;
  /** Called when a run ends (done, failed, interrupted). */
  onRunEnd?: (job: Job, outcome: JobOutcome) => void;
}

export interface RunnerProgress extends QueueStatus {
  /** Units of work (epochs; 1 per theory run) done so far and still to do, over every job. */
  epochsDone: number;
  epochsLeft: number;
  /** Estimated seconds left (null until this runner has done some work). */
  etaSeconds: number | null;
}

export class LocalRunner {
  private readonly executor: RunExecutor;
  private readonly started = performance.now();
  private unitsAtStart = 0;

  constructor(
    private readonly queue: JobQueue,
    private readonly options: LocalRunnerOptions,
  ) {
    this.executor = new RunExecutor(options);
  }

  /** Asks every running child to checkpoint and exit (a second call makes them exit at once); takes no new job. */
  stop(): void {
    this.executor.stop();
  }

  get stopped(): boolean {
    return this.executor.stopped;
  }

  /** Runs until the queue is empty or `stop()`; resolves with every outcome. */
  async run(jobs: readonly Job[]): Promise<{ job: Job; outcome: JobOutcome }[]> {
    await this.queue.add(jobs);
    for (const job of jobs) this.unitsAtStart += unitsDone(this.options.out, job);
    const timer = setInterval(() => void this.report(jobs), 1000);
    try {
      await Promise.all(Array.from({ length: Math.max(1, this.options.workers) }, () => this.lane()));
    } finally {
      clearInterval(timer);
    }
    await this.report(jobs);
    return this.queue.outcomes();
  }

  private async lane(): Promise<void> {
    while (!this.stopped) {
      const job = await this.queue.take();
      if (!job) return;
      const outcome = await this.runJob(job);
      if (outcome === 'retry') continue;
      await this.queue.finish(job, outcome);
      this.options.onRunEnd?.(job, outcome);
    }
  }

  private async runJob(job: Job): Promise<JobOutcome | 'retry'> {
    const executed = await this.executor.execute(job);
    // a folder held by another process is tried again like a crash (this runner holds its results directory,
    // so only another tool's run can hold one of its folders)
    const attempt =
      executed.status === 'busy'
        ? ({ status: 'failed', error: executed.error, retryable: true } as const)
        : executed;
    if (attempt.status !== 'failed') return attempt;
    if (attempt.retryable && !this.stopped) {
      const attempts = await this.queue.retry(job, attempt.error);
      if (attempts <= 2) return 'retry';
      return { status: 'failed', error: attempt.error, attempts: attempts - 1 };
    }
    return { status: 'failed', error: attempt.error, attempts: 1 };
  }

  private async report(jobs: readonly Job[]): Promise<void> {
    if (!this.options.onProgress) return;
    let done = 0;
    let total = 0;
    for (const job of jobs) {
      total += jobUnits(job);
      done += unitsDone(this.options.out, job);
    }
    const worked = done - this.unitsAtStart;
    const elapsed = (performance.now() - this.started) / 1000;
    const left = total - done;
    this.options.onProgress({
      ...(await this.queue.status()),
      epochsDone: done,
      epochsLeft: left,
      etaSeconds: worked > 0 ? (elapsed * left) / worked : null,
    });
  }
}
