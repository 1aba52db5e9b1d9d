/**
 * TensorBoard event files (tfevents), so that `tensorboard --logdir runs/` shows topdown's runs as it shows
 * the authors'. A file is a sequence of records: the data's length as a little-endian uint64, the masked
 * CRC32C of those 8 bytes, the data, the masked CRC32C of the data (TFRecord framing); each record's data is
 * an `Event` protobuf (wall time, step, and a file version or a summary of scalar values). Protobuf encoding
 * by protobufjs, CRC32C by crc-32.
 */
import { accessSync, closeSync, constants, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import CRC32C from 'crc-32/crc32c.js';
import protobuf from 'protobufjs';

import { TopdownUsageError } from '../core/errors.js';
import { ensureFolder, fileError } from '../core/files.js';
import { printable } from '../core/untrusted.js';

/** The part of TensorFlow's event.proto and summary.proto that scalar logging needs. */
const root = protobuf.Root.fromJSON({
  nested: {
    Event: {
      fields: {
        wallTime: { type: 'double', id: 1 },
        step: { type: 'int64', id: 2 },
        fileVersion: { type: 'string', id: 3 },
        summary: { type: 'Summary', id: 5 },
      },
    },
    Summary: { fields: { value: { rule: 'repeated', type: 'SummaryValue', id: 1 } } },
    SummaryValue: { fields: { tag: { type: 'string', id: 1 }, simpleValue: { type: 'float', id: 2 } } },
  },
});
/** The protobuf type of an event. */
export const EventType = root.lookupType('Event');

/** TFRecord's masked CRC32C: rotate right by 15 bits and add a constant (unsigned 32-bit). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = CRC32C.buf(bytes) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, its masked CRC, the data, the data's masked CRC. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** The records of a tfevents file, each checked against its CRCs (throws on a damaged record). */
export function readRecords(bytes: Uint8Array): Uint8Array[] {
  const records: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Error(`truncated record header at byte ${at}`);
    const length = Number(view.getBigUint64(at, true));
    if (view.getUint32(at + 8, true) !== maskedCrc32c(bytes.subarray(at, at + 8)))
      throw new Error(`bad length CRC at byte ${at}`);
    const data = bytes.subarray(at + 12, at + 12 + length);
    if (at + 16 + length > bytes.length) throw new Error(`truncated record at byte ${at}`);
    if (view.getUint32(at + 12 + length, true) !== maskedCrc32c(data))
      throw new Error(`bad data CRC at byte ${at}`);
    records.push(data);
    at += 16 + length;
  }
  return records;
}

/** An Event's bytes: a file version, or scalars at a step. */
export function encodeEvent(event: {
  wallTime: number;
  step?: number;
  fileVersion?: string;
  scalars?: Record<string, number>;
}): Uint8Array {
  const message: Record<string, unknown> = { wallTime: event.wallTime };
  if (event.step !== undefined) message.step = event.step;
  if (event.fileVersion !== undefined) message.fileVersion = event.fileVersion;
  if (event.scalars) {
    message.summary = {
      value: Object.entries(event.scalars).map(([tag, simpleValue]) => ({ tag, simpleValue })),
    };
  }
  const bytes = EventType.encode(EventType.create(message)).finish();
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Throws a one-line error unless `dir` can hold a run's event files: it is absent (it will be created) or a
 * writable folder. Training checks this before it writes anything, so a clash leaves nothing behind.
 */
export function checkEventsFolder(dir: string): void {
  let isFolder: boolean;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fileError(`cannot use ${printable(dir)} for the TensorBoard event files`, error);
  }
  if (!isFolder)
    throw new TopdownUsageError(
      `${printable(dir)} is a file, not a folder: --tensorboard writes the run's event files there (move the file away, or choose another --out)`,
    );
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw fileError(`cannot write the TensorBoard event files in ${printable(dir)}`, error);
  }
}

/**
 * Appends scalar events to a new `events.out.tfevents.<seconds>.<host>` file in `dir`; every write is
 * flushed to disk, so a killed run loses nothing it logged.
 */
export class TfEventsWriter {
  readonly path: string;
  private fd: number;

  constructor(dir: string, now = Date.now()) {
    checkEventsFolder(dir);
    try {
      ensureFolder(dir);
    } catch (error) {
      throw fileError(`cannot create ${printable(dir)}`, error);
    }
    this.path = join(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}.${process.pid}`);
    try {
      this.fd = openSync(this.path, 'a');
    } catch (error) {
      throw fileError(`cannot write ${this.path}`, error);
    }
    this.write(encodeEvent({ wallTime: now / 1000, fileVersion: 'brain.Event:2' }));
  }

  /** Writes the scalars of one step (NaN and infinite values are left out). */
  scalars(step: number, values: Record<string, number>, now = Date.now()): void {
    const finite = Object.fromEntries(Object.entries(values).filter(([, v]) => Number.isFinite(v)));
    if (Object.keys(finite).length) this.write(encodeEvent({ wallTime: now / 1000, step, scalars: finite }));
  }

  close(): void {
    closeSync(this.fd);
  }

  private write(data: Uint8Array): void {
    try {
      writeSync(this.fd, frameRecord(data));
      fsyncSync(this.fd);
    } catch (error) {
      throw fileError(`cannot write ${this.path}`, error);
    }
  }
}

/**
 * The scalars of a metrics line as TensorBoard tags: `test_acc`, `train_loss`... and per-layer lists as
 * `goodness_pos/1`, `goodness_pos/2`...; timing fields under `time/`.
 */
export function scalarTags(logs: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(logs)) {
    if (key === 'epoch' || key === 'phase') continue;
    const tag = key === 'seconds' || key === 'samples_per_s' ? `time/${key}` : key;
    if (typeof value === 'number') out[tag] = value;
    else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        if (typeof v === 'number') out[`${tag}/${i + 1}`] = v;
      });
    }
  }
  return out;
}
