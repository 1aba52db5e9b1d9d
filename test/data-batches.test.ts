import { describe, expect, it } from 'vitest';

import { Rng } from '../src/core/rng.js';
import {
  channelStats,
  fillBatch,
  fillTargets,
  labelsAt,
  standardizeTransform,
  type PixelTransform,
  type Split,
} from '../src/data/index.js';

import { fakeSplit } from './data-fixtures.js';

const CIFAR_SHAPE = [3, 32, 32] as const;
const MNIST_SHAPE = [1, 28, 28] as const;

/** Direct float64 statistics: mean and population std per channel of pixel/255. */
function directStats(split: Split, channels: number, plane: number): { mean: number[]; std: number[] } {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    let n = 0;
    for (let r = 0; r < split.count; r++) {
      for (let p = 0; p < plane; p++) {
        sum += split.pixels[r * channels * plane + c * plane + p]! / 255;
        n++;
      }
    }
    const m = sum / n;
    let sq = 0;
    for (let r = 0; r < split.count; r++) {
      for (let p = 0; p < plane; p++)
        sq += (split.pixels[r * channels * plane + c * plane + p]! / 255 - m) ** 2;
    }
    mean.push(m);
    std.push(Math.sqrt(sq / n));
  }
  return { mean, std };
}

/** Channel-dependent pixels so that the three channels have different statistics. */
function colourSplit(count: number): Split {
  const split = fakeSplit(count, 3072, 10, 11);
  for (let r = 0; r < count; r++) {
    for (let p = 0; p < 1024; p++) {
      split.pixels[r * 3072 + p] = split.pixels[r * 3072 + p]! >> 1; // R in [0, 127]
      split.pixels[r * 3072 + 2048 + p] = 128 + (split.pixels[r * 3072 + 2048 + p]! >> 2); // B in [128, 191]
    }
  }
  return split;
}

describe('channelStats', () => {
  it('matches a direct computation per channel (CIFAR shape)', () => {
    const split = colourSplit(9);
    const stats = channelStats(split, CIFAR_SHAPE);
    const direct = directStats(split, 3, 1024);
    expect(stats.mean).toBeInstanceOf(Float32Array);
    expect(stats.mean.length).toBe(3);
    for (let c = 0; c < 3; c++) {
      expect(stats.mean[c]).toBeCloseTo(direct.mean[c]!, 6);
      expect(stats.std[c]).toBeCloseTo(direct.std[c]!, 6);
    }
    expect(stats.mean[0]).toBeLessThan(0.5);
    expect(stats.mean[2]).toBeGreaterThan(0.5);
  });

  it('handles one channel and constant images', () => {
    const split = fakeSplit(5, 784, 10, 2);
    const s = channelStats(split, MNIST_SHAPE);
    const d = directStats(split, 1, 784);
    expect(s.mean[0]).toBeCloseTo(d.mean[0]!, 6);
    expect(s.std[0]).toBeCloseTo(d.std[0]!, 6);
    split.pixels.fill(51);
    const constant = channelStats(split, MNIST_SHAPE);
    expect(constant.mean[0]).toBeCloseTo(0.2, 7);
    expect(constant.std[0]).toBe(0);
    expect(() => channelStats(split, CIFAR_SHAPE)).toThrow(/expected 5 x 3072/);
  });
});

