/**
 * A fast, seeded, reproducible source of standard normal float64 numbers for bulk consumers (for example a
 * teacher-student simulator that draws a fresh Gaussian input vector every SGD step, about 10^9 numbers per
 * run). {@link Rng.fillNormal} (Box-Muller over pure-rand) costs over 30 ns per number; a bulk
 * {@link NormalStream.fill} costs about 3 ns.
 *
 * Generator: xoshiro128** (D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 47(4), 2021): 128 bits of state in four 32-bit words, int32 arithmetic only (`Math.imul`,
 * shifts, xor), period 2^128 - 1, every output bit usable.
 *
 * Gaussian method: the Marsaglia-Tsang ziggurat for f(x) = exp(-x^2 / 2) with 256 layers (G. Marsaglia and
 * W. W. Tsang, "The ziggurat method for generating random variables", J. Stat. Softw. 5(8), 2000), with
 * the exact wedge test (a linear squeeze settles most wedge points without Math.exp) and Marsaglia's
 * exponential method beyond r for the tail. The layer index and the candidate come from disjoint bits of
 * the generator output (the original RNOR reused index bits in the candidate, a flaw pointed out by J. A.
 * Doornik, "An improved ziggurat method to generate normal random samples", 2005). All tables are
 * computed once at module load, in float64, from r alone.
 *
 * Stream layout (fixed: however the draws are split between calls, the numbers are the same): each number
 * starts from one 32-bit output w. Bits 0-7 pick the layer, bit 8 the sign, and bits 9-31 the candidate
 * c = (w >>> 8) | 1, an odd integer below 2^24: |x| = c * 2^-24 * (layer width), the centre of one of 2^23
 * equal cells. About 98.5% of candidates lie left of the next layer's edge, inside the curve, and are
 * returned as they are. The rest take the wedge test (one more output for the height) or, in the base
 * layer, the tail (two outputs per 53-bit uniform); a rejected candidate is replaced by the next output.
 * All of these are the next outputs of the same generator. Nothing is cached between calls: the state is
 * the four generator words.
 *
 * Resolution: outside the tail, numbers are cell centres spaced (layer width) * 2^-23, at most about
 * 4.7e-7 apart: float32-like granularity, the price of one generator output per number. Because the
 * centres are used, the discretisation changes moments only at second order (about 1e-13). Tail numbers
 * (|z| > r = 3.654) are continuous (53-bit uniforms).
 */
import { TopdownUsageError } from './errors.js';
import { mix32, Rng } from './rng.js';

/** Name of the generator and stream layout; {@link NormalStream.fromState} accepts only this. */
export const NORMAL_STREAM_ALGORITHM = 'xoshiro128**/ziggurat256/v1';

/** Everything needed to resume a {@link NormalStream} exactly (plain JSON-serialisable data). */
export interface NormalStreamState {
  /** Always {@link NORMAL_STREAM_ALGORITHM}. */
  algorithm: typeof NORMAL_STREAM_ALGORITHM;
  /** The four xoshiro128** state words as unsigned 32-bit integers, not all zero. */
  words: [number, number, number, number];
}

/** Copies of the ziggurat tables, for tests and diagnostics ({@link zigguratTables}). */
export interface ZigguratTables {
  /** Where the tail starts. */
  r: number;
  /** Area of every layer. */
  v: number;
  /** Layer i (0..255) is the box [0, x[i]] x [f[i], f[i+1]]; x has 257 entries, x[1] = r, x[256] = 0. */
  x: Float64Array;
  /** f[i] = exp(-x[i]^2 / 2), with f[256] = 1. */
  f: Float64Array;
  /** Per layer: (chord - curve) over the wedge is at most below[i] * (f[i+1] - f[i]). */
  below: Float64Array;
  /** Per layer: (curve - chord) over the wedge is at most above[i] * (f[i+1] - f[i]). */
  above: Float64Array;
}

/** Number of ziggurat layers (the index is the low 8 bits of a generator output). */
const LAYERS = 256;
/** Where the tail starts for 256 layers (Marsaglia and Tsang 2000). */
const R = 3.654152885361008796;
const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M32 = 2 ** -32;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_24 = 2 ** 24;
const TWO_POW_26 = 2 ** 26;

