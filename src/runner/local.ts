/**
 * Runs the jobs of a queue on this machine: `workers` child processes of `topdown train` (or `topdown theory`)
 * at a time, each with `threads` engine threads (or simulation workers), writing run folders `<out>/runs/<id>`.
 * A run already trained to its epochs is skipped, one with a checkpoint is resumed (extended to more epochs if
 * asked), a crashed run is retried once, and `stop()` (Ctrl-C) asks every child to checkpoint and exit. A
 * theory run has no checkpoint: it is done when its theory.json exists, and made again from the start if not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { jobUnits, type Job, type TheoryJob, type TrainJob } from './job.js';
import type { JobOutcome, JobQueue, QueueStatus } from './queue.js';

export interface LocalRunnerOptions {
  /** The results directory: runs go to `<out>/runs/<id>`. */
  out: string;
  workers: number;
  /** Engine threads of each run. */
  threads: number;
  /** Passed to every run as `--data-dir`. */
  dataDir?: string;
  /** The topdown command-line entry point (a .js file run with this Node). */
  cli: string;
  /** Called about once a second and whenever a run ends. */
  onProgress?: (progress: RunnerProgress) => void;
  /** Called when a run ends (done, failed, interrupted). */
  onRunEnd?: (job: Job, outcome: JobOutcome) => void;
}

export interface RunnerProgress extends QueueStatus {
  /** Epochs trained so far by this runner and still to train, over every job. */
  epochsDone: number;
  epochsLeft: number;
  /** Estimated seconds left (null until an epoch has been trained). */
  etaSeconds: number | null;
}

/** What a run folder holds, read from its metrics. */
export interface RunState {
  /** Training epochs with a metrics line (prelude epochs not counted). */
  epochs: number;
  /** The last training epoch's test accuracy, if any. */
  testAcc: number | null;
  hasCheckpoint: boolean;
  exists: boolean;
}