describe('fillBatch, fillTargets, labelsAt', () => {
  const split = colourSplit(12);
  const indices = Rng.fromSeed(3).permutation(12);

  it('writes pixel/255 rows in index order, leaving the rest of the buffer alone', () => {
    const out = new Float32Array(5 * 3072 + 7).fill(-9);
    fillBatch(split, 3072, indices, 4, 5, out, null);
    for (let r = 0; r < 5; r++) {
      const src = indices[4 + r]! * 3072;
      for (const f of [0, 1, 1023, 1024, 2047, 2048, 3071]) {
        expect(out[r * 3072 + f]).toBe(Math.fround(split.pixels[src + f]! / 255));
      }
    }
    expect(out[5 * 3072]).toBe(-9);
    const off: PixelTransform = {
      standardize: false,
      mean: new Float32Array([0.5]),
      std: new Float32Array([0.1]),
    };
    const again = new Float32Array(5 * 3072);
    fillBatch(split, 3072, indices, 4, 5, again, off);
    expect(again).toEqual(out.subarray(0, 5 * 3072));
  });

  it('standardises per channel: (pixel/255 - mean_c) / std_c', () => {
    const transform = standardizeTransform(split, CIFAR_SHAPE);
    expect(transform.standardize).toBe(true);
    const out = new Float32Array(6 * 3072);
    fillBatch(split, 3072, indices, 6, 6, out, transform);
    let maxErr = 0;
    for (let r = 0; r < 6; r++) {
      const src = indices[6 + r]! * 3072;
      for (let f = 0; f < 3072; f++) {
        const c = Math.floor(f / 1024);
        const expected = (split.pixels[src + f]! / 255 - transform.mean[c]!) / transform.std[c]!;
        maxErr = Math.max(maxErr, Math.abs(out[r * 3072 + f]! - expected));
      }
    }
    expect(maxErr).toBeLessThan(1e-5);
    // standardised over the whole split: mean 0, std 1 per channel
    const all = new Float32Array(12 * 3072);
    fillBatch(
      split,
      3072,
      Uint32Array.from({ length: 12 }, (_, i) => i),
      0,
      12,
      all,
      transform,
    );
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      let sq = 0;
      for (let r = 0; r < 12; r++) {
        for (let p = 0; p < 1024; p++) {
          const v = all[r * 3072 + c * 1024 + p]!;
          sum += v;
          sq += v * v;
        }
      }
      expect(sum / (12 * 1024)).toBeCloseTo(0, 5);
      expect(sq / (12 * 1024)).toBeCloseTo(1, 4);
    }
  });

  it('writes one-hot targets and labels', () => {
    const targets = new Float32Array(4 * 10).fill(7);
    fillTargets(split, indices, 2, 4, 10, targets);
    const labels = new Uint8Array(4);
    labelsAt(split, indices, 2, 4, labels);
    for (let r = 0; r < 4; r++) {
      const label = split.labels[indices[2 + r]!]!;
      expect(labels[r]).toBe(label);
      const row = [...targets.subarray(r * 10, r * 10 + 10)];
      expect(row).toEqual(row.map((_, k) => (k === label ? 1 : 0)));
    }
  });

  it('checks ranges, buffer sizes, indices and transforms', () => {
    const out = new Float32Array(2 * 3072);
    expect(() => fillBatch(split, 3072, indices, 11, 2, out, null)).toThrow(/runs past the 12 indices/);
    expect(() => fillBatch(split, 3072, indices, 0, 3, out, null)).toThrow(/holds 6144 values/);
    expect(() => fillBatch(split, 3072, Uint32Array.of(12), 0, 1, out, null)).toThrow(
      /index 12 is out of range/,
    );
    const zero: PixelTransform = { standardize: true, mean: new Float32Array(3), std: new Float32Array(3) };
    expect(() => fillBatch(split, 3072, indices, 0, 1, out, zero)).toThrow(/channel 0 has std 0/);
    const wrong: PixelTransform = {
      standardize: true,
      mean: new Float32Array(5),
      std: new Float32Array(5).fill(1),
    };
    expect(() => fillBatch(split, 3072, indices, 0, 1, out, wrong)).toThrow(/do not divide 3072/);
    expect(() => fillTargets(split, indices, 0, 2, 5, new Float32Array(10))).toThrow(
      /out of range for 5 classes/,
    );
    expect(() => fillTargets(split, indices, 0, 2, 10, new Float32Array(19))).toThrow(/need 2 x 10/);
    expect(() => labelsAt(split, indices, 0, 3, new Uint8Array(2))).toThrow(/need 3/);
    expect(() => labelsAt(split, indices, -1, 1, new Uint8Array(2))).toThrow(/non-negative integers/);
  });
});