function gauss(x: number): number {
  return Math.exp(-0.5 * x * x);
}

/**
 * Mills ratio exp(x^2/2) * integral from x to infinity of exp(-t^2/2) dt, by its continued fraction
 * 1/(x+1/(x+2/(x+3/(x+...)))); 100 terms are exact to double precision for x > 3.
 */
function millsRatio(x: number): number {
  let t = x;
  for (let k = 100; k >= 1; k--) t = x + k / t;
  return 1 / t;
}

/** Maximum of a function unimodal on [a, b], by ternary search ((2/3)^100 of the interval is left). */
function unimodalMax(g: (x: number) => number, a: number, b: number): number {
  for (let it = 0; it < 100; it++) {
    const m1 = a + (b - a) / 3;
    const m2 = b - (b - a) / 3;
    if (g(m1) < g(m2)) a = m1;
    else b = m2;
  }
  return g((a + b) / 2);
}

/** Area of every layer: the base layer's box [0, r] x [0, f(r)] plus the tail beyond r. */
const V = gauss(R) * (R + millsRatio(R));

/**
 * Layer i (0..255) is the box [0, X[i]] x [F[i], F[i+1]], of area V. X decreases from X[0] = V / f(r) (the
 * base layer's notional width, which folds the tail in) through X[1] = r to X[256] = 0; F = f(X). With r
 * as published the recurrence closes: X[255] * (1 - F[255]) equals V to about 1e-14 relative.
 */
const X = new Float64Array(LAYERS + 1);
const F = new Float64Array(LAYERS + 1);
/** Odd candidate c (< 2^24) times SCALE[j] is the signed number: j = layer + 256 * sign bit. */
const SCALE = new Float64Array(2 * LAYERS);
/** Fast acceptance: c < INNER[i] puts the whole cell left of X[i+1], inside the curve at any height. */
const INNER = new Int32Array(LAYERS);
/**
 * Wedge squeeze, in units of the layer's height: with the chord from (X[i+1], F[i+1]) to (X[i], F[i]),
 * chord - BELOW[i] <= curve <= chord + ABOVE[i] (f is concave below 1 and convex above, so each gap is a
 * one-humped function found by ternary search; 1e-12 of slack covers its rounding).
 */
const BELOW = new Float64Array(LAYERS);
const ABOVE = new Float64Array(LAYERS);

X[0] = V / gauss(R);
X[1] = R;
for (let i = 1; i < LAYERS - 1; i++) X[i + 1] = Math.sqrt(-2 * Math.log(V / X[i]! + gauss(X[i]!)));
X[LAYERS] = 0;
for (let i = 0; i <= LAYERS; i++) F[i] = gauss(X[i]!);
for (let i = 0; i < LAYERS; i++) {
  SCALE[i] = X[i]! * TWO_POW_M24;
  SCALE[i + LAYERS] = -X[i]! * TWO_POW_M24;
  INNER[i] = Math.floor((X[i + 1]! / X[i]!) * TWO_POW_24);
}
for (let i = 1; i < LAYERS; i++) {
  const left = X[i + 1]!;
  const right = X[i]!;
  const low = F[i]!;
  const height = F[i + 1]! - low;
  const chordMinusCurve = (x: number): number => low + (height * (right - x)) / (right - left) - gauss(x);
  // Chord above the curve only where f is convex (x > 1); below it only where f is concave (x < 1).
  const below = right > 1 ? Math.max(0, unimodalMax(chordMinusCurve, Math.max(left, 1), right)) : 0;
  const above =
    left < 1
      ? Math.max(
          0,
          unimodalMax((x) => -chordMinusCurve(x), left, Math.min(right, 1)),
        )
      : 0;
  BELOW[i] = below / height + 1e-12;
  ABOVE[i] = above / height + 1e-12;
}

/** Copies of the constant tables the stream uses (changing the copies changes nothing). */
export function zigguratTables(): ZigguratTables {
  return { r: R, v: V, x: X.slice(), f: F.slice(), below: BELOW.slice(), above: ABOVE.slice() };
}

