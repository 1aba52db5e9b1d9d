import { describe, expect, it } from 'vitest';

import {
  erf,
  erfDerivative,
  erfInPlace,
  multiply,
  relu,
  reluMask,
  softmaxRows,
  subtract,
} from '../src/core/kernels.js';
import { Matrix } from '../src/core/matrix.js';

/** erf by composite Simpson integration of 2/sqrt(pi) exp(-t^2) over [0, x]: independent of the library. */
function erfBySimpson(x: number, steps = 2000): number {
  const h = x / steps;
  let sum = 1 + Math.exp(-x * x);
  for (let i = 1; i < steps; i++) sum += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((2 / Math.sqrt(Math.PI)) * sum * h) / 3;
}

describe('elementwise kernels', () => {
  it('relu and its derivative mask', () => {
    const x = Float32Array.from([-2, -0, 0, 0.5, 3, NaN, -Infinity, Infinity]);
    expect(Array.from(relu(x, new Float32Array(8)))).toEqual([0, -0, 0, 0.5, 3, NaN, 0, Infinity]);
    expect(Array.from(reluMask(x, new Float32Array(8)))).toEqual([0, 0, 0, 1, 1, NaN, 0, 1]);
    relu(x);
    expect(x[0]).toBe(0);
    expect(() => relu(x, new Float32Array(3))).toThrow(/relu/);
  });

  it('multiply and subtract', () => {
    const a = Float32Array.from([1, 2, 3]);
    const b = Float32Array.from([0.5, 0, -1]);
    expect(Array.from(multiply(a, b, new Float32Array(3)))).toEqual([0.5, 0, -3]);
    expect(Array.from(subtract(a, b, new Float32Array(3)))).toEqual([0.5, 2, 4]);
  });

  it('erf matches known values and an independent numerical integration', () => {
    expect(erf(0)).toBe(0);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf(-0.5)).toBeCloseTo(-0.5204998778130465, 15);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 15);
    expect(erf(Infinity)).toBe(1);
    expect(erf(NaN)).toBeNaN();
    for (const x of [1e-8, 0.1, 0.37, 0.84, 1.3, 2.2, 3.7, 5.5]) {
      expect(Math.abs(erf(x) - erfBySimpson(x))).toBeLessThan(1e-12);
      expect(erf(-x)).toBe(-erf(x));
    }
  });

  it('erfInPlace applies erf(x / scale) and erfDerivative matches finite differences', () => {
    const x = Float32Array.from([-2, -0.3, 0, 0.7, 1.9]);
    const y = erfInPlace(x, new Float32Array(5), Math.SQRT2);
    for (let i = 0; i < 5; i++) expect(y[i]).toBeCloseTo(erf(x[i]! / Math.SQRT2), 6);
    const d = erfDerivative(x, new Float32Array(5), Math.SQRT2);
    const h = 1e-5;
    for (let i = 0; i < 5; i++) {
      const fd = (erf((x[i]! + h) / Math.SQRT2) - erf((x[i]! - h) / Math.SQRT2)) / (2 * h);
      expect(d[i]).toBeCloseTo(fd, 6);
    }
  });

  it('softmaxRows is normalised, shift-invariant and stable for large inputs', () => {
    const x = Matrix.from(3, 4, [1, 2, 3, 4, 1001, 1002, 1003, 1004, -Infinity, 0, -Infinity, -Infinity]);
    const out = softmaxRows(x, new Matrix(3, 4));
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4);
    for (let j = 0; j < 4; j++) {
      expect(out.get(0, j)).toBeCloseTo(Math.exp(j + 1) / z, 6);
      expect(out.get(1, j)).toBeCloseTo(out.get(0, j), 6);
    }
    expect(out.toArray()[2]).toEqual([0, 1, 0, 0]);
  });

  it('softmaxRows poisons a row holding NaN or +Infinity and works on views', () => {
    const x = Matrix.from(2, 3, [0, NaN, 1, 0, Infinity, 1]);
    const out = softmaxRows(x, new Matrix(2, 3));
    expect(out.toArray()[0]!.every(Number.isNaN)).toBe(true);
    expect(out.toArray()[1]).toEqual([0, NaN, 0]);
    const big = Matrix.from(
      3,
      5,
      Array.from({ length: 15 }, (_, i) => i),
    );
    softmaxRows(big.view(1, 1, 2, 3));
    expect(big.get(1, 1) + big.get(1, 2) + big.get(1, 3)).toBeCloseTo(1, 6);
    expect(big.get(1, 0)).toBe(5);
    expect(big.get(1, 4)).toBe(9);
    expect(() => softmaxRows(x, new Matrix(3, 2))).toThrow(/softmaxRows/);
  });
});
