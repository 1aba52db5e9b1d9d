/**
 * The checkpoint format, as bytes: "TDCK", a format version, a JSON header and float32 tensors. The header
 * carries a SHA-256 of itself and of every tensor, verified on every decode, so a flipped bit anywhere is
 * refused rather than trained on or evaluated. Free of any file system: a browser writes and reads the same
 * files the command line does (`checkpoint-file.ts` stores them atomically in Node).
 */
import { TopdownUsageError } from '../core/errors.js';
import { sha256Of } from '../data/fingerprint.js';

import { resolveTrainConfig } from './config.js';
import type { ModelSnapshot } from './model.js';
import type { CheckpointContent, EpochLogs } from './trainer.js';

const MAGIC = 0x4b434454; // "TDCK" little-endian
/** Format 2 names every tensor by component (format 1 listed them by position). */
const VERSION = 2;

/** The parts of a checkpoint file in order (write them one after another, or concatenate them). */
export function encodeCheckpoint(header: object, tensors: readonly Float32Array[]): Uint8Array[] {
  const body = JSON.stringify({
    ...header,
    tensorLengths: tensors.map((t) => t.length),
    tensorChecksums: tensors.map(tensorChecksum),
  });
  // the header's own checksum covers everything before it: `{...,"headerChecksum":"<hex>"}`
  const json = new TextEncoder().encode(`${body.slice(0, -1)},"headerChecksum":"${sha256Of(body)}"}`);
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  const prefix = new Uint8Array(12 + json.length + pad).fill(0x20);
  const view = new DataView(prefix.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, json.length + pad, true);
  prefix.set(json, 12);
  return [prefix, ...tensors.map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength))];
}

/** Decodes a checkpoint file's bytes, validating its structure; throws a usage error naming `label` on damage. */
export function decodeCheckpoint(
  bytes: Uint8Array,
  label: string,
): { header: Record<string, unknown>; tensors: Float32Array[] } {
  const bad = (what: string): never => {
    throw new TopdownUsageError(`checkpoint ${label} is damaged or not a topdown checkpoint: ${what}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || view.getUint32(0, true) !== MAGIC) bad('wrong magic number');
  const version = view.getUint32(4, true);
  if (version < VERSION) {
    throw new TopdownUsageError(
      `checkpoint ${label} was written by an older topdown (checkpoint format ${version}; this version reads format ${VERSION}): train the run again`,
    );
  }
  if (version !== VERSION) bad(`unsupported format version ${version}`);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) bad('truncated header');
  const text = new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)).trimEnd();
  const sealed = /,"headerChecksum":"([0-9a-f]{64})"\}$/.exec(text);
  if (!sealed) bad('its header has no checksum');
  if (sha256Of(`${text.slice(0, sealed!.index)}}`) !== sealed![1]) bad('its header fails its checksum');
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

function tensorChecksum(t: Float32Array): string {
  return sha256Of(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
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

/** The header a checkpoint stores for `content` (its tensors are `content.model.tensors`). */
export function checkpointHeader(content: CheckpointContent): object {
  return {
    config: content.config,
    epochsDone: content.epochsDone,
    preludeDone: content.preludeDone,
    ...(content.partial ? { partial: content.partial } : {}),
    ...(content.environment ? { environment: content.environment } : {}),
    history: content.history,
    model: content.model.header,
  };
}

/** A whole checkpoint as one file's bytes. */
export function checkpointBytes(content: CheckpointContent): Uint8Array {
  const parts = encodeCheckpoint(checkpointHeader(content), content.model.tensors);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A decoded checkpoint's content, its config validated; throws a usage error naming `label` otherwise. */
export function checkpointContent(
  { header, tensors }: { header: Record<string, unknown>; tensors: Float32Array[] },
  label: string,
): CheckpointContent {
  const config = resolveTrainConfig(header.config, `checkpoint ${label}`);
  const { epochsDone, preludeDone } = header;
  if (!Number.isSafeInteger(epochsDone) || !Number.isSafeInteger(preludeDone))
    throw new TopdownUsageError(`checkpoint ${label} has no epoch count`);
  if (typeof header.model !== 'object' || header.model === null)
    throw new TopdownUsageError(`checkpoint ${label} has no model description`);
  return {
    config,
    epochsDone: epochsDone as number,
    preludeDone: preludeDone as number,
    partial: (header.partial as CheckpointContent['partial']) ?? null,
    ...(header.environment ? { environment: header.environment as CheckpointContent['environment'] } : {}),
    history: (header.history as EpochLogs[]) ?? [],
    model: { header: header.model as ModelSnapshot['header'], tensors },
  };
}