function isWord(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 32;
}

/**
 * A seeded stream of standard normal numbers (mean 0, variance 1) as float64, built for bulk fills. Same
 * seed, same numbers, on every platform (integer arithmetic, plus V8's fdlibm-derived Math.exp/Math.log in
 * the rare wedge and tail paths). The numbers are a fixed sequence: how they are split between fill() and
 * next() calls does not change them. One stream per consumer; derive separate seeds for separate uses.
 */
export class NormalStream {
  /** xoshiro128** state (an Int32Array keeps the words unboxed). */
  private readonly s = new Int32Array(4);
  /** Scratch for next(). */
  private readonly one = new Float64Array(1);

  private constructor(s0: number, s1: number, s2: number, s3: number) {
    this.s[0] = s0;
    this.s[1] = s1;
    this.s[2] = s2;
    this.s[3] = s3;
  }

  /**
   * A stream seeded from four draws of `rng.nextUint32()`, each passed through a bijective mixer. Advances
   * `rng` by exactly four draws (more only in the 2^-128 case of an all-zero state, which is redrawn).
   */
  static fromRng(rng: Rng): NormalStream {
    for (;;) {
      const w0 = mix32(rng.nextUint32() ^ 0x9e3779b9);
      const w1 = mix32(rng.nextUint32() ^ 0x7f4a7c15);
      const w2 = mix32(rng.nextUint32() ^ 0xf39cc060);
      const w3 = mix32(rng.nextUint32() ^ 0x5ced1a1f);
      if ((w0 | w1 | w2 | w3) !== 0) return new NormalStream(w0, w1, w2, w3);
    }
  }

  /**
   * The stream for `seed` (any safe integer, else TopdownUsageError):
   * `fromRng(Rng.fromSeed(seed).derive('normal-stream'))`. Different seeds give unrelated streams.
   */
  static fromSeed(seed: number): NormalStream {
    return NormalStream.fromRng(Rng.fromSeed(seed).derive('normal-stream'));
  }

  /**
   * Restores a stream saved with {@link NormalStream.state}; it continues exactly where that one was.
   * Throws TopdownUsageError for another algorithm or malformed words.
   */
  static fromState(state: NormalStreamState): NormalStream {
    const algorithm: unknown = (state as { algorithm?: unknown } | null)?.algorithm;
    if (algorithm !== NORMAL_STREAM_ALGORITHM) {
      throw new TopdownUsageError(
        `not a NormalStream state for ${NORMAL_STREAM_ALGORITHM}: algorithm ${JSON.stringify(algorithm)}`,
      );
    }
    const words: unknown = state.words;
    if (!Array.isArray(words) || words.length !== 4 || !words.every(isWord) || words.every((w) => w === 0)) {
      throw new TopdownUsageError('NormalStream state needs four unsigned 32-bit words, not all zero');
    }
    return new NormalStream(words[0]!, words[1]!, words[2]!, words[3]!);
  }

  /** A snapshot of the stream (plain JSON-serialisable data). */
  state(): NormalStreamState {
    const s = this.s;
    return {
      algorithm: NORMAL_STREAM_ALGORITHM,
      words: [s[0]! >>> 0, s[1]! >>> 0, s[2]! >>> 0, s[3]! >>> 0],
    };
  }

  /** An independent copy that continues identically. */
  clone(): NormalStream {
    return NormalStream.fromState(this.state());
  }

  /** The next number of the stream (exactly what a one-element fill would write). */
  next(): number {
    const one = this.one;
    this.fill(one, 0, 1);
    return one[0]!;
  }

