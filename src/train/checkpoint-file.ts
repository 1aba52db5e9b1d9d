/**
 * The checkpoint file: "TDCK", a format version, a JSON header and float32 tensors, written atomically
 * (temporary file in the same folder, fsync, rename), so a crash at any moment leaves either the previous
 * checkpoint or the new one, never a torn file.
 */
import { readFileSync } from 'node:fs';

import { TopdownUsageError } from '../core/errors.js';
import { writeAtomic } from '../core/files.js';

const MAGIC = 0x4b434454; // "TDCK" little-endian
/** Format 2 names every tensor by component (format 1 listed them by position). */
const VERSION = 2;

/** Writes `header` and `tensors` to `path` atomically. */
export function writeCheckpointFile(path: string, header: object, tensors: readonly Float32Array[]): void {
  const json = Buffer.from(
    JSON.stringify({ ...header, tensorLengths: tensors.map((t) => t.length) }),
    'utf8',
  );
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  const prefix = Buffer.alloc(12);
  prefix.writeUInt32LE(MAGIC, 0);
  prefix.writeUInt32LE(VERSION, 4);
  prefix.writeUInt32LE(json.length + pad, 8);
  writeAtomic(
    path,
    prefix,
    Buffer.concat([json, Buffer.alloc(pad, 0x20)]),
    ...tensors.map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength)),
  );
}

/** Reads a checkpoint file, validating its structure; throws a usage error naming the file on damage. */
export function readCheckpointFile(path: string): {
  header: Record<string, unknown>;
  tensors: Float32Array[];
} {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new TopdownUsageError(
      `cannot read checkpoint ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const bad = (what: string): never => {
    throw new TopdownUsageError(`checkpoint ${path} is damaged or not a topdown checkpoint: ${what}`);
  };
  if (bytes.length < 12 || bytes.readUInt32LE(0) !== MAGIC) bad('wrong magic number');
  const version = bytes.readUInt32LE(4);
  if (version < VERSION) {
    throw new TopdownUsageError(
      `checkpoint ${path} was written by an older topdown (checkpoint format ${version}; this version reads format ${VERSION}): train the run again`,
    );
  }
  if (version !== VERSION) bad(`unsupported format version ${version}`);
  const headerLength = bytes.readUInt32LE(8);
  if (12 + headerLength > bytes.length) bad('truncated header');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch {
    return bad('unreadable header');
  }
  const lengths = header.tensorLengths;
  if (!Array.isArray(lengths) || lengths.some((n) => !Number.isSafeInteger(n) || n < 0))
    return bad('bad tensor table');
  let offset = 12 + headerLength;
  const total = (lengths as number[]).reduce((s, n) => s + n, 0);
  if (offset + 4 * total !== bytes.length)
    bad(`expected ${offset + 4 * total} bytes, found ${bytes.length} (truncated?)`);
  const tensors = (lengths as number[]).map((n) => {
    const t = new Float32Array(n);
    new Uint8Array(t.buffer).set(bytes.subarray(offset, offset + 4 * n));
    offset += 4 * n;
    return t;
  });
  return { header, tensors };
}
