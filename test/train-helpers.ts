import { gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Rng } from '../src/core/rng.js';
import type { Dataset, Split } from '../src/data/index.js';
import { readCheckpointFile } from '../src/train/checkpoint-file.js';

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

function idx(magic: number, dims: number[], body: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(body)]);
}

/** Writes an MNIST-format (28 x 28, 10 classes) synthetic task as gzipped IDX files in `dir/mnist/`. */
export function writeSyntheticMnist(dir: string, seed: number, train = 1000, test = 200): void {
  const rng = Rng.fromSeed(seed);
  const features = 784;
  const prototypes = Array.from({ length: 10 }, () => {
    const p = new Float64Array(features);
    for (let j = 0; j < features; j++) p[j] = rng.uniform() < 0.3 ? 200 : 20;
    return p;
  });
  const folder = join(dir, 'mnist');
  mkdirSync(folder, { recursive: true });
  for (const [prefix, n] of [
    ['train', train],
    ['t10k', test],
  ] as const) {
    const split = syntheticSplit(rng, prototypes, n, features);
    writeFileSync(
      join(folder, `${prefix}-images-idx3-ubyte.gz`),
      gzipSync(idx(0x803, [n, 28, 28], split.pixels)),
    );
    writeFileSync(join(folder, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(idx(0x801, [n], split.labels)));
  }
}

/** The metrics lines of run folder `out` without their timings (which differ between identical runs). */
export function untimedMetrics(out: string): Record<string, unknown>[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) =>
      Object.fromEntries(
        Object.entries(JSON.parse(l) as Record<string, unknown>).filter(
          ([k]) => k !== 'seconds' && k !== 'samples_per_s',
        ),
      ),
    );
}

/** The tensors of run folder `out`'s checkpoint, as plain arrays. */
export function checkpointTensors(out: string): number[][] {
  return readCheckpointFile(join(out, 'checkpoint.bin')).tensors.map((t) => Array.from(t));
}
