/**
 * The checkpoint file: "TDCK", a format version, a JSON header and float32 tensors, written atomically
 * (temporary file in the same folder, fsync, rename), so a crash at any moment leaves either the previous
 * checkpoint or the new one, never a torn file. The header carries a SHA-256 of itself and of every tensor,
 * verified on every load, so a flipped bit anywhere is refused rather than trained on or evaluated.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { TopdownUsageError } from '../core/errors.js';
import { writeAtomic } from '../core/files.js';

const MAGIC = 0x4b434454; // "TDCK" little-endian
/** Format 2 names every tensor by component (format 1 listed them by position). */
const VERSION = 2;

/** Writes `header` and `tensors` to `path` atomically. */
export function writeCheckpointFile(path: string, header: object, tensors: readonly Float32Array[]): void {
  const body = JSON.stringify({
    ...header,
    tensorLengths: tensors.map((t) => t.length),
    tensorChecksums: tensors.map(tensorChecksum),
  });
  // the header's own checksum covers everything before it: `{...,"headerChecksum":"<hex>"}`
  const json = Buffer.from(`${body.slice(0, -1)},"headerChecksum":"${sha256(body)}"}`, 'utf8');
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
  const text = bytes
    .subarray(12, 12 + headerLength)
    .toString('utf8')
    .trimEnd();
  const sealed = /,"headerChecksum":"([0-9a-f]{64})"\}$/.exec(text);
  if (!sealed) bad('its header has no checksum');
  if (sha256(`${text.slice(0, sealed!.index)}}`) !== sealed![1]) bad('its header fails its checksum');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
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
  const sums = header.tensorChecksums;
  if (!Array.isArray(sums) || sums.length !== lengths.length) return bad('bad tensor checksums');
  const names = tensorNames(header, lengths.length);
  const tensors = (lengths as number[]).map((n, i) => {
    const t = new Float32Array(n);
    new Uint8Array(t.buffer).set(bytes.subarray(offset, offset + 4 * n));
    offset += 4 * n;
    if (tensorChecksum(t) !== sums[i]) bad(`tensor ${names[i]} fails its checksum`);
    for (let j = 0; j < n; j++)
      if (!Number.isFinite(t[j]!)) bad(`tensor ${names[i]} holds NaN or infinite values`);
    return t;
  });
  return { header, tensors };
}

function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

function tensorChecksum(t: Float32Array): string {
  return sha256(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
}

/** `component.tensor` names in file order, from the model description (positions when it is missing). */
function tensorNames(header: Record<string, unknown>, count: number): string[] {
  const names: string[] = [];
  const components = (header.model as { components?: Record<string, { tensors?: unknown }> } | undefined)
    ?.components;
  if (components && typeof components === 'object') {
    for (const [component, entry] of Object.entries(components)) {
      if (Array.isArray(entry?.tensors))
        for (const t of entry.tensors) names.push(`${component}.${String(t)}`);
    }
  }
  return Array.from({ length: count }, (_, i) => names[i] ?? `#${i + 1}`);
}
