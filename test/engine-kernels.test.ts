/**
 * Every kernel declared in `kernel-specs.ts`, on every engine here, against its reference: the same bits where
 * the declaration says so, else within float32 rounding; short and long arguments (the blas engine runs short
 * ones in TypeScript), odd sizes, offsets and strides, NaN and -0 in the inputs. The samplers are typed per
 * kernel, so a kernel declared without one does not compile.
 */
import { describe, expect, it } from 'vitest';

import type { ConvGeometry } from '../src/core/conv-kernels.js';
import { SMALL_VECTOR_LENGTH } from '../src/core/engine.js';
import { KERNEL_NAMES, KERNELS, type KernelArgs, type KernelName } from '../src/core/kernel-specs.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';

import { availableEngines } from './helpers.js';

type Floats = (n: number) => Float32Array;
type Size = 'short' | 'long';
type Sampler<K extends KernelName> = (rng: Rng, floats: Floats, size: Size) => KernelArgs<K>;

/** Seeded normals in a fresh array from `floats`, with NaN and -0 among them when there is room. */
function normals(rng: Rng, floats: Floats, n: number, specials = true): Float32Array {
  const x = rng.fillNormal(floats(n));
  if (specials && n > 4) {
    x[1] = NaN;
    x[3] = -0;
  }
  return x;
}

const length = (size: Size): number => (size === 'short' ? 37 : 4 * SMALL_VECTOR_LENGTH + 3);

const SAMPLERS: { [K in KernelName]: Sampler<K> } = {
  axpy: (rng, floats, size) => ({
    alpha: 0.3,
    x: normals(rng, floats, length(size)),
    y: normals(rng, floats, length(size)),
  }),
  scal: (rng, floats, size) => ({ alpha: -1.7, x: normals(rng, floats, length(size)) }),
  ger: (rng, floats, size) => {
    const [rows, cols] = size === 'short' ? [5, 7] : [41, 53];
    const data = normals(rng, floats, 2 + rows * (cols + 3), false);
    return {
      alpha: -0.75,
      x: normals(rng, floats, rows, false),
      y: normals(rng, floats, cols, false),
      a: new Matrix(rows, cols, data, 2, cols + 3),
    };
  },
  sgdUpdate: (rng, floats, size) => ({
    w: normals(rng, floats, length(size)),
    v: normals(rng, floats, length(size)),
    lr: 0.05,
    weightDecay: 1e-4,
  }),
  adamUpdate: (rng, floats, size) => {
    const [rows, cols, stride] = size === 'short' ? [3, 5, 7] : [37, 53, 60];
    return {
      p: normals(rng, floats, 1 + rows * stride),
      pOff: 1,
      pStride: stride,
      rows,
      cols,
      g: normals(rng, floats, rows * cols),
      m: normals(rng, floats, rows * cols),
      v: normals(rng, floats, rows * cols, false).map(Math.abs),
      scalars: { beta1: 0.9, beta2: 0.999, weightDecay: 0.01, eps: 1e-8, stepSize: 0.003, invBc2Sqrt: 3.2 },
    };
  },
  relu: (rng, floats, size) => ({
    x: normals(rng, floats, length(size)),
    out: floats(length(size)),
  }),
  reluMask: (rng, floats, size) => ({
    x: normals(rng, floats, length(size)),
    out: floats(length(size)),
  }),
  multiply: (rng, floats, size) => ({
    a: normals(rng, floats, length(size)),
    b: normals(rng, floats, length(size)),
    out: floats(length(size)),
  }),
  subtract: (rng, floats, size) => ({
    a: normals(rng, floats, length(size)),
    b: normals(rng, floats, length(size)),
    out: floats(length(size)),
  }),
  reluDifference: (rng, floats, size) => {
    const n = length(size);
    return {
      n,
      a: normals(rng, floats, n + 3),
      aOff: 3,
      b: normals(rng, floats, n + 5),
      bOff: 5,
      out: floats(n + 2),
      outOff: 2,
    };
  },
  reluNormalizeRows: (rng, floats, size) => {
    const [rows, d] = size === 'short' ? [3, 7] : [9, 61];
    const a = normals(rng, floats, rows * d, false);
    a.fill(0, d, 2 * d); // an all-zero row: its norm is floored
    return {
      a,
      g: floats(rows * d),
      h: floats(rows * d),
      rows,
      d,
      target: 3.5,
      floor: 1e-6,
      norms: new Float64Array(rows),
      squares: new Float64Array(rows),
    };
  },
  im2colRows: (rng, floats, size) => {
    const geometry: ConvGeometry = {
      channels: 2,
      height: 7,
      width: 6,
      filters: 3,
      kernel: 3,
      stride: size === 'short' ? 1 : 2,
      padding: 1,
    };
    const n = size === 'short' ? 1 : 5;
    const positions = size === 'short' ? 42 : 12;
    const xStride = 2 * 7 * 6 + 3;
    return {
      geometry,
      x: normals(rng, floats, 4 + n * xStride),
      xOff: 4,
      xStride,
      n,
      cols: floats(2 * 9 * n * positions).fill(NaN),
      ld: n * positions,
    };
  },
  maxPool2Rows: (rng, floats, size) => {
    const [channels, height, width] = [3, 5, 6];
    const n = size === 'short' ? 1 : 7;
    const xStride = channels * height * width + 1;
    const outStride = channels * 2 * 3 + 2;
    return {
      channels,
      height,
      width,
      n,
      x: normals(rng, floats, 2 + n * xStride),
      xOff: 2,
      xStride,
      out: floats(1 + n * outStride),
      outOff: 1,
      outStride,
      argmax: new Int32Array(3 + n * channels * 6),
      argOff: 3,
    };
  },
  maxPool2Backward: (rng, floats, size) => {
    const [inFeatures, outFeatures] = [3 * 5 * 6, 3 * 2 * 3];
    const n = size === 'short' ? 1 : 7;
    const argmax = new Int32Array(n * outFeatures);
    // each pooled value's maximum somewhere in its own input row (distinct places, as pooling gives)
    for (let s = 0; s < n; s++) {
      const places = rng.permutation(inFeatures);
      for (let o = 0; o < outFeatures; o++) argmax[s * outFeatures + o] = places[o]!;
    }
    return {
      n,
      inFeatures,
      outFeatures,
      dy: normals(rng, floats, 1 + n * (outFeatures + 2)),
      dyOff: 1,
      dyStride: outFeatures + 2,
      dx: floats(3 + n * (inFeatures + 1)).fill(NaN),
      dxOff: 3,
      dxStride: inFeatures + 1,
      argmax,
    };
  },
  gatherMaps: (rng, floats, size) => {
    const [n, filters, positions] = size === 'short' ? [2, 3, 5] : [6, 8, 49];
    const rowsStride = filters * positions + 3;
    return {
      rows: normals(rng, floats, 2 + n * rowsStride),
      rowsOff: 2,
      rowsStride,
      n,
      filters,
      positions,
      maps: floats(n * filters * positions).fill(NaN),
    };
  },
  scatterMaps: (rng, floats, size) => {
    const [n, filters, positions] = size === 'short' ? [2, 3, 5] : [6, 8, 49];
    const rowsStride = filters * positions + 3;
    return {
      rows: floats(2 + n * rowsStride).fill(NaN),
      rowsOff: 2,
      rowsStride,
      n,
      filters,
      positions,
      maps: normals(rng, floats, n * filters * positions),
    };
  },
};

