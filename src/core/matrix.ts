import { TopdownUsageError } from './errors.js';

/** Where float32 storage comes from: an engine's memory (see `Engine.floats`) or the JavaScript heap. */
export interface FloatAllocator {
  /** A zero-filled array of n floats. */
  floats(n: number): Float32Array;
}

/** Plain JavaScript-heap storage. */
export const HEAP: FloatAllocator = { floats: (n) => new Float32Array(n) };

/**
 * A row-major float32 matrix: a view of `rows` x `cols` elements inside `data`, starting at `offset`, with
 * `stride` elements between the starts of consecutive rows (the BLAS leading dimension).
 *
 * Views share storage: {@link Matrix.view} and {@link Matrix.rowView} never copy.
 */
export class Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
  readonly offset: number;
  readonly stride: number;

  /**
   * @param rows - number of rows
   * @param cols - number of columns
   * @param data - backing storage; a new zero-filled array of `rows * cols` when omitted
   * @param offset - index in `data` of element (0, 0)
   * @param stride - distance in `data` between (i, j) and (i + 1, j); at least `cols`
   */
  constructor(rows: number, cols: number, data?: Float32Array, offset = 0, stride = cols) {
    checkCount('rows', rows);
    checkCount('cols', cols);
    checkCount('offset', offset);
    checkCount('stride', stride);
    if (stride < cols) throw new TopdownUsageError(`stride ${stride} is smaller than cols ${cols}`);
    const storage = data ?? new Float32Array(rows * cols);
    if (rows > 0 && cols > 0 && offset + (rows - 1) * stride + cols > storage.length) {
      throw new TopdownUsageError(
        `a ${rows}x${cols} view at offset ${offset} with stride ${stride} does not fit in ${storage.length} elements`,
      );
    }
    this.rows = rows;
    this.cols = cols;
    this.data = storage;
    this.offset = offset;
    this.stride = stride;
  }

  /** A new zero matrix, its storage from `memory` (an engine's, for matrices the engine computes on). */
  static zeros(rows: number, cols: number, memory: FloatAllocator = HEAP): Matrix {
    checkCount('rows', rows);
    checkCount('cols', cols);
    return new Matrix(rows, cols, memory.floats(rows * cols));
  }

  /** A new matrix holding `values` (row-major, length `rows * cols`), converted to float32. */
  static from(rows: number, cols: number, values: ArrayLike<number>): Matrix {
    if (values.length !== rows * cols) {
      throw new TopdownUsageError(
        `expected ${rows * cols} values for a ${rows}x${cols} matrix, got ${values.length}`,
      );
    }
    return new Matrix(rows, cols, Float32Array.from(values));
  }

  /** Number of elements in the view. */
  get size(): number {
    return this.rows * this.cols;
  }

  /** True when the view's elements are one unbroken run of `data`. */
  get isContiguous(): boolean {
    return this.stride === this.cols || this.rows <= 1;
  }

  /** Index in `data` of element (i, j). */
  index(i: number, j: number): number {
    return this.offset + i * this.stride + j;
  }

  get(i: number, j: number): number {
    this.checkIndex(i, j);
    return this.data[this.index(i, j)]!;
  }

  set(i: number, j: number, value: number): void {
    this.checkIndex(i, j);
    this.data[this.index(i, j)] = value;
  }

  /** A view of the block of `rows` x `cols` elements whose top-left corner is (row, col). */
  view(row: number, col: number, rows: number, cols: number): Matrix {
    if (row < 0 || col < 0 || rows < 0 || cols < 0 || row + rows > this.rows || col + cols > this.cols) {
      throw new TopdownUsageError(
        `block (${row}, ${col}) of size ${rows}x${cols} is outside a ${this.rows}x${this.cols} matrix`,
      );
    }
    return new Matrix(
      rows,
      cols,
      this.data,
      rows === 0 || cols === 0 ? 0 : this.index(row, col),
      this.stride,
    );
  }

  /** A 1 x cols view of row i. */
  rowView(i: number): Matrix {
    return this.view(i, 0, 1, this.cols);
  }

  /** The elements of row i as a Float32Array sharing storage. */
  row(i: number): Float32Array {
    this.checkIndex(i, 0);
    const start = this.index(i, 0);
    return this.data.subarray(start, start + this.cols);
  }

  /** The view's elements, row-major and contiguous (shares storage when already contiguous). */
  contiguousData(): Float32Array {
    if (this.isContiguous) return this.data.subarray(this.offset, this.offset + this.size);
    return this.toFloat32Array();
  }

  /** A fresh contiguous copy of the view's elements. */
  toFloat32Array(): Float32Array {
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.rows; i++) {
      const start = this.index(i, 0);
      out.set(this.data.subarray(start, start + this.cols), i * this.cols);
    }
    return out;
  }

  /** A deep copy with its own contiguous storage. */
  clone(): Matrix {
    return new Matrix(this.rows, this.cols, this.toFloat32Array());
  }

  /** Copies `source` (same shape) into this view. */
  copyFrom(source: Matrix): this {
    if (source.rows !== this.rows || source.cols !== this.cols) {
      throw new TopdownUsageError(
        `cannot copy a ${source.rows}x${source.cols} matrix into a ${this.rows}x${this.cols} one`,
      );
    }
    if (this.isContiguous && source.isContiguous) {
      this.data.set(source.data.subarray(source.offset, source.offset + source.size), this.offset);
      return this;
    }
    for (let i = 0; i < this.rows; i++) {
      const from = source.index(i, 0);
      this.data.set(source.data.subarray(from, from + this.cols), this.index(i, 0));
    }
    return this;
  }

  /** Sets every element of the view to `value`. */
  fill(value: number): this {
    for (let i = 0; i < this.rows; i++) {
      const start = this.index(i, 0);
      this.data.fill(value, start, start + this.cols);
    }
    return this;
  }

  /** The elements as nested arrays of numbers (for tests, JSON and debugging). */
  toArray(): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < this.rows; i++) out.push(Array.from(this.row(i)));
    return out;
  }

  private checkIndex(i: number, j: number): void {
    if (!(i >= 0 && i < this.rows && j >= 0 && j < this.cols && Number.isInteger(i) && Number.isInteger(j))) {
      throw new TopdownUsageError(`index (${i}, ${j}) is outside a ${this.rows}x${this.cols} matrix`);
    }
  }
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TopdownUsageError(`${name} must be a non-negative integer, got ${value}`);
  }
}
