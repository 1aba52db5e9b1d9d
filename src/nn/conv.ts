/**
 * 2-D convolution and 2x2 max-pooling on batches of images stored one per row, channel-major (C, H, W), as
 * the datasets store them and as PyTorch flattens them. The convolution is lowered to the engine's GEMM by
 * im2col: each sample's input patches become the columns of a (C k k) x P matrix (P output positions), so
 * that its output, filters x P, is W (filters x C k k) times that matrix, written straight into the sample's
 * output row; the gradients are the same products transposed, and col2im, im2col's adjoint, carries the
 * patches' gradients back to the input. The layer keeps its patch matrices from the last forward pass (what
 * the weight gradient and PEPITA's conv update need) in buffers allocated once.
 */
import { col2im, convOutput, type ConvGeometry, type MapsArgs } from '../core/conv-kernels.js';
import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';

export { col2im, convOutput, im2col, type ConvGeometry } from '../core/conv-kernels.js';

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

/** Samples lowered at once when the patches need not be kept (evaluation over large batches). */
const CHUNK = 32;

/**
 * A convolution layer's computations for batches of up to `maxBatch` samples (weights: filters x C k k), its
 * buffers in `memory` (the engine's, for the engine passed to its methods). A batch is lowered in one piece:
 * the patches of its n samples side by side (C k k x n P), so that each product is one GEMM over the batch;
 * outputs and output gradients are moved between the batch rows (filters x P per sample) and the GEMM's
 * filters x n P layout by contiguous copies of P values.
 */
export class Conv2d {
  /** Values per input sample (C H W) and per output sample (filters x positions). */
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** C k k: the columns of the weight matrix. */
  readonly patch: number;
  readonly positions: number;
  /** The patches of the last forward pass: C k k rows of (samples x positions), sample s at column s P. */
  private readonly cols: Float32Array;
  /** Filters x (samples x positions): the forward product, and the output gradient regrouped for products. */
  private readonly maps: Float32Array;
  /** The patches' gradients of an input gradient (C k k x samples x positions). */
  private readonly dcols: Float32Array;
  private readonly chunk: number;
  /** Rows of the last forward pass (whose patches `cols` holds when they are kept). */
  private lastRows = -1;

  /**
   * @param keepPatches - keep every sample's patches for the gradients (false: the batch is lowered 32
   *   samples at a time into reused buffers; enough for forward passes and input gradients, e.g. evaluation)
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
    this.chunk = keepPatches ? maxBatch : Math.min(maxBatch, CHUNK);
    const columns = this.chunk * this.positions;
    this.cols = memory.floats(this.patch * columns);
    this.maps = memory.floats(filters * columns);
    this.dcols = memory.floats(this.patch * columns);
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

  /** `rows` x `cols` over `data` with row stride `ld` (a GEMM operand in the lowered layout). */
  private static block(data: Float32Array, rows: number, cols: number, ld = cols): Matrix {
    return new Matrix(rows, cols, data, 0, ld);
  }

  /** maps <- rows [from, from + n) of `m` (b x filters P), regrouped as filters x (n P). */
  private gather(engine: Engine, m: Matrix, from: number, n: number): void {
    engine.run('gatherMaps', this.mapsArgs(m, from, n));
  }

  /** Rows [from, from + n) of `m` <- maps (filters x (n P)), regrouped per sample. */
  private scatter(engine: Engine, m: Matrix, from: number, n: number): void {
    engine.run('scatterMaps', this.mapsArgs(m, from, n));
  }

  private mapsArgs(m: Matrix, from: number, n: number): MapsArgs {
    const { filters } = this.geometry;
    const [rows, rowsOff, rowsStride] = [m.data, m.offset + from * m.stride, m.stride];
    return { rows, rowsOff, rowsStride, n, filters, positions: this.positions, maps: this.maps };
  }

  /** out (b x filters P) = the convolution of x (b x C H W) with w (filters x C k k); keeps x's patches. */
  forward(engine: Engine, x: Matrix, w: Matrix, out: Matrix): void {
    const b = this.rows(x);
    const f = this.geometry.filters;
    const P = this.positions;
    this.check('the input', x, b, this.inFeatures);
    this.check('the weights', w, f, this.patch);
    this.check('the output', out, b, this.outFeatures);
    for (let from = 0; from < b; from += this.chunk) {
      const n = Math.min(this.chunk, b - from);
      engine.run('im2colRows', {
        geometry: this.geometry,
        x: x.data,
        xOff: x.offset + from * x.stride,
        xStride: x.stride,
        n,
        cols: this.cols,
        ld: n * P,
      });
      const cols = Conv2d.block(this.cols, this.patch, n * P);
      engine.gemm(false, false, f, n * P, this.patch, 1, w, cols, 0, Conv2d.block(this.maps, f, n * P));
      this.scatter(engine, out, from, n);
    }
    this.lastRows = this.keepPatches ? b : -1;
  }

