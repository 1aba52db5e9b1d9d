/**
 * 2-D convolution and 2x2 max-pooling on batches of images stored one per row, channel-major (C, H, W), as
 * the datasets store them and as PyTorch flattens them. The convolution is lowered to the engine's GEMM by
 * im2col: each sample's input patches become the columns of a (C k k) x P matrix (P output positions), so
 * that its output, filters x P, is W (filters x C k k) times that matrix, written straight into the sample's
 * output row; the gradients are the same products transposed, and col2im, im2col's adjoint, carries the
 * patches' gradients back to the input. The layer keeps its patch matrices from the last forward pass (what
 * the weight gradient and PEPITA's conv update need) in buffers allocated once.
 */
import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';

/** The geometry of a convolution (no bias: the paper's nets have none). */
export interface ConvGeometry {
  /** Input channels, height and width. */
  channels: number;
  height: number;
  width: number;
  /** Output channels (filters). */
  filters: number;
  /** Square kernel side. */
  kernel: number;
  stride: number;
  /** Zero padding on every side. */
  padding: number;
}

/** Output height, width and positions of a convolution (PyTorch's floor rule). */
export function convOutput(g: ConvGeometry): { height: number; width: number; positions: number } {
  const height = Math.floor((g.height + 2 * g.padding - g.kernel) / g.stride) + 1;
  const width = Math.floor((g.width + 2 * g.padding - g.kernel) / g.stride) + 1;
  return { height, width, positions: height * width };
}

function checkGeometry(g: ConvGeometry): void {
  const ints = [g.channels, g.height, g.width, g.filters, g.kernel, g.stride];
  if (
    ints.some((n) => !Number.isSafeInteger(n) || n < 1) ||
    !Number.isSafeInteger(g.padding) ||
    g.padding < 0
  )
    throw new TopdownUsageError(`a convolution needs positive sizes, kernel and stride and a padding >= 0`);
  const out = convOutput(g);
  if (out.height < 1 || out.width < 1)
    throw new TopdownUsageError(
      `a ${g.kernel}x${g.kernel} kernel (padding ${g.padding}) does not fit a ${g.height}x${g.width} input`,
    );
}

/**
 * Writes the patches of one sample (`x`, C x H x W values from `offset`) into `cols` from `at`: row
 * (c k + i) k + j, column oy W_out + ox holds x[c][oy s + i - p][ox s + j - p], 0 outside the image.
 */
export function im2col(
  g: ConvGeometry,
  x: Float32Array,
  offset: number,
  cols: Float32Array,
  at: number,
): void {
  const { height: oh, width: ow, positions } = convOutput(g);
  const { channels, height, width, kernel, stride, padding } = g;
  let row = at;
  for (let c = 0; c < channels; c++) {
    const plane = offset + c * height * width;
    for (let i = 0; i < kernel; i++) {
      for (let j = 0; j < kernel; j++, row += positions) {
        for (let oy = 0; oy < oh; oy++) {
          const y = oy * stride + i - padding;
          const dst = row + oy * ow;
          if (y < 0 || y >= height) {
            cols.fill(0, dst, dst + ow);
            continue;
          }
          const src = plane + y * width;
          for (let ox = 0; ox < ow; ox++) {
            const xx = ox * stride + j - padding;
            cols[dst + ox] = xx >= 0 && xx < width ? x[src + xx]! : 0;
          }
        }
      }
    }
  }
}

/** The adjoint of {@link im2col}: adds each patch entry of `cols` (from `at`) to the input value it came from. */
export function col2im(
  g: ConvGeometry,
  cols: Float32Array,
  at: number,
  dx: Float32Array,
  offset: number,
): void {
  const { height: oh, width: ow, positions } = convOutput(g);
  const { channels, height, width, kernel, stride, padding } = g;
  let row = at;
  for (let c = 0; c < channels; c++) {
    const plane = offset + c * height * width;
    for (let i = 0; i < kernel; i++) {
      for (let j = 0; j < kernel; j++, row += positions) {
        for (let oy = 0; oy < oh; oy++) {
          const y = oy * stride + i - padding;
          if (y < 0 || y >= height) continue;
          const src = row + oy * ow;
          const dst = plane + y * width;
          for (let ox = 0; ox < ow; ox++) {
            const xx = ox * stride + j - padding;
            if (xx >= 0 && xx < width) dx[dst + xx]! += cols[src + ox]!;
          }
        }
      }
    }
  }
}

