/**
 * A run's output folder: the resolved config (config.json), one metrics line per epoch (metrics.jsonl), the
 * side streams callbacks record (goodness-histograms.jsonl) and the latest checkpoint (checkpoint.bin). It is
 * the training loop's last callback. Every file is replaced atomically; lines are appended.
 */
import {
  accessSync,
  appendFileSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

import { TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';
import { ensureFolder, fileError, writeAtomic } from '../core/files.js';

import { checkpointContent, checkpointHeader } from './checkpoint-codec.js';
import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file.js';
import { RunLock } from './run-lock.js';
import {
  canonicalJson,
  GOODNESS_HISTOGRAMS,
  RESUMABLE_CHANGES,
  type CheckpointContent,
  type EpochLogs,
  type TrainCallbacks,
  type TrainingSession,
} from './trainer.js';

export const CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CHECKPOINT_FILE = 'checkpoint.bin';
/** The file a side stream's records go to. */
export function streamFile(stream: string): string {
  return `${stream}.jsonl`;
}

export const HISTOGRAM_FILE = streamFile(GOODNESS_HISTOGRAMS);

/** `runs/<date>-<time>-<rule>-<data>` under the working directory. */
export function defaultRunFolder(rule: string, data: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return join('runs', `${stamp}-${rule}-${data}`);
}

/** The best epoch's checkpoint, beside the latest one. */
export const BEST_CHECKPOINT_FILE = 'checkpoint-best.bin';

/** True when `logs` (the last of `history`) scores above every earlier training epoch. */
function isBest(logs: EpochLogs, history: readonly EpochLogs[]): boolean {
  const score = (e: EpochLogs): number => (typeof e.val_acc === 'number' ? e.val_acc : e.test_acc);
  return history.filter((e) => e !== logs && e.phase === undefined).every((e) => score(e) < score(logs));
}

/** What a run leaves in its folder besides the side streams' `.jsonl` files (removed by `--overwrite`). */
const RUN_FILES = [
  CONFIG_FILE,
  METRICS_FILE,
  CHECKPOINT_FILE,
  BEST_CHECKPOINT_FILE,
  'goodness-histograms.svg',
  'goodness-histograms.png',
];

export class RunFolder implements TrainCallbacks {
  private lock: RunLock | null = null;

  /**
   * Creates (or reuses) `dir`, failing with a one-line error when it cannot be written; with `create: false`,
   * opens an existing folder for reading only (nothing is created or written).
   */
  constructor(
    readonly dir: string,
    { create = true }: { create?: boolean } = {},
  ) {
    if (!create) {
      let isDir = false;
      try {
        isDir = statSync(dir).isDirectory();
      } catch (error) {
        throw fileError(`cannot open the run folder ${dir}`, error);
      }
      if (!isDir) throw new TopdownUsageError(`${dir} is a file, not a run folder`);
      return;
    }
    try {
      if (existsSync(dir) && !statSync(dir).isDirectory())
        throw new TopdownUsageError(`output path ${dir} is a file, not a folder`);
      ensureFolder(dir);
      accessSync(dir, constants.W_OK);
    } catch (error) {
      if (error instanceof TopdownUsageError) throw error;
      throw fileError(`cannot write to the output folder ${dir}`, error);
    }
  }

  /** An existing run folder, opened for reading only: nothing is created or written. */
  static forReading(dir: string): RunFolder {
    return new RunFolder(dir, { create: false });
  }

  /**
   * Claims `dir` for a new run: creates it, refuses it when it already holds a run (unless `overwrite`, which
   * removes that run's files), and takes its lock. `overwrite: 'unfinished'` (what runners ask for) removes
   * only a run that left no checkpoint, decided under the lock: a folder that holds a checkpoint by then was
   * made meanwhile by another process, and is refused with an error a runner retries (it then resumes it).
   */
  static claimNew(dir: string, overwrite: boolean | 'unfinished' = false): RunFolder {
    const folder = new RunFolder(dir);
    folder.lock = RunLock.acquire(dir);
    try {
      const held = folder.runFiles();
      if (overwrite === 'unfinished' && held.includes(CHECKPOINT_FILE)) {
        throw new TopdownUnavailableError(
          `${dir} gained a checkpoint while this run was starting (another process made it): run it again to resume it`,
        );
      }
      if (held.length && !overwrite) {
        throw new TopdownUsageError(
          `${dir} already holds a run (${held.join(', ')}): continue it with --resume ${dir}, or replace it with --overwrite`,
        );
      }
      for (const f of held) rmSync(join(dir, f), { force: true });
      folder.removeStaleTemporaries();
    } catch (error) {
      folder.release();
      throw error;
    }
    return folder;
  }

  /** Claims a fresh folder `runs/<date>-<time>-<rule>-<data>[-N]`, unique even for runs started together. */
  static claimDefault(rule: string, data: string, now = new Date()): RunFolder {
    const base = defaultRunFolder(rule, data, now);
    try {
      ensureFolder(dirname(base));
    } catch (error) {
      throw fileError(`cannot create ${dirname(base)}`, error);
    }
    for (let n = 1; n < 10000; n++) {
      const dir = n === 1 ? base : `${base}-${n}`;
      try {
        mkdirSync(dir); // atomic: exactly one process creates each name
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw fileError(`cannot create ${dir}`, error);
      }
      return RunFolder.claimNew(dir);
    }
    throw new TopdownUsageError(`cannot find a free folder name for ${base}`);
  }

  /** Claims an existing run folder to continue it (its lock taken, stale temporary files removed). */
  static claimExisting(dir: string): RunFolder {
    const folder = RunFolder.forReading(dir);
    try {
      accessSync(dir, constants.W_OK);
    } catch (error) {
      throw fileError(`cannot write to the run folder ${dir}`, error);
    }
    folder.lock = RunLock.acquire(dir);
    folder.removeStaleTemporaries();
    return folder;
  }

  /** Gives up the folder's lock (if this process holds it). */
  release(): void {
    this.lock?.release();
    this.lock = null;
  }

  /** The files of a run present in the folder. */
  private runFiles(): string[] {
    return readdirSync(this.dir).filter((f) => RUN_FILES.includes(f) || f.endsWith('.jsonl'));
  }

  /** Removes `<file>.tmp-<pid>` and lock drafts left by processes that are gone (a kill during a write). */
  private removeStaleTemporaries(): void {
    for (const f of readdirSync(this.dir)) {
      const m = /(?:\.tmp-|^run\.lock\.)(\d+)$/.exec(f);
      if (!m) continue;
      const pid = Number(m[1]);
      let gone = pid !== process.pid;
      if (gone) {
        try {
          process.kill(pid, 0);
          gone = false;
        } catch (error) {
          gone = (error as NodeJS.ErrnoException).code !== 'EPERM';
        }
      }
      if (gone) rmSync(join(this.dir, f), { force: true });
    }
  }

  get checkpointPath(): string {
    return join(this.dir, CHECKPOINT_FILE);
  }

  /** The checkpoint of the best epoch so far (by validation accuracy when there is a split, else test). */
  get bestCheckpointPath(): string {
    return join(this.dir, BEST_CHECKPOINT_FILE);
  }

  writeConfig(config: object): void {
    writeAtomic(join(this.dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
  }

  /** Writes the epoch's metrics line, then the checkpoint when one is due. */
  onEpochEnd(logs: EpochLogs, session: TrainingSession): void {
    this.writeEpoch(logs);
    const due = session.checkpointDue;
    const best = logs.phase === undefined && isBest(logs, session.history.epochs);
    if (!due && !best) return;
    const content = session.checkpoint();
    if (due) this.writeCheckpoint(content);
    // the best epoch's state is kept beside the latest, so a later slide (not only a collapse) loses nothing
    if (best) this.writeCheckpoint(content, this.bestCheckpointPath);
  }

  /** Training stopped inside an epoch: checkpoint the epoch so far. */
  onInterrupt(session: TrainingSession): void {
    this.writeCheckpoint(session.checkpoint());
  }

  /** Appends a record to `<stream>.jsonl`. */
  onRecord(stream: string, record: object): void {
    this.append(streamFile(stream), JSON.stringify(record) + '\n');
  }

  writeEpoch(logs: EpochLogs): void {
    this.append(METRICS_FILE, JSON.stringify(logs) + '\n');
  }

  private append(file: string, line: string): void {
    const path = join(this.dir, file);
    try {
      appendFileSync(path, line);
    } catch (error) {
      throw fileError(`cannot write ${path}`, error);
    }
  }

  writeCheckpoint(content: CheckpointContent, path = this.checkpointPath): void {
    writeCheckpointFile(path, checkpointHeader(content), content.model.tensors);
  }

  /**
   * Drops the lines (metrics and side streams) of epochs after `lastEpoch`, the last epoch of the checkpoint
   * being resumed: they will be redone. Prelude epochs are numbered up to 0.
   */
  truncateMetrics(lastEpoch: number): void {
    const files = readdirSync(this.dir).filter((f) => f.endsWith('.jsonl'));
    for (const file of files) {
      const path = join(this.dir, file);
      if (!existsSync(path)) continue;
      const kept = readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => {
          if (!line.trim()) return false;
          try {
            return (JSON.parse(line) as { epoch: number }).epoch <= lastEpoch;
          } catch {
            return false; // a line torn by a crash
          }
        });
      writeAtomic(path, kept.map((l) => l + '\n').join(''));
    }
  }

  /**
   * Reads the folder's checkpoint, validating its config; refuses a checkpoint whose config differs from
   * the folder's config.json (a checkpoint copied in from another run).
   */
  readCheckpoint(which: 'latest' | 'best' = 'latest'): CheckpointContent {
    const path = which === 'best' ? this.bestCheckpointPath : this.checkpointPath;
    if (!existsSync(path))
      throw new TopdownUsageError(
        `no ${which === 'best' ? 'best ' : ''}checkpoint in ${this.dir} (expected ${which === 'best' ? BEST_CHECKPOINT_FILE : CHECKPOINT_FILE})`,
      );
    const file = readCheckpointFile(path);
    const content = checkpointContent(file, path);
    const own = join(this.dir, CONFIG_FILE);
    if (existsSync(own)) {
      let folderConfig: unknown;
      try {
        folderConfig = JSON.parse(readFileSync(own, 'utf8'));
      } catch (error) {
        throw fileError(`cannot read ${own}`, error);
      }
      // what a resume may change (epochs, engine, threads, data folder) is left out of the comparison
      const shape = (c: unknown): string | undefined => {
        const copy = { ...(c as Record<string, unknown>) };
        for (const key of RESUMABLE_CHANGES) delete copy[key];
        return canonicalJson(copy);
      };
      if (shape(folderConfig) !== shape(file.header.config)) {
        throw new TopdownUsageError(
          `checkpoint ${path} does not belong to this run: its config differs from ${own}`,
        );
      }
    }
    return content;
  }
}