/** The arrays an argument object holds (a matrix's storage included), in a fixed order. */
function arrays(args: object): (Float32Array | Float64Array | Int32Array)[] {
  const out: (Float32Array | Float64Array | Int32Array)[] = [];
  for (const value of Object.values(args)) {
    if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array) {
      out.push(value);
    } else if (value instanceof Matrix) {
      out.push(value.data);
    }
  }
  return out;
}

describe.each(availableEngines().map((e) => [e.name, e] as const))('%s engine kernels', (_name, engine) => {
  it.each(KERNEL_NAMES)('%s matches its reference', (name) => {
    const spec = KERNELS[name];
    for (const size of ['short', 'long'] as const) {
      const sample = SAMPLERS[name] as Sampler<typeof name>;
      const ours = sample(Rng.fromSeed(7), (n) => engine.floats(n), size);
      const theirs = sample(Rng.fromSeed(7), (n) => new Float32Array(n), size);
      engine.run(name, ours as never);
      (spec.reference as (args: typeof theirs) => void)(theirs);
      const [got, want] = [arrays(ours), arrays(theirs)];
      expect(got.length).toBe(want.length);
      for (let a = 0; a < got.length; a++) {
        const [g, w] = [got[a]!, want[a]!];
        for (let i = 0; i < w.length; i++) {
          const where = `${name} (${size}), array ${a}, element ${i}`;
          if (spec.exact || Number.isNaN(w[i]) || !Number.isFinite(w[i]!)) {
            expect(Object.is(g[i], w[i]), `${where}: ${g[i]} vs ${w[i]}`).toBe(true);
          } else {
            expect(Math.abs(g[i]! - w[i]!), where).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w[i]!)));
          }
        }
      }
    }
  });
});

describe('the kernel declarations', () => {
  it('each declares a phase, a positive cost for its long sample, and a check that refuses misfits', () => {
    for (const name of KERNEL_NAMES) {
      const spec = KERNELS[name];
      const args = (SAMPLERS[name] as Sampler<typeof name>)(
        Rng.fromSeed(1),
        (n) => new Float32Array(n),
        'long',
      );
      expect(['optimiser', 'activity']).toContain(spec.phase);
      expect((spec.bytes as (a: typeof args) => number)(args), name).toBeGreaterThan(0);
    }
    const short = new Float32Array(3);
    const long = new Float32Array(4);
    for (const engine of availableEngines()) {
      expect(() => engine.run('axpy', { alpha: 1, x: short, y: long })).toThrow(/axpy: lengths differ/);
      expect(() => engine.run('sgdUpdate', { w: short, v: long, lr: 1, weightDecay: 0 })).toThrow(
        /sgdUpdate/,
      );
      expect(() => engine.run('relu', { x: short, out: long })).toThrow(/relu/);
      expect(() => engine.run('ger', { alpha: 1, x: short, y: long, a: new Matrix(4, 3) })).toThrow(/ger/);
    }
  });
});
