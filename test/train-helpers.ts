import { gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Rng } from '../src/core/rng.js';

import { syntheticSplit } from './synthetic-data.js';

export { syntheticDataset, syntheticSplit } from './synthetic-data.js';
import { readCheckpointFile } from '../src/train/checkpoint-file.js';

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
