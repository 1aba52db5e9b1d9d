// Convolution and 2x2 max-pooling against direct float64 loops: odd sizes, strides, padding, channels, on
// every engine; the gradients against the loops, the adjoint identity and finite differences.
import { describe, expect, it } from 'vitest';

import type { Engine } from '../src/core/engine-base.js';
import { JsEngine } from '../src/core/engine.js';
import { reluDifference } from '../src/core/kernels.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { Conv2d, MaxPool2, convOutput, type ConvGeometry } from '../src/nn/conv.js';

import { availableEngines } from './helpers.js';

/** blas (its native im2col, pooling and ReLU difference) when the addon is built, wasm, js. */
const ENGINES: [string, () => Engine][] = availableEngines().map((e) => [e.name, () => e]);

const GEOMETRIES: ConvGeometry[] = [
  { channels: 1, height: 28, width: 28, filters: 4, kernel: 5, stride: 1, padding: 0 }, // the ICML model on MNIST
  { channels: 3, height: 9, width: 8, filters: 5, kernel: 5, stride: 1, padding: 0 },
  { channels: 2, height: 7, width: 6, filters: 3, kernel: 3, stride: 2, padding: 1 },
  { channels: 3, height: 5, width: 7, filters: 2, kernel: 3, stride: 1, padding: 2 },
  { channels: 2, height: 6, width: 6, filters: 3, kernel: 1, stride: 3, padding: 0 },
];

function random(rng: Rng, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

/** x[s][c][y][x] with zero padding. */
function pixel(g: ConvGeometry, x: Matrix, s: number, c: number, y: number, xx: number): number {
  if (y < 0 || y >= g.height || xx < 0 || xx >= g.width) return 0;
  return x.get(s, (c * g.height + y) * g.width + xx);
}

/** The convolution by its definition, in float64. */
function slowConv(g: ConvGeometry, x: Matrix, w: Matrix): Float64Array {
  const { height: oh, width: ow } = convOutput(g);
  const out = new Float64Array(x.rows * g.filters * oh * ow);
  for (let s = 0; s < x.rows; s++)
    for (let f = 0; f < g.filters; f++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let sum = 0;
          for (let c = 0; c < g.channels; c++)
            for (let i = 0; i < g.kernel; i++)
              for (let j = 0; j < g.kernel; j++)
                sum +=
                  w.get(f, (c * g.kernel + i) * g.kernel + j) *
                  pixel(g, x, s, c, oy * g.stride + i - g.padding, ox * g.stride + j - g.padding);
          out[((s * g.filters + f) * oh + oy) * ow + ox] = sum;
        }
  return out;
}

/** The gradients of L = sum(dy * conv(x, w)) by their definition: dL/dw and dL/dx. */
function slowGradients(
  g: ConvGeometry,
  x: Matrix,
  w: Matrix,
  dy: Matrix,
): { dw: Float64Array; dx: Float64Array } {
  const { height: oh, width: ow } = convOutput(g);
  const dw = new Float64Array(w.rows * w.cols);
  const dx = new Float64Array(x.rows * x.cols);
  for (let s = 0; s < x.rows; s++)
    for (let f = 0; f < g.filters; f++)
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          const d = dy.get(s, (f * oh + oy) * ow + ox);
          for (let c = 0; c < g.channels; c++)
            for (let i = 0; i < g.kernel; i++)
              for (let j = 0; j < g.kernel; j++) {
                const y = oy * g.stride + i - g.padding;
                const xx = ox * g.stride + j - g.padding;
                if (y < 0 || y >= g.height || xx < 0 || xx >= g.width) continue;
                const wi = (c * g.kernel + i) * g.kernel + j;
                const xi = (c * g.height + y) * g.width + xx;
                dw[f * w.cols + wi] = dw[f * w.cols + wi]! + d * x.get(s, xi);
                dx[s * x.cols + xi] = dx[s * x.cols + xi]! + d * w.get(f, wi);
              }
        }
  return { dw, dx };
}

function expectClose(actual: Float32Array, expected: Float64Array, tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  expect(worst).toBeLessThan(tol);
}

