// Synthetic MNIST-format files (28 x 28, 10 classes, gzipped IDX under the official names) for the browser app's tests.
import { gzipSync } from 'node:zlib';

import type { NamedFile } from '../src/data/assemble.js';

import { idxImages, idxLabels } from './data-fixtures.js';
import { syntheticDataset } from './synthetic-data.js';

/** The official MNIST files of a learnable synthetic task (prototype per class plus noise). */
export function syntheticMnistFiles(seed = 3, train = 2000, test = 500): NamedFile[] {
  const data = syntheticDataset(seed, train, test, 28, 10);
  const file = (name: string, bytes: Uint8Array): NamedFile => ({
    name,
    bytes: new Uint8Array(gzipSync(bytes)),
  });
  return [
    file('train-images-idx3-ubyte.gz', idxImages(train, 28, 28, data.train.pixels)),
    file('train-labels-idx1-ubyte.gz', idxLabels(data.train.labels)),
    file('t10k-images-idx3-ubyte.gz', idxImages(test, 28, 28, data.test.pixels)),
    file('t10k-labels-idx1-ubyte.gz', idxLabels(data.test.labels)),
  ];
}
