/** A dataset's identity for run records: SHA-256 over its name, counts, labels and pixels (train and test). */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

import type { Dataset } from './assemble.js';

/** An incremental hash. */
export interface Hasher {
  update(data: Uint8Array | string): unknown;
  digest(): Uint8Array;
}

/** A SHA-256 hasher: Node's native one when the runtime offers it without an import (20x faster), else a portable one. */
export function createSha256(): Hasher {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  const crypto = get?.('node:crypto') as
    | { createHash(algorithm: string): { update(d: Uint8Array | string): unknown; digest(): Uint8Array } }
    | undefined;
  return crypto ? crypto.createHash('sha256') : portableSha256();
}

/** `sha256:<hex>` of the examples a session trains and evaluates on. */
export function datasetFingerprint(data: Dataset, hash: Hasher = createSha256()): string {
  hash.update(`${data.name}:${data.features}:${data.classes}:${data.train.count}:${data.test.count}\n`);
  for (const split of [data.train, data.test]) {
    hash.update(split.labels.subarray(0, split.count));
    hash.update(split.pixels.subarray(0, split.count * data.features));
  }
  return `sha256:${bytesToHex(hash.digest())}`;
}

/** The portable SHA-256 (what a browser uses), for tests comparing it with Node's. */
export function portableSha256(): Hasher {
  const h = sha256.create();
  const encoder = new TextEncoder();
  return {
    update: (d) => h.update(typeof d === 'string' ? encoder.encode(d) : d),
    digest: () => h.digest(),
  };
}

/** The lowercase hex SHA-256 of `data` (text as UTF-8), in Node or a browser. */
export function sha256Of(data: Uint8Array | string): string {
  const hash = createSha256();
  hash.update(data);
  return bytesToHex(hash.digest());
}
