import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { datasetFingerprint, portableSha256 } from '../src/data/fingerprint.js';

import { syntheticDataset } from './synthetic-data.js';

describe('dataset fingerprint', () => {
  it('is the same SHA-256 from Node and from the portable hash a browser uses', () => {
    const data = syntheticDataset(4, 300, 50);
    const native = datasetFingerprint(data);
    expect(native).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(datasetFingerprint(data, portableSha256())).toBe(native);
    expect(datasetFingerprint(data, createHash('sha256'))).toBe(native);
    expect(datasetFingerprint(syntheticDataset(5, 300, 50))).not.toBe(native);
  });
});