  /**
   * Writes the next `end - start` numbers of the stream to `out[start..end)`; start and end are integers
   * with 0 <= start <= end <= out.length (else TopdownUsageError, and the stream does not move). This is
   * the hot path: the generator state lives in local variables and the loop makes no calls except for the
   * about 1.5% of candidates that need the wedge or tail test.
   */
  fill(out: Float64Array, start = 0, end: number = out.length): void {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > out.length) {
      throw new TopdownUsageError(
        `fill range must satisfy 0 <= start <= end <= ${out.length} (integers), got [${start}, ${end})`,
      );
    }
    // Local aliases of the module's tables let V8 embed their addresses in the loop.
    const scale = SCALE;
    const inner = INNER;
    const st = this.s;
    let k = start;
    while (k < end) {
      let s0 = st[0]!;
      let s1 = st[1]!;
      let s2 = st[2]!;
      let s3 = st[3]!;
      let w = 0;
      let t = 0;
      let rejected = false;
      // Two numbers per iteration (measurably faster in V8 than one); each step is one xoshiro128** output
      // w = rotl(s1 * 5, 7) * 9 and the linear state update, then the fast ziggurat test. On a failed test
      // k is left at that number and the loop ends.
      for (; k + 1 < end; k += 2) {
        w = Math.imul(s1, 5);
        w = Math.imul((w << 7) | (w >>> 25), 9);
        t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        let j = w & 0x1ff;
        let c = (w >>> 8) | 1;
        out[k] = c * scale[j]!;
        if (c >= inner[j & 0xff]!) {
          rejected = true;
          break;
        }
        w = Math.imul(s1, 5);
        w = Math.imul((w << 7) | (w >>> 25), 9);
        t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        j = w & 0x1ff;
        c = (w >>> 8) | 1;
        out[k + 1] = c * scale[j]!;
        if (c >= inner[j & 0xff]!) {
          k++;
          rejected = true;
          break;
        }
      }
      if (!rejected && k < end) {
        // The last number of an odd-length range.
        w = Math.imul(s1, 5);
        w = Math.imul((w << 7) | (w >>> 25), 9);
        t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const j = w & 0x1ff;
        const c = (w >>> 8) | 1;
        out[k] = c * scale[j]!;
        if (c >= inner[j & 0xff]!) rejected = true;
        else k++;
      }
      st[0] = s0;
      st[1] = s1;
      st[2] = s2;
      st[3] = s3;
      if (rejected) {
        out[k] = this.resolve(w);
        k++;
      }
    }
  }

  /** One xoshiro128** output (signed int32), for the slow paths; same state as the fill loop. */
  private word(): number {
    const st = this.s;
    let s0 = st[0]!;
    let s1 = st[1]!;
    let s2 = st[2]!;
    const s3 = st[3]! ^ s1;
    let r = Math.imul(s1, 5);
    r = Math.imul((r << 7) | (r >>> 25), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = (s3 << 11) | (s3 >>> 21);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits (two outputs, high part first). */
  private uniform(): number {
    const hi = this.word() >>> 5;
    const lo = this.word() >>> 6;
    return (hi * TWO_POW_26 + lo) * TWO_POW_M53;
  }

  /**
   * Finishes the ziggurat for the output `w` whose candidate failed the fast test: the exact test against
   * the next layer's edge, then the tail (layer 0) or the wedge test; a rejected candidate is replaced by
   * the next output, until one is accepted.
   */
  private resolve(w: number): number {
    for (;;) {
      const i = w & 0xff;
      const negative = (w & 0x100) !== 0;
      const x = ((w >>> 8) | 1) * SCALE[i]!;
      if (x < X[i + 1]!) return negative ? -x : x;
      if (i === 0) {
        // Tail beyond r (Marsaglia 1964): r + e with e ~ Exp(rate r), kept with probability exp(-e^2 / 2).
        let e: number;
        let y: number;
        do {
          e = -Math.log(1 - this.uniform()) / R;
          y = -Math.log(1 - this.uniform());
        } while (y + y < e * e);
        return negative ? -(R + e) : R + e;
      }
      // Wedge: the point (x, F[i] + u * height) is under the curve? Compared with the chord first
      // (d = u - chord height in layer units), Math.exp only inside the squeeze band.
      const u = (this.word() >>> 0) * TWO_POW_M32;
      const d = u - (X[i]! - x) / (X[i]! - X[i + 1]!);
      if (d < -BELOW[i]!) return negative ? -x : x;
      if (d < ABOVE[i]! && F[i]! + u * (F[i + 1]! - F[i]!) < gauss(x)) return negative ? -x : x;
      w = this.word();
    }
  }
}
