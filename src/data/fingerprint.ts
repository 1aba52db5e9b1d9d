/** A dataset's identity for run records: SHA-256 over its name, counts, labels and pixels (train and test). */
import { createHash } from 'node:crypto';

import type { Dataset } from './load.js';

/** `sha256:<hex>` of the examples a session trains and evaluates on. */
export function datasetFingerprint(data: Dataset): string {
  const hash = createHash('sha256');
  hash.update(`${data.name}:${data.features}:${data.classes}:${data.train.count}:${data.test.count}\n`);
  for (const split of [data.train, data.test]) {
    hash.update(split.labels.subarray(0, split.count));
    hash.update(split.pixels.subarray(0, split.count * data.features));
  }
  return `sha256:${hash.digest('hex')}`;
}
