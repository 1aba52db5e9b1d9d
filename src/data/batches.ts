/**
 * Turning uint8 examples into float32 batches: pixel/255, optionally standardised per channel, and one-hot
 * targets. These run once per training step, so they allocate nothing and check bounds once per call.
 */
import { TopdownUsageError } from '../core/errors.js';

import type { InputShape } from './datasets.js';
import type { Split } from './assemble.js';

const INV_255 = 1 / 255;

/** How pixels become inputs: v = pixel/255, then (v - mean_c) / std_c per channel when standardising. */
export interface PixelTransform {
  /** Whether to standardise; when false only the /255 scaling applies. */
  standardize: boolean;
  /** Per-channel mean, in [0, 1] units. */
  mean: Float32Array;
  /** Per-channel standard deviation, in [0, 1] units (must be > 0 when standardising). */
  std: Float32Array;
}

/** Per-channel statistics of a split, in [0, 1] units. */
export interface ChannelStats {
  /** Mean of each channel over all pixels of all examples. */
  mean: Float32Array;
  /** Population standard deviation of each channel over all pixels of all examples. */
  std: Float32Array;
}

function planeSize(split: Split, shape: InputShape): number {
  const [channels, height, width] = shape;
  const features = channels * height * width;
  if (split.pixels.length !== split.count * features) {
    throw new TopdownUsageError(
      `split holds ${split.pixels.length} pixel bytes, expected ${split.count} x ${features}`,
    );
  }
  return height * width;
}

/**
 * Mean and population standard deviation of each channel over every pixel of every example, scaled to
 * [0, 1] (pixel/255). Exact: computed from a histogram of byte values.
 * @param split - the examples (pixels in channel-major order)
 * @param shape - [channels, height, width] of one example
 */
export function channelStats(split: Split, shape: InputShape): ChannelStats {
  const channels = shape[0];
  const plane = planeSize(split, shape);
  const features = channels * plane;
  const hist = new Float64Array(channels * 256);
  const px = split.pixels;
  for (let r = 0, base = 0; r < split.count; r++, base += features) {
    for (let c = 0; c < channels; c++) {
      const h = c * 256;
      const start = base + c * plane;
      const end = start + plane;
      for (let i = start; i < end; i++) hist[h + px[i]!]!++;
    }
  }
  const mean = new Float32Array(channels);
  const std = new Float32Array(channels);
  const n = split.count * plane;
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let v = 0; v < 256; v++) sum += v * hist[c * 256 + v]!;
    const m = sum / n;
    let sq = 0;
    for (let v = 0; v < 256; v++) sq += (v - m) * (v - m) * hist[c * 256 + v]!;
    mean[c] = m / 255;
    std[c] = Math.sqrt(sq / n) / 255;
  }
  return { mean, std };
}

/**
 * A standardising transform built from a split's channel statistics (normally the training split's).
 */
export function standardizeTransform(split: Split, shape: InputShape): PixelTransform {
  const { mean, std } = channelStats(split, shape);
  return { standardize: true, mean, std };
}

function checkRange(indices: Uint32Array, start: number, count: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0) {
    throw new TopdownUsageError(
      `batch start and count must be non-negative integers, got ${start}, ${count}`,
    );
  }
  if (start + count > indices.length) {
    throw new TopdownUsageError(`batch [${start}, ${start + count}) runs past the ${indices.length} indices`);
  }
}

function badIndex(index: number, split: Split): TopdownUsageError {
  return new TopdownUsageError(`example index ${index} is out of range for a split of ${split.count}`);
}

/**
 * Writes `count` input rows into `out` (row r = example `indices[start + r]`): pixel/255, then
 * (v - mean_c) / std_c per channel when `transform.standardize`. Allocates nothing.
 * @param split - the examples
 * @param features - values per example (channels x height x width)
 * @param indices - example order (e.g. a permutation of 0..count-1)
 * @param start - first position in `indices`
 * @param count - rows to write
 * @param out - at least count x features values
 * @param transform - standardisation, or null for pixel/255 only
 * @throws TopdownUsageError for out-of-range positions, indices or sizes
 */
export function fillBatch(
  split: Split,
  features: number,
  indices: Uint32Array,
  start: number,
  count: number,
  out: Float32Array,
  transform: PixelTransform | null,
): void {
  checkRange(indices, start, count);
  if (out.length < count * features) {
    throw new TopdownUsageError(`batch buffer holds ${out.length} values, need ${count} x ${features}`);
  }
  if (split.pixels.length < split.count * features) {
    throw new TopdownUsageError(
      `split holds ${split.pixels.length} pixel bytes, expected ${split.count} x ${features}`,
    );
  }
  const px = split.pixels;
  const n = split.count;
  if (transform === null || !transform.standardize) {
    for (let r = 0; r < count; r++) {
      const index = indices[start + r]!;
      if (index >= n) throw badIndex(index, split);
      const src = index * features;
      const dst = r * features;
      for (let f = 0; f < features; f++) out[dst + f] = px[src + f]! * INV_255;
    }
    return;
  }
  const { mean, std } = transform;
  const channels = mean.length;
  const plane = features / channels;
  if (channels === 0 || std.length !== channels || !Number.isInteger(plane)) {
    throw new TopdownUsageError(
      `transform has ${channels} channel means and ${std.length} stds, which do not divide ${features} features`,
    );
  }
  for (let c = 0; c < channels; c++) {
    if (!(std[c]! > 0)) throw new TopdownUsageError(`cannot standardise: channel ${c} has std ${std[c]}`);
  }
  for (let r = 0; r < count; r++) {
    const index = indices[start + r]!;
    if (index >= n) throw badIndex(index, split);
    let src = index * features;
    let dst = r * features;
    for (let c = 0; c < channels; c++) {
      const s = std[c]!;
      const scale = INV_255 / s;
      const shift = mean[c]! / s;
      const end = src + plane;
      while (src < end) out[dst++] = px[src++]! * scale - shift;
    }
  }
}

/**
 * Writes `count` one-hot target rows of width `classes` into `out` (row r for example
 * `indices[start + r]`). Allocates nothing.
 * @throws TopdownUsageError for out-of-range positions, indices, labels or sizes
 */
export function fillTargets(
  split: Split,
  indices: Uint32Array,
  start: number,
  count: number,
  classes: number,
  out: Float32Array,
): void {
  checkRange(indices, start, count);
  if (out.length < count * classes) {
    throw new TopdownUsageError(`target buffer holds ${out.length} values, need ${count} x ${classes}`);
  }
  out.fill(0, 0, count * classes);
  const labels = split.labels;
  const n = split.count;
  for (let r = 0; r < count; r++) {
    const index = indices[start + r]!;
    if (index >= n) throw badIndex(index, split);
    const label = labels[index]!;
    if (label >= classes)
      throw new TopdownUsageError(`label ${label} is out of range for ${classes} classes`);
    out[r * classes + label] = 1;
  }
}

/**
 * Copies the labels of examples `indices[start .. start + count)` into `out`. Allocates nothing.
 * @throws TopdownUsageError for out-of-range positions, indices or sizes
 */
export function labelsAt(
  split: Split,
  indices: Uint32Array,
  start: number,
  count: number,
  out: Uint8Array,
): void {
  checkRange(indices, start, count);
  if (out.length < count)
    throw new TopdownUsageError(`label buffer holds ${out.length} values, need ${count}`);
  const labels = split.labels;
  const n = split.count;
  for (let r = 0; r < count; r++) {
    const index = indices[start + r]!;
    if (index >= n) throw badIndex(index, split);
    out[r] = labels[index]!;
  }
}
