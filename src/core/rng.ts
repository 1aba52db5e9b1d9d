/**
 * Seeded randomness. Every random draw in topdown comes from an {@link Rng} built from an explicit seed;
 * there is no global generator. The bits come from pure-rand's xoroshiro128+ generator; the floating-point
 * draws use its high bits only (its lowest bits are known to be weak).
 *
 * Independent streams: `rng.derive('dropout')` gives a generator that depends only on the parent's seed path
 * and the label, not on how many numbers the parent has drawn, so adding draws to one component never shifts
 * another's. Same seed, same bytes, on every platform: only integer arithmetic and V8's fdlibm-derived
 * Math.log/Math.cos/Math.sin are involved.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';

import { TopdownUsageError } from './errors.js';

const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_26 = 2 ** 26;
/** Outputs discarded after seeding: xoroshiro128+ seeded from 32 bits starts from a sparse state. */
const WARM_UP = 20;

/** 32-bit finaliser (MurmurHash3 fmix32): a bijection that spreads every input bit over the output (also seeds NormalStream). */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashLabel(label: string | number): number {
  const text = typeof label === 'number' ? `#${label}` : label;
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Everything needed to resume a generator exactly (saved in checkpoints). */
export interface RngState {
  key: number;
  generator: number[];
  spareNormal: number | null;
}

/** A seeded random number generator with the draws the project needs. */
export class Rng {
  private spareNormal: number | null = null;

  private constructor(
    /** 32-bit identity of this stream, derived from the seed and the derive() labels. */
    readonly key: number,
    private readonly gen: JumpableRandomGenerator,
  ) {}

  /**
   * A generator for `seed`, any safe integer (negative too). Different seeds give unrelated streams.
   */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed)) throw new TopdownUsageError(`seed must be an integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    return Rng.fromKey(mix32(lo ^ mix32(hi + 0x9e3779b9)));
  }

  /** Restores a generator saved with {@link Rng.state}. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(state.key, xoroshiro128plusFromState(state.generator));
    rng.spareNormal = state.spareNormal;
    return rng;
  }

  private static fromKey(key: number): Rng {
    const gen = xoroshiro128plus(key | 0);
    for (let i = 0; i < WARM_UP; i++) gen.next();
    return new Rng(key, gen);
  }

  /** An independent stream named `label`; depends only on this stream's key and the label. */
  derive(label: string | number): Rng {
    return Rng.fromKey(mix32(this.key ^ mix32(hashLabel(label) + 0x6a09e667)));
  }

  /** A snapshot of the generator (plain JSON-serialisable data). */
  state(): RngState {
    return { key: this.key, generator: [...this.gen.getState()], spareNormal: this.spareNormal };
  }

  /** A copy that continues identically. */
  clone(): Rng {
    return Rng.fromState(this.state());
  }

  /** 32 random bits as an unsigned integer. */
  nextUint32(): number {
    return this.gen.next() >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.gen.next() >>> 5; // 27 bits
    const lo = this.gen.next() >>> 6; // 26 bits
    return (hi * TWO_POW_26 + lo) * TWO_POW_M53;
  }

  /** Uniform integer in [low, high] (both included), unbiased. */
  int(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high < low) {
      throw new TopdownUsageError(`int(low, high) needs integers with low <= high, got ${low}, ${high}`);
    }
    return uniformInt(this.gen, low, high);
  }

  /** Standard normal draw (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** True with probability p (p in [0, 1]). */
  bernoulli(p: number): boolean {
    checkProbability(p);
    return this.uniform() < p;
  }

  /**
   * Fills `out` with uniform draws in [low, high) (24 random bits each; after rounding to float32 a draw
   * may equal `high` when the interval is wide relative to its ends).
   */
  fillUniform(out: Float32Array, low = 0, high = 1): Float32Array {
    if (!(high >= low) || !Number.isFinite(low) || !Number.isFinite(high)) {
      throw new TopdownUsageError(`fillUniform needs finite low <= high, got ${low}, ${high}`);
    }
    const width = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + width * ((this.gen.next() >>> 8) * TWO_POW_M24);
    return out;
  }

  /** Fills `out` with normal draws of the given mean and standard deviation. */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    if (!(std >= 0) || !Number.isFinite(mean) || !Number.isFinite(std)) {
      throw new TopdownUsageError(`fillNormal needs a finite mean and std >= 0, got ${mean}, ${std}`);
    }
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Fills `out` with 1 (probability p) or 0: a Bernoulli mask. */
  fillBernoulli(out: Float32Array, p: number): Float32Array {
    checkProbability(p);
    for (let i = 0; i < out.length; i++) out[i] = this.uniform() < p ? 1 : 0;
    return out;
  }

  /**
   * Fills `out` with an inverted-dropout mask: 1/keep with probability `keep`, else 0. One 32-bit draw per
   * element (the mask is redrawn every training step, so this is on the hot path).
   */
  fillDropoutMask(out: Float32Array, keep: number): Float32Array {
    if (!(keep > 0 && keep <= 1))
      throw new TopdownUsageError(`keep probability must be in (0, 1], got ${keep}`);
    const threshold = keep * 2 ** 32;
    const scale = 1 / keep;
    for (let i = 0; i < out.length; i++) out[i] = this.gen.next() >>> 0 < threshold ? scale : 0;
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Uint32Array {
    if (!Number.isSafeInteger(n) || n < 0 || n > 2 ** 32) {
      throw new TopdownUsageError(`permutation length must be an integer in [0, 2^32], got ${n}`);
    }
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /** Shuffles `values` in place, uniformly (Fisher-Yates); returns it. */
  shuffle<T extends { length: number; [index: number]: unknown }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = uniformInt(this.gen, 0, i);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  }
}

function checkProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new TopdownUsageError(`probability must be in [0, 1], got ${p}`);
}