describe.each(ENGINES)('convolution on the %s engine', (_, make) => {
  it.each(GEOMETRIES.map((g) => [JSON.stringify(g), g] as const))(
    '%s: forward and both gradients equal the loops',
    (_name, g) => {
      const engine = make();
      const rng = Rng.fromSeed(11);
      const conv = new Conv2d(g, 4, engine);
      const b = 3;
      const x = random(rng, b, conv.inFeatures);
      const w = random(rng, g.filters, conv.patch);
      const out = Matrix.zeros(b, conv.outFeatures);
      conv.forward(engine, x, w, out);
      expectClose(out.data, slowConv(g, x, w));
      const dy = random(rng, b, conv.outFeatures);
      const slow = slowGradients(g, x, w, dy);
      const dw = Matrix.zeros(g.filters, conv.patch);
      dw.data.fill(7); // beta = 0 overwrites
      conv.weightGradient(engine, dy, 1, 0, dw);
      expectClose(dw.data, slow.dw);
      const dx = Matrix.zeros(b, conv.inFeatures);
      dx.data.fill(-3);
      conv.inputGradient(engine, dy, w, dx);
      expectClose(dx.data, slow.dx);
      // alpha and beta: dw = 0.5 * grad + 2 * previous
      const prev = Float32Array.from(dw.data);
      conv.weightGradient(engine, dy, 0.5, 2, dw);
      expectClose(
        dw.data,
        Float64Array.from(prev, (v, i) => 2 * v + 0.5 * slow.dw[i]!),
      );
    },
  );

  it('is its own adjoint pair: <conv(x), dy> = <x, conv^T(dy)> = <w, dW>', () => {
    const g = GEOMETRIES[2]!;
    const engine = make();
    const rng = Rng.fromSeed(4);
    const conv = new Conv2d(g, 2, engine);
    const x = random(rng, 2, conv.inFeatures);
    const w = random(rng, g.filters, conv.patch);
    const dy = random(rng, 2, conv.outFeatures);
    const out = Matrix.zeros(2, conv.outFeatures);
    conv.forward(engine, x, w, out);
    const dx = Matrix.zeros(2, conv.inFeatures);
    conv.inputGradient(engine, dy, w, dx);
    const dw = Matrix.zeros(g.filters, conv.patch);
    conv.weightGradient(engine, dy, 1, 0, dw);
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    const y = dot(out.data, dy.data);
    expect(dot(x.data, dx.data)).toBeCloseTo(y, 3);
    expect(dot(w.data, dw.data)).toBeCloseTo(y, 3);
  });

  it('has the weight gradient of finite differences', () => {
    const g = GEOMETRIES[3]!;
    const engine = make();
    const rng = Rng.fromSeed(9);
    const conv = new Conv2d(g, 1, engine);
    const x = random(rng, 1, conv.inFeatures);
    const w = random(rng, g.filters, conv.patch);
    const dy = random(rng, 1, conv.outFeatures);
    const loss = (wm: Matrix) => slowConv(g, x, wm).reduce((s, v, i) => s + v * dy.data[i]!, 0);
    const dw = Matrix.zeros(g.filters, conv.patch);
    conv.forward(engine, x, w, Matrix.zeros(1, conv.outFeatures));
    conv.weightGradient(engine, dy, 1, 0, dw);
    for (const k of [0, 5, w.data.length - 1]) {
      const h = 1e-2;
      const plus = Matrix.from(w.rows, w.cols, w.data);
      const minus = Matrix.from(w.rows, w.cols, w.data);
      plus.data[k]! += h;
      minus.data[k]! -= h;
      expect(dw.data[k]).toBeCloseTo((loss(plus) - loss(minus)) / (2 * h), 2);
    }
  });
});

