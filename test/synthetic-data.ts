// Synthetic datasets for tests, free of Node modules (the browser tests bundle them too).
import { Rng } from '../src/core/rng.js';
import type { Dataset, Split } from '../src/data/load.js';

/**
 * A learnable synthetic image task: each class has a random prototype image; samples are the prototype plus
 * noise, as uint8 pixels. `side` x `side` grey images.
 */
export function syntheticSplit(rng: Rng, prototypes: Float64Array[], count: number, features: number): Split {
  const pixels = new Uint8Array(count * features);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = rng.int(0, prototypes.length - 1);
    labels[i] = c;
    for (let j = 0; j < features; j++) {
      const v = prototypes[c]![j]! + 60 * rng.normal();
      pixels[i * features + j] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { pixels, labels, count };
}

export function syntheticDataset(seed: number, train = 600, test = 200, side = 8, classes = 4): Dataset {
  const rng = Rng.fromSeed(seed);
  const features = side * side;
  const prototypes = Array.from({ length: classes }, () => {
    const p = new Float64Array(features);
    for (let j = 0; j < features; j++) p[j] = rng.uniform() * 255;
    return p;
  });
  return {
    name: 'mnist',
    shape: [1, side, side],
    features,
    classes,
    train: syntheticSplit(rng, prototypes, train, features),
    test: syntheticSplit(rng, prototypes, test, features),
    source: 'synthetic',
  } as unknown as Dataset;
}
