import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { Matrix } from '../src/core/matrix.js';

describe('Matrix', () => {
  it('stores row-major float32 values and reads them back', () => {
    const m = Matrix.from(2, 3, [1, 2, 3, 4, 5, 6.1]);
    expect(m.get(1, 2)).toBe(Math.fround(6.1));
    expect(m.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, Math.fround(6.1)],
    ]);
    m.set(0, 1, 9);
    expect(m.data[1]).toBe(9);
    expect(m.size).toBe(6);
    expect(Matrix.zeros(2, 2).toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('makes views that share storage, with offset and stride', () => {
    const m = Matrix.from(3, 4, [...Array(12).keys()]);
    const v = m.view(1, 1, 2, 2);
    expect(v.offset).toBe(5);
    expect(v.stride).toBe(4);
    expect(v.isContiguous).toBe(false);
    expect(v.toArray()).toEqual([
      [5, 6],
      [9, 10],
    ]);
    v.set(1, 1, -1);
    expect(m.get(2, 2)).toBe(-1);
    expect(Array.from(v.toFloat32Array())).toEqual([5, 6, 9, -1]);
    expect(Array.from(m.row(2))).toEqual([8, 9, -1, 11]);
    expect(m.rowView(1).toArray()).toEqual([[4, 5, 6, 7]]);
    v.fill(0);
    expect(m.toArray()[1]).toEqual([4, 0, 0, 7]);
    const c = v.clone();
    c.set(0, 0, 3);
    expect(m.get(1, 1)).toBe(0);
    v.copyFrom(Matrix.from(2, 2, [1, 2, 3, 4]));
    expect(m.toArray()[2]).toEqual([8, 3, 4, 11]);
    expect(Array.from(m.view(1, 0, 2, 4).contiguousData())).toEqual([4, 1, 2, 7, 8, 3, 4, 11]);
  });

  it('rejects out-of-range indices, views and storage', () => {
    const m = new Matrix(2, 3);
    expect(() => m.get(2, 0)).toThrow(TopdownUsageError);
    expect(() => m.get(0, -1)).toThrow(TopdownUsageError);
    expect(() => m.view(1, 1, 2, 2)).toThrow(/outside/);
    expect(() => new Matrix(2, 3, new Float32Array(5))).toThrow(/does not fit/);
    expect(() => new Matrix(2, 3, new Float32Array(10), 0, 2)).toThrow(/stride/);
    expect(() => new Matrix(-1, 3)).toThrow(/rows/);
    expect(() => Matrix.from(2, 2, [1, 2, 3])).toThrow(/expected 4 values/);
    expect(() => m.copyFrom(new Matrix(3, 2))).toThrow(/cannot copy/);
    expect(new Matrix(0, 5).size).toBe(0);
  });
});
