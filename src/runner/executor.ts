/**
 * Makes one run in a results directory: a `topdown train` (or `topdown theory`) child process writing the run
 * folder `<out>/runs/<id>`. A run already trained to its epochs is not started again, one with a checkpoint
 * is resumed (extended to more epochs if asked), a folder left without a checkpoint is started afresh. The
 * local runner and the distributed worker both make their runs here.
 *
 * Each child runs in its own process group (a Ctrl-C at the terminal reaches the runner alone, which passes
 * one SIGINT on, so the run checkpoints) and watches its parent: if the runner dies without a word (kill -9),
 * the child checkpoints and exits instead of training on as an orphan.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { pathInside } from '../core/untrusted.js';
import { jobUnits, type Job, type TheoryJob, type TrainJob } from './job.js';

/** The environment variable through which a child learns its runner's pid. */
export const PARENT_PID_ENV = 'TOPDOWN_PARENT_PID';

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
      let m: { epoch?: number; phase?: string; test_acc?: number };
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        continue; // a line cut by a crash, which resume drops
      }
      if (m.phase !== undefined || typeof m.epoch !== 'number' || m.epoch < 1) continue;
      if (m.epoch >= epochs) {
        epochs = m.epoch;
        testAcc = typeof m.test_acc === 'number' ? m.test_acc : null;
      }
    }
  } catch {
    // no metrics yet
  }
  return { epochs, testAcc, hasCheckpoint: existsSync(join(folder, 'checkpoint.bin')), exists: true };
}

/** The folder of a job's run: `<out>/runs/<id>`; an id that is not one folder name is refused in one line. */
export function runFolder(out: string, job: Job): string {
  return pathInside(join(out, 'runs'), job.id, 'run id');
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

/** Where and how runs are made. */
export interface ExecutorOptions {
  /** The results directory: runs go to `<out>/runs/<id>`. */
  out: string;
  /** Engine threads of each run (simulation workers for theory). */
  threads: number;
  /** Passed to every run as `--data-dir`. */
  dataDir?: string;
  /** The topdown command-line entry point (a .js file run with this Node). */
  cli: string;
}

/** How one attempt at a run ended. */
export type Attempt =
  | { status: 'done'; testAcc: number | null; epochs: number }
  /** Stopped on request (Ctrl-C): resumable. */
  | { status: 'interrupted' }
  /** Failed; `retryable` false when trying again cannot help (a usage error). */
  | { status: 'failed'; error: string; retryable: boolean }
  /** Its run folder is held by another live process (the same run taken twice): to be tried again later. */
  | { status: 'busy'; error: string };

/** How `topdown train` says that a run folder's lock is held by a live process (see train/run-lock.ts). */
const FOLDER_IN_USE = / is in use by (another topdown process|a topdown process on )/;

/** Exit codes of `topdown` a retry cannot change (a usage error), and those of an interruption asked for. */
const USAGE_ERROR = 2;
const INTERRUPTED = new Set([130, 143]);

/** Makes runs as child processes; `stop()` asks every running one to checkpoint and exit. */
export class RunExecutor {
  private readonly children = new Set<ChildProcess>();
  private stopping = false;

  constructor(private readonly options: ExecutorOptions) {}

  get stopped(): boolean {
    return this.stopping;
  }

  /** Asks every running child to checkpoint and exit (a second call repeats the signal: they exit at once). */
  stop(): void {
    this.stopping = true;
    for (const child of this.children) child.kill('SIGINT');
  }

  /** Makes (or finishes) one run. */
  async execute(job: Job): Promise<Attempt> {
    const { out } = this.options;
    let folder: string;
    try {
      folder = runFolder(out, job);
    } catch (error) {
      return { status: 'failed', error: (error as Error).message, retryable: false };
    }
    const done = (): Attempt => {
      const s = runState(folder);
      return { status: 'done', testAcc: s.testAcc, epochs: s.epochs };
    };
    if (jobDone(out, job)) return done();
    const { code, errorLine } = await (job.kind === 'train'
      ? this.spawnCli(this.trainArgs(job, folder, runState(folder)))
      : this.spawnCli(this.theoryArgs(job, folder)));
    if (code === 0 && jobDone(out, job)) return done();
    // a child stopped before it could install its handler dies of the signal itself (code null)
    if (this.stopping && (code === null || INTERRUPTED.has(code))) return { status: 'interrupted' };
    const error =
      errorLine || `topdown ${job.kind} exited with ${code === null ? 'a signal' : `code ${code}`}`;
    if (FOLDER_IN_USE.test(error)) return { status: 'busy', error };
    return { status: 'failed', error, retryable: code !== USAGE_ERROR };
  }

  /** Writes a job's input file into `<out>/.jobs` and returns its path. */
  private jobFile(job: Job, content: unknown): string {
    const jobs = join(this.options.out, '.jobs');
    mkdirSync(jobs, { recursive: true });
    const file = pathInside(jobs, job.id, 'run id', '.json');
    writeFileSync(file, JSON.stringify(content, null, 2) + '\n');
    return file;
  }

  private theoryArgs(job: TheoryJob, folder: string): string[] {
    const file = this.jobFile(job, job.problem);
    return [
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
    ];
  }

  private trainArgs(job: TrainJob, folder: string, state: RunState): string[] {
    const o = this.options;
    const common = ['--threads', String(o.threads), ...(o.dataDir ? ['--data-dir', o.dataDir] : [])];
    if (state.hasCheckpoint) {
      return ['train', '--resume', folder, '--epochs', String(job.config.epochs), ...common];
    }
    const file = this.jobFile(job, job.config);
    // a folder without a checkpoint holds a dead attempt's leftovers; the child decides so under the folder's
    // lock, where a checkpoint another process wrote meanwhile is seen (and the run retried, then resumed)
    return ['train', '--config', file, '--out', folder, '--overwrite-unfinished', ...common];
  }

  private spawnCli(args: string[]): Promise<{ code: number | null; errorLine: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [this.options.cli, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
        env: { ...process.env, [PARENT_PID_ENV]: String(process.pid) },
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
}
