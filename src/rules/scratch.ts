import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';

/**
 * A maxBatch x cols buffer handing out views of its first rows; the view is cached while the row count stays
 * the same, so steady-state training allocates nothing.
 */
export class Scratch {
  readonly full: Matrix;
  private cached: Matrix;

  constructor(maxBatch: number, cols: number, memory: FloatAllocator = HEAP) {
    this.full = Matrix.zeros(maxBatch, cols, memory);
    this.cached = this.full;
  }

  /** The first `rows` rows. */
  rows(rows: number): Matrix {
    if (this.cached.rows !== rows) this.cached = this.full.view(0, 0, rows, this.full.cols);
    return this.cached;
  }

  get data(): Float32Array {
    return this.full.data;
  }
}
