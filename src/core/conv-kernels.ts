/**
 * The data movement of convolutions on batches of images stored one per row, channel-major (C, H, W): the
 * geometry, im2col and its adjoint col2im, and 2x2 max-pooling with its argmax. Pure copies and selections
 * (no arithmetic on the values), so every engine's version gives the same bits; the blas engine runs them
 * natively, the others here.
 */
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

/**
 * The patches of `n` images (rows of `x` from `xOff`, `xStride` apart) side by side in `cols`: sample s's
 * patches in columns [s P, (s + 1) P) of the C k k rows, which are `ld` apart.
 */
export interface Im2colArgs {
  geometry: ConvGeometry;
  x: Float32Array;
  xOff: number;
  xStride: number;
  n: number;
  cols: Float32Array;
  ld: number;
}

/**
 * 2x2 max-pooling of `n` rows of `x` (C x H x W each) into `out` (C x H/2 x W/2 per row), with the index
 * within its input row of each maximum in `argmax` (C H/2 W/2 per row from `argOff`).
 */
export interface MaxPoolArgs {
  channels: number;
  height: number;
  width: number;
  n: number;
  x: Float32Array;
  xOff: number;
  xStride: number;
  out: Float32Array;
  outOff: number;
  outStride: number;
  argmax: Int32Array;
  argOff: number;
}

/**
 * A batch's convolution maps between the batch rows (sample s's filters x positions values in row s, rows
 * `rowsStride` apart from `rowsOff`) and the product's layout (`maps`: filters x (n positions), sample s's
 * positions in columns [s P, (s + 1) P) of each filter's row).
 */
export interface MapsArgs {
  rows: Float32Array;
  rowsOff: number;
  rowsStride: number;
  n: number;
  filters: number;
  positions: number;
  maps: Float32Array;
}

/**
 * The backward pass of {@link maxPool2Rows}: dx (n rows of `inFeatures`, `dxStride` apart from `dxOff`) gets
 * each pooled gradient (n rows of `outFeatures` in dy) where its maximum was (`argmax`, `outFeatures` per
 * row from 0), 0 elsewhere.
 */
export interface MaxPoolBackwardArgs {
  n: number;
  inFeatures: number;
  outFeatures: number;
  dy: Float32Array;
  dyOff: number;
  dyStride: number;
  dx: Float32Array;
  dxOff: number;
  dxStride: number;
  argmax: Int32Array;
}

/** Output height, width and positions of a convolution (PyTorch's floor rule). */
export function convOutput(g: ConvGeometry): { height: number; width: number; positions: number } {
  const height = Math.floor((g.height + 2 * g.padding - g.kernel) / g.stride) + 1;
  const width = Math.floor((g.width + 2 * g.padding - g.kernel) / g.stride) + 1;
  return { height, width, positions: height * width };
}

/**
 * Writes the patches of one sample (`x`, C x H x W values from `offset`) into `cols` from `at`: row
 * (c k + i) k + j, column oy W_out + ox holds x[c][oy s + i - p][ox s + j - p], 0 outside the image; rows
 * are `ld` apart (default: the positions; a batch's patches side by side use samples x positions).
 */
export function im2col(
  g: ConvGeometry,
  x: Float32Array,
  offset: number,
  cols: Float32Array,
  at: number,
  ld = convOutput(g).positions,
): void {
  const { height: oh, width: ow } = convOutput(g);
  const { channels, height, width, kernel, stride, padding } = g;
  let row = at;
  for (let c = 0; c < channels; c++) {
    const plane = offset + c * height * width;
    for (let i = 0; i < kernel; i++) {
      for (let j = 0; j < kernel; j++, row += ld) {
        // the output columns whose input column ox s + j - p lies inside the image: [lo, hi)
        const lo = Math.min(ow, Math.max(0, Math.ceil((padding - j) / stride)));
        const hi = Math.max(lo, Math.min(ow, Math.floor((width - 1 + padding - j) / stride) + 1));
        for (let oy = 0; oy < oh; oy++) {
          const y = oy * stride + i - padding;
          const dst = row + oy * ow;
          if (y < 0 || y >= height) {
            cols.fill(0, dst, dst + ow);
            continue;
          }
          if (lo > 0) cols.fill(0, dst, dst + lo);
          if (hi < ow) cols.fill(0, dst + hi, dst + ow);
          const src = plane + y * width + j - padding;
          for (let ox = lo; ox < hi; ox++) cols[dst + ox] = x[src + ox * stride]!;
        }
      }
    }
  }
}

