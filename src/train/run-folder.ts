/**
 * A run's output folder: the resolved config (config.json), one metrics line per epoch (metrics.jsonl) and
 * the latest checkpoint (checkpoint.bin). Every file is replaced atomically; metrics lines are appended.
 */
import {
  accessSync,
  appendFileSync,
  constants,
  existsSync,
  mkdirSync,
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
import type { CheckpointContent, EpochLogs, EpochSink, GoodnessHistogram } from './trainer.js';

export const CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CHECKPOINT_FILE = 'checkpoint.bin';
export const HISTOGRAM_FILE = 'goodness-histograms.jsonl';

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

export class RunFolder implements EpochSink {
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

  writeEpoch(logs: EpochLogs): void {
    appendFileSync(join(this.dir, METRICS_FILE), JSON.stringify(logs) + '\n');
  }

  /** Appends one line to goodness-histograms.jsonl. */
  writeHistogram(record: GoodnessHistogram): void {
    appendFileSync(join(this.dir, HISTOGRAM_FILE), JSON.stringify(record) + '\n');
  }

  writeCheckpoint(content: CheckpointContent): void {
    writeCheckpointFile(
      this.checkpointPath,
      {
        config: content.config,
        epochsDone: content.epochsDone,
        history: content.history,
        model: content.model.header,
      },
      content.model.tensors,
    );
  }

  /** Keeps only the metrics lines of epochs 1..epochs (lines written after the last checkpoint are dropped). */
  truncateMetrics(epochs: number): void {
    // metrics lines and histograms written after the checkpoint being resumed are dropped (they will be redone)
    for (const file of [METRICS_FILE, HISTOGRAM_FILE]) {
      const path = join(this.dir, file);
      if (!existsSync(path)) continue;
      const kept = readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => {
          if (!line.trim()) return false;
          try {
            return (JSON.parse(line) as { epoch: number }).epoch <= epochs;
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
    const epochsDone = header.epochsDone;
    if (!Number.isSafeInteger(epochsDone))
      throw new TopdownUsageError(`checkpoint ${path} has no epoch count`);
    return {
      config,
      epochsDone: epochsDone as number,
      history: (header.history as EpochLogs[]) ?? [],
      model: { header: header.model as ModelSnapshot['header'], tensors },
    };
  }
}
