import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import {
  angleDegrees,
  angleDegreesTransposed,
  feedbackAlignmentAngle,
  forwardProduct,
  layerAlignmentAngles,
  updateAngles,
} from '../src/metrics/index.js';

import { availableEngines, randomArray } from './helpers.js';

/** Independent float64 reference: the angle in degrees between two plain vectors. */
function refAngle(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let dot = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
    yy += y[i]! * y[i]!;
  }
  const c = Math.max(-1, Math.min(1, dot / Math.sqrt(xx * yy)));
  return (Math.acos(c) * 180) / Math.PI;
}

function randomMatrix(rng: Rng, rows: number, cols: number): Matrix {
  return Matrix.from(rows, cols, randomArray(rng, rows * cols));
}

/** An explicit transpose, element by element. */
function transpose(m: Matrix): Matrix {
  const t = new Matrix(m.cols, m.rows);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) t.set(j, i, m.get(i, j));
  return t;
}

/** Naive float64 triple-loop product A B of nested arrays. */
function naiveProduct(a: number[][], b: number[][]): number[][] {
  const n = a.length;
  const k = b.length;
  const m = b[0]!.length;
  const c: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i]![p]! * b[p]![j]!;
      row.push(s);
    }
    c.push(row);
  }
  return c;
}

describe('angleDegrees', () => {
  it('gives 0, 90, 180 and 60 degrees for known vectors', () => {
    const row = (...v: number[]) => Matrix.from(1, v.length, v);
    expect(angleDegrees(row(1, 0), row(2, 0))).toBe(0);
    expect(angleDegrees(row(1, 0), row(0, 3))).toBe(90);
    expect(angleDegrees(row(1, 0), row(-1, 0))).toBe(180);
    expect(angleDegrees(row(1, 0), row(1, Math.sqrt(3)))).toBeCloseTo(60, 5);
    // as 2x2 matrices: <[[1,1],[0,0]], [[1,0],[1,0]]> = 1, norms sqrt2 * sqrt2 -> cos 1/2
    expect(angleDegrees(Matrix.from(2, 2, [1, 1, 0, 0]), Matrix.from(2, 2, [1, 0, 1, 0]))).toBeCloseTo(
      60,
      12,
    );
    // a vector with itself: clamped to exactly 0 even when rounding gives a cosine above 1
    const rng = Rng.fromSeed(1);
    const a = randomMatrix(rng, 13, 17);
    expect(angleDegrees(a, a)).toBeLessThan(1e-5);
  });

  it('is invariant to positive scaling and flips to 180 - angle under negation', () => {
    const rng = Rng.fromSeed(2);
    const a = randomMatrix(rng, 8, 9);
    const b = randomMatrix(rng, 8, 9);
    const theta = angleDegrees(a, b);
    expect(theta).toBeCloseTo(refAngle(a.toFloat32Array(), b.toFloat32Array()), 10);
    const scaled = (m: Matrix, s: number) =>
      Matrix.from(
        m.rows,
        m.cols,
        Array.from(m.toFloat32Array(), (v) => v * s),
      );
    expect(angleDegrees(scaled(a, 1000), scaled(b, 1e-3))).toBeCloseTo(theta, 4);
    expect(angleDegrees(scaled(a, 0.25), scaled(b, 4))).toBeCloseTo(theta, 10); // powers of 2: exact
    expect(angleDegrees(scaled(a, -1), b)).toBeCloseTo(180 - theta, 10);
  });

  it('reads strided views and rejects bad input', () => {
    const rng = Rng.fromSeed(3);
    const big = randomMatrix(rng, 10, 10);
    const other = randomMatrix(rng, 10, 10);
    const va = big.view(2, 3, 4, 5);
    const vb = other.view(1, 0, 4, 5);
    expect(angleDegrees(va, vb)).toBeCloseTo(refAngle(va.toFloat32Array(), vb.toFloat32Array()), 10);
    expect(angleDegrees(new Matrix(2, 2), Matrix.from(2, 2, [1, 2, 3, 4]))).toBeNaN();
    expect(angleDegrees(Matrix.from(1, 2, [NaN, 1]), Matrix.from(1, 2, [1, 1]))).toBeNaN();
    expect(() => angleDegrees(new Matrix(2, 3), new Matrix(3, 2))).toThrow(TopdownUsageError);
  });
});

describe('angleDegreesTransposed', () => {
  it('matches the angle with an explicit transpose, also on strided views', () => {
    const rng = Rng.fromSeed(4);
    const a = randomMatrix(rng, 5, 7);
    const b = randomMatrix(rng, 7, 5);
    const expected = angleDegrees(a, transpose(b));
    expect(angleDegreesTransposed(a, b)).toBeCloseTo(expected, 10);
    expect(angleDegreesTransposed(a, b)).toBeCloseTo(
      refAngle(a.toFloat32Array(), transpose(b).toFloat32Array()),
      10,
    );
    expect(angleDegreesTransposed(a, transpose(a))).toBeLessThan(1e-5);
    const big = randomMatrix(rng, 9, 11);
    const va = big.view(1, 2, 3, 6);
    const vb = randomMatrix(rng, 8, 8).view(2, 1, 6, 3);
    expect(angleDegreesTransposed(va, vb)).toBeCloseTo(angleDegrees(va, transpose(vb)), 10);
    expect(() => angleDegreesTransposed(a, a)).toThrow(TopdownUsageError);
    expect(angleDegreesTransposed(a, new Matrix(7, 5))).toBeNaN();
  });
});