/** Reads a run folder's state (a missing folder is `exists: false`). */
export function runState(folder: string): RunState {
  if (!existsSync(folder)) return { epochs: 0, testAcc: null, hasCheckpoint: false, exists: false };
  let epochs = 0;
  let testAcc: number | null = null;
  try {
    for (const line of readFileSync(join(folder, 'metrics.jsonl'), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const m = JSON.parse(line) as { epoch?: number; phase?: string; test_acc?: number };
      if (m.phase !== undefined || typeof m.epoch !== 'number' || m.epoch < 1) continue;
      if (m.epoch >= epochs) {
        epochs = m.epoch;
        testAcc = typeof m.test_acc === 'number' ? m.test_acc : null;
      }
    }
  } catch {
    // no metrics yet (or a line cut by a crash, which resume drops)
  }
  return { epochs, testAcc, hasCheckpoint: existsSync(join(folder, 'checkpoint.bin')), exists: true };
}

/** The folder of a job's run. */
export function runFolder(out: string, job: Job): string {
  return join(out, 'runs', job.id);
}

/** The file whose presence marks a theory run as done (written last). */
export const THEORY_DONE_FILE = 'theory.json';

/** How much of a job its folder holds, in {@link jobUnits} (epochs trained, or 1 for a finished theory run). */
export function unitsDone(out: string, job: Job): number {
  const folder = runFolder(out, job);
  if (job.kind === 'theory') return existsSync(join(folder, THEORY_DONE_FILE)) ? 1 : 0;
  return Math.min(runState(folder).epochs, job.config.epochs);
}

/** True when the job's folder holds its whole result. */
export function jobDone(out: string, job: Job): boolean {
  return unitsDone(out, job) >= jobUnits(job);
}

/** Exit codes of `topdown train` a retry cannot change: a usage error, or an interruption asked for. */
const USAGE_ERROR = 2;
const INTERRUPTED = new Set([130, 143]);

export class LocalRunner {
  private readonly children = new Set<ChildProcess>();
  private stopping = false;
  private readonly started = performance.now();
  private epochsAtStart = 0;
  private readonly totalEpochs = new Map<string, number>();

  constructor(
    private readonly queue: JobQueue,
    private readonly options: LocalRunnerOptions,
  ) {}

  /** Asks every running child to checkpoint and exit (a second call makes them exit at once); takes no new job. */
  stop(): void {
    this.stopping = true;
    for (const child of this.children) child.kill('SIGINT');
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Runs until the queue is empty or `stop()`; resolves with every outcome. */
  async run(jobs: readonly Job[]): Promise<{ job: Job; outcome: JobOutcome }[]> {
    await this.queue.add(jobs);
    for (const job of jobs) {
      this.totalEpochs.set(job.id, jobUnits(job));
      this.epochsAtStart += unitsDone(this.options.out, job);
    }
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
    while (!this.stopping) {
      const job = await this.queue.take();
      if (!job) return;
      const outcome = await this.runJob(job);
      if (outcome === 'retry') continue;
      await this.queue.finish(job, outcome);
      this.options.onRunEnd?.(job, outcome);
    }
  }

  private async runJob(job: Job): Promise<JobOutcome | 'retry'> {
    const folder = runFolder(this.options.out, job);
    const done = (): JobOutcome => {
      const s = runState(folder);
      return { status: 'done', testAcc: s.testAcc, epochs: s.epochs };
    };
    if (jobDone(this.options.out, job)) return done();
    const { code, errorLine } = await (job.kind === 'train'
      ? this.spawnTrain(job, folder, runState(folder))
      : this.spawnTheory(job, folder));
    if (code === 0 && jobDone(this.options.out, job)) return done();
    // a child stopped before it could install its handler dies of the signal itself (code null)
    if (this.stopping && (code === null || INTERRUPTED.has(code))) return { status: 'interrupted' };
    const error = errorLine || `topdown train exited with ${code === null ? 'a signal' : `code ${code}`}`;
    if (code !== USAGE_ERROR && !this.stopping) {
      const attempts = await this.queue.retry(job, error);
      if (attempts <= 2) return 'retry';
      return { status: 'failed', error, attempts: attempts - 1 };
    }
    return { status: 'failed', error, attempts: 1 };
  }

  /** Writes a job's input file into `<out>/.jobs` and returns its path. */
  private jobFile(job: Job, content: unknown): string {
    const jobs = join(this.options.out, '.jobs');
    mkdirSync(jobs, { recursive: true });
    const file = join(jobs, `${job.id}.json`);
    writeFileSync(file, JSON.stringify(content, null, 2) + '\n');
    return file;
  }

  private spawnTheory(job: TheoryJob, folder: string): Promise<{ code: number | null; errorLine: string }> {
    const file = this.jobFile(job, job.problem);
    return this.spawnCli([
      'theory',
      '--config',
      file,
      '--rule',
      job.rules.join(','),
      '--seeds',
      String(job.seeds),
      '--workers',
      String(this.options.threads),
      '--out',
      folder,
      '--plot',
    ]);
  }

  private spawnTrain(
    job: TrainJob,
    folder: string,
    state: RunState,
  ): Promise<{ code: number | null; errorLine: string }> {
    const o = this.options;
    const common = ['--threads', String(o.threads), ...(o.dataDir ? ['--data-dir', o.dataDir] : [])];
    let args: string[];
    if (state.hasCheckpoint) {
      args = ['train', '--resume', folder, '--epochs', String(job.config.epochs), ...common];
    } else {
      const file = this.jobFile(job, job.config);
      args = [
        'train',
        '--config',
        file,
        '--out',
        folder,
        ...(state.exists ? ['--overwrite'] : []),
        ...common,
      ];
    }
    return this.spawnCli(args);
  }

  private spawnCli(args: string[]): Promise<{ code: number | null; errorLine: string }> {
    const o = this.options;
    return new Promise((resolve) => {
      // its own process group: a Ctrl-C at the terminal reaches the runner only, which passes one SIGINT on
      const child = spawn(process.execPath, [o.cli, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      });
      this.children.add(child);
      let stderr = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-4000);
      });
      child.on('close', (code) => {
        this.children.delete(child);
        const lines = stderr
          .split(/[\r\n]/)
          .map((l) => l.trim())
          .filter((l) => l.startsWith('topdown:'));
        resolve({ code, errorLine: lines.at(-1)?.replace(/^topdown: /, '') ?? '' });
      });
      if (this.stopping) child.kill('SIGINT');
    });
  }

  private async report(jobs: readonly Job[]): Promise<void> {
    if (!this.options.onProgress) return;
    let done = 0;
    let total = 0;
    for (const job of jobs) {
      total += this.totalEpochs.get(job.id) ?? jobUnits(job);
      done += unitsDone(this.options.out, job);
    }
    const trained = done - this.epochsAtStart;
    const elapsed = (performance.now() - this.started) / 1000;
    const left = total - done;
    this.options.onProgress({
      ...(await this.queue.status()),
      epochsDone: done,
      epochsLeft: left,
      etaSeconds: trained > 0 ? (elapsed * left) / trained : null,
    });
  }
}