  /**
   * dw = alpha * sum over samples of dy_s (filters x P) times the sample's patches transposed, + beta * dw:
   * the weight gradient of the last forward pass (and, with PEPITA's deltas as dy, its conv update).
   */
  weightGradient(engine: Engine, dy: Matrix, alpha: number, beta: number, dw: Matrix): void {
    const b = this.rows(dy);
    const f = this.geometry.filters;
    const P = this.positions;
    if (!this.keepPatches) throw new TopdownUsageError('Conv2d: weight gradients need the kept patches');
    this.check('the output gradient', dy, b, this.outFeatures);
    this.check('the weight gradient', dw, f, this.patch);
    if (b === 0) {
      if (beta !== 1)
        engine.run('scal', { alpha: beta, x: dw.data.subarray(dw.offset, dw.offset + dw.rows * dw.stride) });
      return;
    }
    if (b !== this.lastRows)
      throw new TopdownUsageError(`Conv2d: a gradient of ${b} rows after a forward pass of ${this.lastRows}`);
    this.gather(engine, dy, 0, b);
    const maps = Conv2d.block(this.maps, f, b * P);
    engine.gemm(
      false,
      true,
      f,
      this.patch,
      b * P,
      alpha,
      maps,
      Conv2d.block(this.cols, this.patch, b * P),
      beta,
      dw,
    );
  }

  /** dx (b x C H W) = the gradient of the input: w^T dy_s per sample, carried back to pixels by col2im. */
  inputGradient(engine: Engine, dy: Matrix, w: Matrix, dx: Matrix): void {
    const b = this.rows(dy);
    const f = this.geometry.filters;
    const P = this.positions;
    this.check('the output gradient', dy, b, this.outFeatures);
    this.check('the weights', w, f, this.patch);
    this.check('the input gradient', dx, b, this.inFeatures);
    for (let from = 0; from < b; from += this.chunk) {
      const n = Math.min(this.chunk, b - from);
      this.gather(engine, dy, from, n);
      const maps = Conv2d.block(this.maps, f, n * P);
      engine.gemm(
        true,
        false,
        this.patch,
        n * P,
        f,
        1,
        w,
        maps,
        0,
        Conv2d.block(this.dcols, this.patch, n * P),
      );
      for (let s = 0; s < n; s++) {
        const at = dx.offset + (from + s) * dx.stride;
        dx.data.fill(0, at, at + this.inFeatures);
        col2im(this.geometry, this.dcols, s * P, dx.data, at, n * P);
      }
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
  forward(engine: Engine, x: Matrix, out: Matrix): void {
    const b = x.rows;
    if (b > this.maxBatch || x.cols !== this.inFeatures || out.rows !== b || out.cols !== this.outFeatures)
      throw new TopdownUsageError(
        `MaxPool2: shapes ${x.rows}x${x.cols} -> ${out.rows}x${out.cols} do not fit`,
      );
    engine.run('maxPool2Rows', {
      channels: this.channels,
      height: this.height,
      width: this.width,
      n: b,
      x: x.data,
      xOff: x.offset,
      xStride: x.stride,
      out: out.data,
      outOff: out.offset,
      outStride: out.stride,
      argmax: this.argmax,
      argOff: 0,
    });
  }

  /** dx (b x C H W) = dy routed to where each maximum was in the last forward pass, 0 elsewhere. */
  backward(engine: Engine, dy: Matrix, dx: Matrix): void {
    const b = dy.rows;
    if (b > this.maxBatch || dy.cols !== this.outFeatures || dx.rows !== b || dx.cols !== this.inFeatures)
      throw new TopdownUsageError(
        `MaxPool2: shapes ${dy.rows}x${dy.cols} -> ${dx.rows}x${dx.cols} do not fit`,
      );
    engine.run('maxPool2Backward', {
      n: b,
      inFeatures: this.inFeatures,
      outFeatures: this.outFeatures,
      dy: dy.data,
      dyOff: dy.offset,
      dyStride: dy.stride,
      dx: dx.data,
      dxOff: dx.offset,
      dxStride: dx.stride,
      argmax: this.argmax,
    });
  }
}