/**
 * A convolution layer's computations for batches of up to `maxBatch` samples (weights: filters x C k k), its
 * buffers in `memory` (the engine's, for the engine passed to its methods).
 */
export class Conv2d {
  /** Values per input sample (C H W) and per output sample (filters x positions). */
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** C k k: the columns of the weight matrix. */
  readonly patch: number;
  readonly positions: number;
  /** The patches of the last forward pass: sample s in rows [s C k k, (s + 1) C k k), one column per position. */
  readonly cols: Matrix;
  private readonly dcols: Matrix;

  /**
   * @param keepPatches - keep every sample's patches for the gradients (false: one sample's buffer, reused;
   *   enough for forward passes and input gradients, e.g. evaluation over large batches)
   */
  constructor(
    readonly geometry: ConvGeometry,
    readonly maxBatch: number,
    memory: FloatAllocator = HEAP,
    readonly keepPatches = true,
  ) {
    checkGeometry(geometry);
    const { channels, height, width, filters, kernel } = geometry;
    this.positions = convOutput(geometry).positions;
    this.patch = channels * kernel * kernel;
    this.inFeatures = channels * height * width;
    this.outFeatures = filters * this.positions;
    this.cols = Matrix.zeros((keepPatches ? maxBatch : 1) * this.patch, this.positions, memory);
    this.dcols = Matrix.zeros(this.patch, this.positions, memory);
  }

  private check(what: string, m: Matrix, rows: number, cols: number): void {
    if (m.rows !== rows || m.cols !== cols)
      throw new TopdownUsageError(`Conv2d: ${what} is ${m.rows}x${m.cols}, expected ${rows}x${cols}`);
  }

  private rows(x: Matrix): number {
    if (x.rows > this.maxBatch)
      throw new TopdownUsageError(`Conv2d: a batch of ${x.rows} is larger than the layer's ${this.maxBatch}`);
    return x.rows;
  }

  /** The patches of sample s, C k k x positions. */
  patches(s: number): Matrix {
    return this.cols.view((this.keepPatches ? s : 0) * this.patch, 0, this.patch, this.positions);
  }

  /** One sample's row of a batch matrix seen as `rows` x `cols` (the row's values in order). */
  private static asMatrix(m: Matrix, s: number, rows: number, cols: number): Matrix {
    return new Matrix(rows, cols, m.data, m.offset + s * m.stride, cols);
  }

  /** out (b x filters P) = the convolution of x (b x C H W) with w (filters x C k k); keeps x's patches. */
  forward(engine: Engine, x: Matrix, w: Matrix, out: Matrix): void {
    const b = this.rows(x);
    const f = this.geometry.filters;
    this.check('the input', x, b, this.inFeatures);
    this.check('the weights', w, f, this.patch);
    this.check('the output', out, b, this.outFeatures);
    for (let s = 0; s < b; s++) {
      im2col(
        this.geometry,
        x.data,
        x.offset + s * x.stride,
        this.cols.data,
        this.cols.offset + (this.keepPatches ? s : 0) * this.patch * this.positions,
      );
      const y = Conv2d.asMatrix(out, s, f, this.positions);
      engine.gemm(false, false, f, this.positions, this.patch, 1, w, this.patches(s), 0, y);
    }
  }

  /**
   * dw = alpha * sum over samples of dy_s (filters x P) times the sample's patches transposed, + beta * dw:
   * the weight gradient of the last forward pass (and, with PEPITA's deltas as dy, its conv update).
   */
  weightGradient(engine: Engine, dy: Matrix, alpha: number, beta: number, dw: Matrix): void {
    const b = this.rows(dy);
    const f = this.geometry.filters;
    if (!this.keepPatches) throw new TopdownUsageError('Conv2d: weight gradients need the kept patches');
    this.check('the output gradient', dy, b, this.outFeatures);
    this.check('the weight gradient', dw, f, this.patch);
    if (b === 0) {
      if (beta !== 1) engine.scal(beta, dw.data.subarray(dw.offset, dw.offset + dw.rows * dw.stride));
      return;
    }
    for (let s = 0; s < b; s++) {
      const g = Conv2d.asMatrix(dy, s, f, this.positions);
      engine.gemm(
        false,
        true,
        f,
        this.patch,
        this.positions,
        alpha,
        g,
        this.patches(s),
        s === 0 ? beta : 1,
        dw,
      );
    }
  }

