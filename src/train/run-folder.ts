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
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

import { TopdownUsageError } from '../core/errors.js';

import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file.js';
import { resolveTrainConfig } from './config.js';
import type { ModelSnapshot } from './model.js';
import {
  GOODNESS_HISTOGRAMS,
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

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export class RunFolder implements TrainCallbacks {
  /** Creates (or reuses) `dir`, failing with a one-line error when it cannot be written. */
  constructor(readonly dir: string) {
    try {
      if (existsSync(dir) && !statSync(dir).isDirectory())
        throw new TopdownUsageError(`output path ${dir} is a file, not a folder`);
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (error) {
      if (error instanceof TopdownUsageError) throw error;
      throw new TopdownUsageError(
        `cannot write to the output folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }

  get checkpointPath(): string {
    return join(this.dir, CHECKPOINT_FILE);
  }

  writeConfig(config: object): void {
    writeAtomic(join(this.dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
  }

  /** Writes the epoch's metrics line, then the checkpoint when one is due. */
  onEpochEnd(logs: EpochLogs, session: TrainingSession): void {
    this.writeEpoch(logs);
    if (session.checkpointDue) this.writeCheckpoint(session.checkpoint());
  }

  /** Appends a record to `<stream>.jsonl`. */
  onRecord(stream: string, record: object): void {
    appendFileSync(join(this.dir, streamFile(stream)), JSON.stringify(record) + '\n');
  }

  writeEpoch(logs: EpochLogs): void {
    appendFileSync(join(this.dir, METRICS_FILE), JSON.stringify(logs) + '\n');
  }

  writeCheckpoint(content: CheckpointContent): void {
    writeCheckpointFile(
      this.checkpointPath,
      {
        config: content.config,
        epochsDone: content.epochsDone,
        preludeDone: content.preludeDone,
        history: content.history,
        model: content.model.header,
      },
      content.model.tensors,
    );
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

  /** Reads the folder's checkpoint, validating its config. */
  readCheckpoint(): CheckpointContent {
    const path = this.checkpointPath;
    if (!existsSync(path))
      throw new TopdownUsageError(`no checkpoint in ${this.dir} (expected ${CHECKPOINT_FILE})`);
    const { header, tensors } = readCheckpointFile(path);
    const config = resolveTrainConfig(header.config, `checkpoint ${path}`);
    const { epochsDone, preludeDone } = header;
    if (!Number.isSafeInteger(epochsDone) || !Number.isSafeInteger(preludeDone))
      throw new TopdownUsageError(`checkpoint ${path} has no epoch count`);
    if (typeof header.model !== 'object' || header.model === null)
      throw new TopdownUsageError(`checkpoint ${path} has no model description`);
    return {
      config,
      epochsDone: epochsDone as number,
      preludeDone: preludeDone as number,
      history: (header.history as EpochLogs[]) ?? [],
      model: { header: header.model as ModelSnapshot['header'], tensors },
    };
  }
}