describe('forwardProduct and feedback alignment', () => {
  for (const engine of availableEngines()) {
    it(`forwardProduct equals naive triple loops (${engine.name})`, () => {
      const rng = Rng.fromSeed(5);
      for (const sizes of [
        [6, 5, 4, 3],
        [7, 3],
        [40, 30, 20, 10, 5],
      ]) {
        const weights = sizes.slice(1).map((d, l) => randomMatrix(rng, d, sizes[l]!));
        const product = forwardProduct(engine, weights);
        // W_L ... W_1 multiplied naively from the right: ((W_2 W_1), then W_3 (W_2 W_1), ...)
        let expected = weights[0]!.toArray();
        for (let l = 1; l < weights.length; l++) expected = naiveProduct(weights[l]!.toArray(), expected);
        expect(product.rows).toBe(sizes[sizes.length - 1]);
        expect(product.cols).toBe(sizes[0]);
        const got = product.toArray();
        let scale = 0;
        for (const r of expected) for (const v of r) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < got.length; i++) {
          for (let j = 0; j < got[i]!.length; j++) {
            expect(Math.abs(got[i]![j]! - expected[i]![j]!)).toBeLessThan(1e-5 * scale);
          }
        }
      }
      // L = 1 gives a copy, not the weight itself
      const w = randomMatrix(rng, 3, 4);
      const copy = forwardProduct(engine, [w]);
      expect(copy).not.toBe(w);
      expect(copy.toArray()).toEqual(w.toArray());
      expect(() => forwardProduct(engine, [])).toThrow(TopdownUsageError);
      expect(() => forwardProduct(engine, [new Matrix(3, 4), new Matrix(2, 4)])).toThrow(TopdownUsageError);
    });

    it(`feedbackAlignmentAngle compares (W_L...W_1)^T with F (${engine.name})`, () => {
      const rng = Rng.fromSeed(6);
      const sizes = [12, 9, 7, 4];
      const weights = sizes.slice(1).map((d, l) => randomMatrix(rng, d, sizes[l]!));
      let total = weights[0]!.toArray();
      for (let l = 1; l < weights.length; l++) total = naiveProduct(weights[l]!.toArray(), total);
      const wtT = transpose(Matrix.from(4, 12, total.flat())); // d_0 x d_L
      expect(feedbackAlignmentAngle(engine, weights, wtT)).toBeLessThan(1e-2);
      const minus = Matrix.from(
        12,
        4,
        Array.from(wtT.toFloat32Array(), (v) => -v),
      );
      expect(feedbackAlignmentAngle(engine, weights, minus)).toBeGreaterThan(180 - 1e-2);
      const f = randomMatrix(rng, 12, 4);
      expect(feedbackAlignmentAngle(engine, weights, f)).toBeCloseTo(
        refAngle(wtT.toFloat32Array(), f.toFloat32Array()),
        4,
      );
      expect(() => feedbackAlignmentAngle(engine, weights, new Matrix(4, 12))).toThrow(TopdownUsageError);
    });
  }

  it('layerAlignmentAngles compares W_l^T with F_l per layer', () => {
    const rng = Rng.fromSeed(7);
    const sizes = [10, 6, 3];
    const weights = sizes.slice(1).map((d, l) => randomMatrix(rng, d, sizes[l]!));
    const factors = sizes.slice(1).map((d, l) => randomMatrix(rng, sizes[l]!, d));
    const angles = layerAlignmentAngles(weights, factors);
    expect(angles).toHaveLength(2);
    angles.forEach((theta, l) => {
      const wT = transpose(weights[l]!);
      expect(theta).toBeCloseTo(refAngle(wT.toFloat32Array(), factors[l]!.toFloat32Array()), 10);
    });
    const aligned = layerAlignmentAngles(weights, weights.map(transpose));
    for (const theta of aligned) expect(theta).toBeLessThan(1e-5);
    expect(() => layerAlignmentAngles(weights, factors.slice(1))).toThrow(TopdownUsageError);
    expect(() => layerAlignmentAngles(weights, weights)).toThrow(TopdownUsageError);
  });
});

describe('updateAngles', () => {
  it('gives per-layer angles and the angle of the concatenations', () => {
    const rng = Rng.fromSeed(8);
    const shapes: [number, number][] = [
      [5, 8],
      [3, 5],
      [2, 3],
    ];
    const a = shapes.map(([r, c]) => randomMatrix(rng, r, c));
    // b correlated with a so the angles are away from 90
    const b = a.map((m) =>
      Matrix.from(
        m.rows,
        m.cols,
        Array.from(m.toFloat32Array(), (v) => v + 0.8 * rng.normal()),
      ),
    );
    const { perLayer, total } = updateAngles(a, b);
    perLayer.forEach((theta, l) => expect(theta).toBeCloseTo(angleDegrees(a[l]!, b[l]!), 12));
    // explicit concatenation into one long vector
    const concat = (ms: Matrix[]) => ms.flatMap((m) => Array.from(m.toFloat32Array()));
    const ca = concat(a);
    const cb = concat(b);
    expect(total).toBeCloseTo(refAngle(ca, cb), 10);
    expect(total).toBeCloseTo(angleDegrees(Matrix.from(1, ca.length, ca), Matrix.from(1, cb.length, cb)), 10);
    expect(total).toBeLessThan(80);
    // a layer that is zero in both: NaN for that layer; it adds nothing to the total
    const zeroed = updateAngles([new Matrix(2, 2), a[1]!], [new Matrix(2, 2), b[1]!]);
    expect(zeroed.perLayer[0]).toBeNaN();
    expect(zeroed.total).toBeCloseTo(perLayer[1]!, 10);
    expect(updateAngles([], [])).toEqual({ perLayer: [], total: NaN });
    expect(() => updateAngles(a, b.slice(1))).toThrow(TopdownUsageError);
    expect(() => updateAngles([a[0]!], [b[1]!])).toThrow(TopdownUsageError);
  });
});