describe.each(ENGINES)('2x2 max-pooling on the %s engine', (_, make) => {
  it.each([
    [2, 6, 6],
    [3, 7, 5],
    [32, 24, 24],
  ])('%i channels of %ix%i: the maxima and their gradients equal the loops', (channels, height, width) => {
    const engine = make();
    const rng = Rng.fromSeed(channels + height);
    const pool = new MaxPool2(channels, height, width, 3);
    const x = random(rng, 3, pool.inFeatures);
    x.data[7] = x.data[8]!; // a tie: the first maximum wins
    const out = Matrix.zeros(3, pool.outFeatures);
    pool.forward(engine, x, out);
    const dy = random(rng, 3, pool.outFeatures);
    const dx = Matrix.zeros(3, pool.inFeatures);
    dx.data.fill(5);
    pool.backward(engine, dy, dx);
    const oh = Math.floor(height / 2);
    const ow = Math.floor(width / 2);
    const want = new Float64Array(dx.data.length);
    for (let s = 0; s < 3; s++)
      for (let c = 0; c < channels; c++)
        for (let oy = 0; oy < oh; oy++)
          for (let ox = 0; ox < ow; ox++) {
            let best = -1;
            let max = -Infinity;
            for (const [dy_, dx_] of [
              [0, 0],
              [0, 1],
              [1, 0],
              [1, 1],
            ]) {
              const k = (c * height + 2 * oy + dy_!) * width + 2 * ox + dx_!;
              if (x.get(s, k) > max) {
                max = x.get(s, k);
                best = k;
              }
            }
            const o = (c * oh + oy) * ow + ox;
            expect(out.get(s, o)).toBe(max);
            want[s * pool.inFeatures + best] = want[s * pool.inFeatures + best]! + dy.get(s, o);
          }
    expectClose(dx.data, want, 1e-6);
  });

  it.each(ENGINES)(
    'NaN propagates through pooling on the %s engine (the last NaN of a block wins)',
    (_, make) => {
      const engine = make();
      // 40 samples of one 2 x 2 block each (enough for the native path), NaN placed in turn
      const pool = new MaxPool2(1, 2, 2, 40);
      const x = Matrix.zeros(40, 4);
      for (let s = 0; s < 40; s++) x.data.set([1, 2, 3, 4], s * 4);
      x.data.set([NaN, 1, 2, 3], 0);
      x.data.set([1, NaN, 5, 2], 4);
      x.data.set([1, 2, NaN, NaN], 8);
      const out = Matrix.zeros(40, 1);
      pool.forward(engine, x, out);
      expect([out.data[0], out.data[1], out.data[2], out.data[3]]).toEqual([NaN, NaN, NaN, 4]);
      const dy = Matrix.zeros(40, 1);
      dy.data.fill(1);
      const dx = Matrix.zeros(40, 4);
      pool.backward(engine, dy, dx);
      expect(Array.from(dx.data.subarray(0, 16))).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    },
  );

  it('refuses what does not fit, in one line', () => {
    expect(() => new MaxPool2(1, 1, 5, 1)).toThrow('2x2 max-pooling needs an input of at least 2x2, got 1x5');
    expect(
      () => new Conv2d({ channels: 1, height: 3, width: 3, filters: 1, kernel: 5, stride: 1, padding: 0 }, 1),
    ).toThrow('a 5x5 kernel (padding 0) does not fit a 3x3 input');
    const conv = new Conv2d(GEOMETRIES[1]!, 2);
    expect(() =>
      conv.forward(
        new JsEngine(),
        Matrix.zeros(3, conv.inFeatures),
        Matrix.zeros(5, conv.patch),
        Matrix.zeros(3, conv.outFeatures),
      ),
    ).toThrow("Conv2d: a batch of 3 is larger than the layer's 2");
  });
});

describe.each(ENGINES)('the ReLU activity difference on the %s engine', (_, make) => {
  it("is relu(a) - relu(b) with the loop's bits: signed zeros, NaN, infinities, from offsets", () => {
    const engine = make();
    const rng = Rng.fromSeed(11);
    const n = 5000; // past the native threshold
    const a = random(rng, 1, n + 3).data;
    const b = random(rng, 1, n + 5).data;
    a.set([0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 0, 3], 3);
    b.set([-0, 0, 1, Infinity, NaN, -1e-45, 1e-45, 0, -3], 5);
    const got = new Float32Array(n + 2).fill(7);
    engine.run('reluDifference', { n, a, aOff: 3, b, bOff: 5, out: got, outOff: 2 });
    const want = new Float32Array(n + 2).fill(7);
    for (let i = 0; i < n; i++) {
      const u = a[3 + i]!;
      const v = b[5 + i]!;
      want[2 + i] = (u > 0 ? u : u * 0) - (v > 0 ? v : v * 0);
    }
    for (let i = 0; i < n + 2; i++) expect(Object.is(got[i], want[i]), `value ${i}`).toBe(true);
    const short = new Float32Array(n + 2).fill(7);
    reluDifference(n, a, 3, b, 5, short, 2);
    expect(Array.from(short)).toEqual(Array.from(got));
    expect([got[2], got[3], got[4], got[5], got[6], got[7]]).toEqual([
      0,
      -0,
      NaN,
      NaN,
      NaN,
      Math.fround(1e-45),
    ]);
  });
});
