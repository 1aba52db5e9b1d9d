/**
 * The messages between the page and its training worker. The worker's logic ({@link SessionHost}) speaks
 * only these, so it is tested in Node without a browser; `worker.ts` connects it to `postMessage`.
 */
import type { NamedFile } from '../../src/data/assemble.js';
import type { DatasetName } from '../../src/data/datasets.js';
import type { TrainConfig } from '../../src/train/config.js';
import type { BatchLogs, EpochLogs, GoodnessHistogram } from '../../src/train/trainer.js';

/** One run's options, flat as in a config file (`{ rule: 'pepita', hidden: [256], mode: 'hebbian' }`). */
export type RunInput = Record<string, unknown>;

/** A row of the image strip: one image per sample (`count` x `features` values). */
export interface ImageRow {
  label: string;
  pixels: Float32Array;
  count: number;
  /** Centred on 0 (grey = 0), each image scaled by its own largest magnitude when `perImage`. */
  signed: boolean;
  perImage: boolean;
  captions: string[];
}

/** What the page asks. */
export type PageMessage =
  | { type: 'init'; kernelsUrl: string; threads?: number }
  /** Load a dataset from files given by name (dropped, picked, or fetched from the served data folder). */
  | { type: 'data'; dataset: DatasetName; files: NamedFile[] }
  /** Build one session per run (side by side: the same data and seed, one rule each); replaces the last. */
  | { type: 'configure'; runs: RunInput[] }
  | { type: 'start' }
  | { type: 'pause' }
  /** One batch of every unfinished run. */
  | { type: 'step' }
  /** Drop the sessions (their memory is given back) and build them again from the same runs. */
  | { type: 'reset' }
  | { type: 'export'; run: number }
  /** Continue (or view) a run from a checkpoint file's bytes, training up to `epochs` when given. */
  | { type: 'import'; name: string; bytes: Uint8Array; epochs?: number };

/** The state of the sessions. */
export type HostStatus = 'empty' | 'ready' | 'running' | 'paused' | 'done';

/** What the worker reports. */
export type WorkerMessage =
  | { type: 'ready'; engine: string; threads: number; shared: boolean; variant: string }
  | { type: 'data'; dataset: DatasetName; train: number; test: number; source: string; fingerprint: string }
  | { type: 'configured'; runs: { label: string; config: TrainConfig; history: EpochLogs[] }[] }
  /** Running numbers of a run's epoch (sent at most every `PROGRESS_MS`, and after every stepped batch). */
  | { type: 'progress'; run: number; logs: BatchLogs; step: number }
  | { type: 'epoch'; run: number; logs: EpochLogs }
  | { type: 'views'; run: number; epoch: number; rows: ImageRow[] }
  | { type: 'histogram'; run: number; histogram: GoodnessHistogram }
  | { type: 'status'; status: HostStatus; memoryBytes: number; samplesPerS: number }
  | { type: 'exported'; run: number; name: string; checkpoint: Uint8Array; metrics: string; config: string }
  /** One line, as the command line prints it; `during` names what failed. */
  | { type: 'error'; during: PageMessage['type'] | 'training'; message: string }
  | { type: 'notice'; message: string };

/** How often a running session reports its batches. */
export const PROGRESS_MS = 250;

const TYPES: ReadonlySet<string> = new Set([
  'init',
  'data',
  'configure',
  'start',
  'pause',
  'step',
  'reset',
  'export',
  'import',
]);

/** The message as a {@link PageMessage}, or a one-line reason it is not one. */
export function checkPageMessage(value: unknown): PageMessage | string {
  if (typeof value !== 'object' || value === null) return 'a message must be an object';
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !TYPES.has(type)) return `unknown message type ${JSON.stringify(type)}`;
  const m = value as Record<string, unknown>;
  if (type === 'data' && (!Array.isArray(m.files) || typeof m.dataset !== 'string'))
    return 'a data message needs a dataset and files';
  if (type === 'configure' && (!Array.isArray(m.runs) || m.runs.length === 0))
    return 'a configure message needs at least one run';
  if (type === 'export' && !Number.isSafeInteger(m.run)) return 'an export message needs a run index';
  if (type === 'import' && !(m.bytes instanceof Uint8Array)) return 'an import message needs the file bytes';
  return value as PageMessage;
}
