/**
 * The checkpoint file in Node: its bytes (`checkpoint-codec.ts`) written atomically (temporary file in the same
 * folder, fsync, rename), so a crash at any moment leaves either the previous checkpoint or the new one, never
 * a torn file; read back with every checksum verified.
 */
import { readFileSync } from 'node:fs';

import { TopdownUsageError } from '../core/errors.js';
import { writeAtomic } from '../core/files.js';

import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-codec.js';

/** Writes `header` and `tensors` to `path` atomically. */
export function writeCheckpointFile(path: string, header: object, tensors: readonly Float32Array[]): void {
  writeAtomic(path, ...encodeCheckpoint(header, tensors));
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
  return decodeCheckpoint(bytes, path);
}
