import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { Matrix } from '../src/core/matrix.js';
import { accuracy, argmaxRows, crossEntropy } from '../src/metrics/index.js';

describe('argmaxRows and accuracy', () => {
  // rows: clear winner 2; tie between 0 and 1 (-> 0); NaN row (-> -1); all equal (-> 0); winner 1
  const outputs = Matrix.from(5, 3, [0.1, 0.2, 0.7, 0.4, 0.4, 0.2, 0.5, NaN, 0.5, 1, 1, 1, -3, -1, -2]);

  it('takes the lowest index on ties and -1 for rows holding NaN', () => {
    const out = argmaxRows(outputs, new Int32Array(5));
    expect(Array.from(out)).toEqual([2, 0, -1, 0, 1]);
    const longer = new Int32Array(7).fill(9);
    argmaxRows(outputs, longer);
    expect(Array.from(longer)).toEqual([2, 0, -1, 0, 1, 9, 9]);
    expect(Array.from(argmaxRows(Matrix.from(1, 2, [-Infinity, -Infinity]), new Int32Array(1)))).toEqual([0]);
    expect(() => argmaxRows(outputs, new Int32Array(4))).toThrow(TopdownUsageError);
  });

  it('counts the fraction of rows whose argmax equals the label', () => {
    // predictions [2, 0, -1, 0, 1]
    expect(accuracy(outputs, [2, 0, 0, 0, 1])).toBe(1 - 1 / 5); // the NaN row is wrong even with label 0
    expect(accuracy(outputs, [2, 1, 1, 0, 1])).toBe(3 / 5); // the tie row's label 1 loses to index 0
    expect(accuracy(outputs, new Int32Array([0, 2, 2, 1, 0]))).toBe(0);
    expect(accuracy(outputs.view(0, 0, 2, 3), [2, 0])).toBe(1);
    expect(accuracy(new Matrix(0, 3), [])).toBeNaN();
    expect(() => accuracy(outputs, [0, 0, 0])).toThrow(TopdownUsageError);
    expect(() => accuracy(outputs, [0, 0, 0, 0, 3])).toThrow(TopdownUsageError);
    expect(() => accuracy(outputs, [0, 0, 0, 0, 0.5])).toThrow(TopdownUsageError);
  });
});

describe('crossEntropy', () => {
  it('averages -log p[label] with probabilities clamped at 1e-12', () => {
    const probs = Matrix.from(3, 3, [0.5, 0.25, 0.25, 0.1, 0.9, 0, 0.2, 0.3, 0.5]);
    // labels 0, 2, 2: -(log 0.5 + log 1e-12 + log 0.5) / 3, the zero probability clamped
    const expected = -(Math.log(0.5) + Math.log(1e-12) + Math.log(0.5)) / 3;
    expect(crossEntropy(probs, [0, 2, 2])).toBeCloseTo(expected, 12);
    // labels 1, 1, 0: float32 storage of 0.25, 0.9, 0.2
    const f = Math.fround;
    expect(crossEntropy(probs, [1, 1, 0])).toBeCloseTo(
      -(Math.log(f(0.25)) + Math.log(f(0.9)) + Math.log(f(0.2))) / 3,
      12,
    );
    expect(crossEntropy(Matrix.from(1, 2, [1, 0]), [0])).toBe(0);
    expect(crossEntropy(Matrix.from(2, 2, [NaN, 1, 0.5, 0.5]), [0, 1])).toBeNaN();
    expect(crossEntropy(new Matrix(0, 2), [])).toBeNaN();
    expect(() => crossEntropy(probs, [0, 1])).toThrow(TopdownUsageError);
    expect(() => crossEntropy(probs, [0, 1, -1])).toThrow(TopdownUsageError);
  });
});