/**
 * The adjoint of {@link im2col}: adds each patch entry of `cols` (from `at`, rows `ld` apart) to the input
 * value it came from.
 */
export function col2im(
  g: ConvGeometry,
  cols: Float32Array,
  at: number,
  dx: Float32Array,
  offset: number,
  ld = convOutput(g).positions,
): void {
  const { height: oh, width: ow } = convOutput(g);
  const { channels, height, width, kernel, stride, padding } = g;
  let row = at;
  for (let c = 0; c < channels; c++) {
    const plane = offset + c * height * width;
    for (let i = 0; i < kernel; i++) {
      for (let j = 0; j < kernel; j++, row += ld) {
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
 * 2x2 max-pooling with stride 2 of `n` rows of `x` (C x H x W each, rows `xStride` apart from `xOff`) into
 * `out` (C x H/2 x W/2 per row, `outStride` apart from `outOff`), recording in `argmax` (from `argOff`, C H/2
 * W/2 per row) the index within its input row of each maximum: PyTorch's MaxPool2d(2) (odd edges dropped, the
 * first maximum in row-by-row order wins, NaN wins).
 */
export function maxPool2Rows(args: MaxPoolArgs): void {
  const { channels, height, width, n, x, xOff, xStride, out, outOff, outStride, argmax, argOff } = args;
  const oh = Math.floor(height / 2);
  const ow = Math.floor(width / 2);
  const per = channels * oh * ow;
  for (let s = 0; s < n; s++) {
    const xi = xOff + s * xStride;
    const oi = outOff + s * outStride;
    const ai = argOff + s * per;
    let o = 0;
    for (let c = 0; c < channels; c++) {
      for (let oy = 0; oy < oh; oy++) {
        const row = c * height * width + 2 * oy * width;
        for (let ox = 0; ox < ow; ox++, o++) {
          // the index moves by arithmetic on the comparisons (branches mispredict on half the blocks)
          const k0 = row + 2 * ox;
          const k2 = k0 + width;
          const v1 = x[xi + k0 + 1]!;
          let best = k0 + (+(v1 > x[xi + k0]!) | +(v1 !== v1));
          const v2 = x[xi + k2]!;
          best += (+(v2 > x[xi + best]!) | +(v2 !== v2)) * (k2 - best);
          const v3 = x[xi + k2 + 1]!;
          best += (+(v3 > x[xi + best]!) | +(v3 !== v3)) * (k2 + 1 - best);
          out[oi + o] = x[xi + best]!;
          argmax[ai + o] = best;
        }
      }
    }
  }
}

/** maps <- the batch rows when `toMaps`, else the batch rows <- maps (see {@link MapsArgs}). */
export function regroupMaps(args: MapsArgs, toMaps: boolean): void {
  const { rows, rowsOff, rowsStride, n, filters, positions: P, maps } = args;
  for (let s = 0; s < n; s++) {
    for (let f = 0; f < filters; f++) {
      const row = rowsOff + s * rowsStride + f * P;
      const block = (f * n + s) * P;
      if (toMaps) maps.set(rows.subarray(row, row + P), block);
      else rows.set(maps.subarray(block, block + P), row);
    }
  }
}

/** See {@link MaxPoolBackwardArgs}. */
export function maxPool2Backward(args: MaxPoolBackwardArgs): void {
  const { n, inFeatures, outFeatures, dy, dyOff, dyStride, dx, dxOff, dxStride, argmax } = args;
  // The 2x2 windows do not overlap, so each input takes at most one output's gradient: an assignment
  // (+ 0, as 0 + g would, turns -0 into +0).
  for (let s = 0; s < n; s++) {
    const di = dxOff + s * dxStride;
    dx.fill(0, di, di + inFeatures);
    const gi = dyOff + s * dyStride;
    const ai = s * outFeatures;
    for (let o = 0; o < outFeatures; o++) dx[di + argmax[ai + o]!] = dy[gi + o]! + 0;
  }
}
