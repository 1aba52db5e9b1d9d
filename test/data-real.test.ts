import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { channelStats, listDatasets, loadDataset } from '../src/data/index.js';

/** The shared development copies of the datasets (the repository is checked out next to shared/). */
const shared = join(import.meta.dirname, '..', '..', 'shared', 'data');

describe('the shared datasets', () => {
  it.runIf(existsSync(join(shared, 'mnist')))('loads MNIST with the official counts and statistics', () => {
    const d = loadDataset('mnist', { dataDir: shared });
    expect(d.train.count).toBe(60000);
    expect(d.test.count).toBe(10000);
    expect(d.train.pixels.length).toBe(60000 * 784);
    for (const split of [d.train, d.test]) {
      expect(Math.max(...split.labels)).toBe(9);
      expect(Math.min(...split.labels)).toBe(0);
    }
    const { mean, std } = channelStats(d.train, d.shape);
    expect(mean[0]).toBeCloseTo(0.1307, 4);
    expect(std[0]).toBeCloseTo(0.3081, 4);
  });

  it.runIf(existsSync(join(shared, 'fashion-mnist')))(
    'reports fashion-mnist as verified, mnist as valid',
    () => {
      const [mnist, fashion] = listDatasets(shared, { names: ['mnist', 'fashion-mnist'] });
      expect(fashion!.status).toBe('verified');
      expect(fashion!.detail).toMatch(/^60000 train \/ 10000 test; SHA-256/);
      if (mnist!.status !== 'missing') expect(mnist!.status).toBe('valid');
    },
  );
});