  /** dx (b x C H W) = the gradient of the input: w^T dy_s per sample, carried back to pixels by col2im. */
  inputGradient(engine: Engine, dy: Matrix, w: Matrix, dx: Matrix): void {
    const b = this.rows(dy);
    const f = this.geometry.filters;
    this.check('the output gradient', dy, b, this.outFeatures);
    this.check('the weights', w, f, this.patch);
    this.check('the input gradient', dx, b, this.inFeatures);
    for (let s = 0; s < b; s++) {
      const g = Conv2d.asMatrix(dy, s, f, this.positions);
      engine.gemm(true, false, this.patch, this.positions, f, 1, w, g, 0, this.dcols);
      const at = dx.offset + s * dx.stride;
      dx.data.fill(0, at, at + this.inFeatures);
      col2im(this.geometry, this.dcols.data, this.dcols.offset, dx.data, at);
    }
  }
}

/** 2x2 max-pooling with stride 2 (PyTorch's MaxPool2d(2): odd edges dropped, the first maximum wins). */
export class MaxPool2 {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly outHeight: number;
  readonly outWidth: number;
  /** Per output value of the last forward pass: the index of its maximum within the sample's input. */
  private readonly argmax: Int32Array;

  constructor(
    readonly channels: number,
    readonly height: number,
    readonly width: number,
    readonly maxBatch: number,
  ) {
    this.outHeight = Math.floor(height / 2);
    this.outWidth = Math.floor(width / 2);
    if (this.outHeight < 1 || this.outWidth < 1)
      throw new TopdownUsageError(`2x2 max-pooling needs an input of at least 2x2, got ${height}x${width}`);
    this.inFeatures = channels * height * width;
    this.outFeatures = channels * this.outHeight * this.outWidth;
    this.argmax = new Int32Array(maxBatch * this.outFeatures);
  }

  /** out (b x C H/2 W/2) = the maxima of x's 2x2 blocks; remembers where they were. */
  forward(x: Matrix, out: Matrix): void {
    const b = x.rows;
    if (b > this.maxBatch || x.cols !== this.inFeatures || out.rows !== b || out.cols !== this.outFeatures)
      throw new TopdownUsageError(
        `MaxPool2: shapes ${x.rows}x${x.cols} -> ${out.rows}x${out.cols} do not fit`,
      );
    const { channels, height, width, outHeight: oh, outWidth: ow } = this;
    for (let s = 0; s < b; s++) {
      const xi = x.offset + s * x.stride;
      const oi = out.offset + s * out.stride;
      let o = 0;
      for (let c = 0; c < channels; c++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++, o++) {
            const base = c * height * width + 2 * oy * width + 2 * ox;
            let best = base;
            let max = x.data[xi + base]!;
            // the block's other three values, in PyTorch's scan order (row by row)
            for (let d = 1; d < 4; d++) {
              const k = base + (d >> 1) * width + (d & 1);
              const v = x.data[xi + k]!;
              if (v > max || Number.isNaN(v)) {
                max = v;
                best = k;
              }
            }
            out.data[oi + o] = max;
            this.argmax[s * this.outFeatures + o] = best;
          }
        }
      }
    }
  }

  /** dx (b x C H W) = dy routed to where each maximum was in the last forward pass, 0 elsewhere. */
  backward(dy: Matrix, dx: Matrix): void {
    const b = dy.rows;
    if (b > this.maxBatch || dy.cols !== this.outFeatures || dx.rows !== b || dx.cols !== this.inFeatures)
      throw new TopdownUsageError(
        `MaxPool2: shapes ${dy.rows}x${dy.cols} -> ${dx.rows}x${dx.cols} do not fit`,
      );
    for (let s = 0; s < b; s++) {
      const di = dx.offset + s * dx.stride;
      dx.data.fill(0, di, di + this.inFeatures);
      const gi = dy.offset + s * dy.stride;
      for (let o = 0; o < this.outFeatures; o++)
        dx.data[di + this.argmax[s * this.outFeatures + o]!]! += dy.data[gi + o]!;
    }
  }
}
