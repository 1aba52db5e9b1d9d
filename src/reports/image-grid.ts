/**
 * Labelled grids of small images (dataset samples and what a learning rule derives from them), written as a
 * self-contained SVG with the images embedded as PNG data URIs, and rasterised to PNG with {@link svgToPng}.
 *
 * Each row has a label at the left and one image per column, optionally captioned underneath; a title may
 * go on top. Each image is magnified by an integer factor before it is embedded (every source pixel becomes
 * a `scale × scale` block of the embedded PNG) and drawn at its own size at integer coordinates, so it stays
 * sharp whatever the renderer's resampling filter: resvg (2.6) smooths images marked
 * `image-rendering: pixelated` and only samples nearest-neighbour for `optimizeSpeed`, which some browsers
 * ignore. The output is deterministic: the same input gives the same bytes.
 * @packageDocumentation
 */
import { deflateSync } from 'node:zlib';

import { TopdownUsageError } from '../core/errors.js';
import { escapeXml, estimateTextWidth, FIGURE_FONT_FAMILY } from './svg-text.js';
import { MAX_PNG_WIDTH, svgToPng } from './png.js';

/** How an image's values become grey levels (or colour intensities) from 0 (black) to 255 (white). */
export type GridScaling = 'clip01' | 'minmax' | 'symmetric' | 'symmetric-each';

/** How an image's values are ordered in its flat array. */
export type GridLayout = 'hwc' | 'chw';

/** One image of a grid. */
export interface GridImage {
  /**
   * The values, `height × width × channels` of them, in the grid's {@link ImageGridOptions.layout}.
   * Non-finite values are drawn as red pixels (the whole pixel, whichever channel is non-finite).
   */
  pixels: ArrayLike<number>;
  /** Written small, centred under the image. */
  caption?: string;
}

/** One row of a grid: a label and its images, one per column (a row may have fewer images than others). */
export interface GridRow {
  /** Written at the left of the row, right-aligned; `\n` breaks it into lines. */
  label: string;
  images: readonly GridImage[];
  /**
   * How values map to intensities (default `'clip01'`):
   * - `'clip01'`: values in [0, 1] are shown as they are (0 black, 1 white); values outside are clipped.
   * - `'minmax'`: each image is stretched on its own so that its smallest value is black and its largest
   *   white (over all its channels, so colours keep their balance); a constant image is mid-grey.
   * - `'symmetric'`: for signed values such as perturbations; over the whole row, 0 is mid-grey (128) and
   *   `±max|v|` white and black; an all-zero row is mid-grey.
   * - `'symmetric-each'`: as `'symmetric'` with each image's own max|v|, so that a small perturbation next
   *   to a large one stays visible.
   */
  scaling?: GridScaling;
}

/** Options for {@link imageGridSvg} and {@link imageGridPng}. */
export interface ImageGridOptions {
  /** Image width in pixels (every image of the grid has the same shape). */
  width: number;
  /** Image height in pixels. */
  height: number;
  /** 1 (grey) or 3 (RGB). */
  channels: 1 | 3;
  /**
   * The order of the values: `'hwc'` (row-major, channels last, the default; MNIST) or `'chw'` (one plane
   * per channel; CIFAR-10 as this project stores it).
   */
  layout?: GridLayout;
  /**
   * Integer magnification: each source pixel becomes a `scale × scale` block. Default: the largest that
   * keeps images about 84 px (3 for 28 × 28 and 32 × 32 images), at least 1.
   */
  scale?: number;
  /** Written in bold above the grid. */
  title?: string;
}

/** The PNG file signature. */
const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** The CRC-32 table of the PNG specification (polynomial 0xEDB88320, reflected). */
const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32 of `bytes`, as the PNG specification computes it for a chunk's type and data. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One chunk: length, type, data and the CRC of type and data. */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) chunk[4 + i] = type.charCodeAt(i);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)));
  return chunk;
}

/** The PNG colour type for 1 (grey), 2 (grey + alpha), 3 (RGB) and 4 (RGBA) channels. */
const COLOR_TYPES: Readonly<Record<number, number>> = { 1: 0, 2: 4, 3: 2, 4: 6 };

/** The largest image side {@link encodePng} accepts. */
const MAX_ENCODE_SIDE = 1 << 16;

/**
 * Encodes 8-bit pixels as a PNG file: non-interlaced, every scanline with filter type 0, compressed with
 * zlib (`deflateSync`, level 9), in one IDAT chunk. The same input always gives the same bytes.
 *
 * @param pixels Row-major samples, `height × width × channels` bytes, channels last.
 * @param channels 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).
 * @throws TopdownUsageError for a non-integer or non-positive size, an unknown channel count or a pixel
 * array of the wrong length.
 */
export function encodePng(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
): Uint8Array {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!(Number.isInteger(v) && v > 0 && v <= MAX_ENCODE_SIDE))
      throw new TopdownUsageError(`PNG ${name} must be an integer from 1 to ${MAX_ENCODE_SIDE}, got ${v}`);
  }
  const colorType = COLOR_TYPES[channels];
  if (colorType === undefined)
    throw new TopdownUsageError(`PNG channels must be 1, 2, 3 or 4, got ${channels}`);
  if (!(pixels instanceof Uint8Array)) throw new TopdownUsageError('PNG pixels must be a Uint8Array');
  const stride = width * channels;
  if (pixels.length !== stride * height) {
    throw new TopdownUsageError(
      `PNG pixels: expected ${width}×${height}×${channels} = ${stride * height} bytes, got ${pixels.length}`,
    );
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = colorType; // compression, filter and interlace methods stay 0
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++)
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const parts = [
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Grid

/** The colour non-finite values are drawn in. */
const NON_FINITE_RGB = [220, 0, 0] as const;
/** The image size the default magnification aims at. */
const TARGET_IMAGE_PX = 84;
/** The largest magnification accepted. */
const MAX_SCALE = 64;

const FONT = { label: 13, caption: 11, title: 16 } as const;
const MARGIN = 12;
/** Horizontal space between columns and between the labels and the first column. */
const COL_GAP = 10;
/** Vertical space between a row (with its captions) and the next. */
const ROW_GAP = 10;
const CAPTION_GAP = 4;

/** A coordinate with at most two decimals (never `-0`). */
function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return r === 0 ? '0' : String(r);
}

function usage(message: string): never {
  throw new TopdownUsageError(message);
}

/** Validated options with defaults filled in. */
interface GridShape {
  width: number;
  height: number;
  channels: 1 | 3;
  layout: GridLayout;
  scale: number;
}

function validateOptions(options: ImageGridOptions): GridShape {
  if (options === null || typeof options !== 'object') usage('image grid options are required');
  const { width, height, channels } = options;
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!(Number.isInteger(v) && v > 0 && v <= 4096))
      usage(`image grid ${name} must be an integer from 1 to 4096, got ${String(v)}`);
  }
  if (channels !== 1 && channels !== 3) usage(`image grid channels must be 1 or 3, got ${String(channels)}`);
  const layout = options.layout ?? 'hwc';
  if (layout !== 'hwc' && layout !== 'chw')
    usage(`image grid layout must be 'hwc' or 'chw', got ${String(layout)}`);
  const scale = options.scale ?? Math.max(1, Math.round(TARGET_IMAGE_PX / Math.max(width, height)));
  if (!(Number.isInteger(scale) && scale >= 1 && scale <= MAX_SCALE))
    usage(`image grid scale must be an integer from 1 to ${MAX_SCALE}, got ${String(scale)}`);
  if (Math.max(width, height) * scale > MAX_PNG_WIDTH)
    usage(
      `image grid images would be ${width * scale}×${height * scale} pixels, larger than ${MAX_PNG_WIDTH}`,
    );
  return { width, height, channels, layout, scale };
}

function validateRows(rows: readonly GridRow[], shape: GridShape): void {
  if (!Array.isArray(rows) || rows.length === 0) usage('an image grid needs at least one row');
  const expected = shape.width * shape.height * shape.channels;
  rows.forEach((row, r) => {
    if (row === null || typeof row !== 'object') usage(`image grid row ${r} is not an object`);
    if (typeof row.label !== 'string') usage(`image grid row ${r} needs a string label`);
    if (!Array.isArray(row.images)) usage(`image grid row ${r} ("${row.label}") needs an images array`);
    const scaling = row.scaling ?? 'clip01';
    if (
      scaling !== 'clip01' &&
      scaling !== 'minmax' &&
      scaling !== 'symmetric' &&
      scaling !== 'symmetric-each'
    )
      usage(`image grid row ${r} ("${row.label}"): unknown scaling ${String(scaling)}`);
    row.images.forEach((image: GridImage, c: number) => {
      const where = `image grid row ${r} ("${row.label}"), image ${c}`;
      if (
        image === null ||
        typeof image !== 'object' ||
        image.pixels === null ||
        typeof image.pixels !== 'object'
      )
        usage(`${where} needs a pixels array`);
      if (image.pixels.length !== expected) {
        usage(
          `${where}: expected ${shape.height}×${shape.width}×${shape.channels} = ${expected} values, got ${image.pixels.length}`,
        );
      }
      if (image.caption !== undefined && typeof image.caption !== 'string')
        usage(`${where}: the caption must be a string`);
    });
  });
  if (rows.every((row) => row.images.length === 0)) usage('an image grid needs at least one image');
}

/** The largest finite `|v|` of any image of the row (0 if none). */
function rowMaxAbs(row: GridRow): number {
  let m = 0;
  for (const image of row.images) {
    const p = image.pixels;
    for (let i = 0; i < p.length; i++) {
      const a = Math.abs(p[i]!);
      if (a > m && a !== Infinity) m = a;
    }
  }
  return m;
}

/** Maps one image's values to 8-bit samples, HWC, with 3 channels when the image is in colour or has a non-finite value. */
function toBytes(
  pixels: ArrayLike<number>,
  shape: GridShape,
  scaling: GridScaling,
  rowMax: number,
): { bytes: Uint8Array; channels: 1 | 3 } {
  const { width, height, channels, layout } = shape;
  const n = width * height;
  // The value → intensity map: intensity = clamp(round(offset + gain · v)).
  let gain = 255;
  let offset = 0;
  let allFinite = true;
  if (scaling === 'minmax') {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < pixels.length; i++) {
      const v = pixels[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi > lo) {
      gain = 255 / (hi - lo);
      offset = -lo * gain;
    } else {
      gain = 0;
      offset = 127.5;
    }
  } else if (scaling === 'symmetric' || scaling === 'symmetric-each') {
    let max = rowMax;
    if (scaling === 'symmetric-each') {
      max = 0;
      for (let i = 0; i < pixels.length; i++) {
        const v = Math.abs(pixels[i]!);
        if (Number.isFinite(v) && v > max) max = v;
      }
    }
    gain = max > 0 ? 127.5 / max : 0;
    offset = 127.5;
  }
  for (let i = 0; i < pixels.length; i++) {
    if (!Number.isFinite(pixels[i]!)) {
      allFinite = false;
      break;
    }
  }
  const outChannels: 1 | 3 = channels === 3 || !allFinite ? 3 : 1;
  const bytes = new Uint8Array(n * outChannels);
  for (let p = 0; p < n; p++) {
    let bad = false;
    for (let c = 0; c < channels; c++) {
      const v = pixels[layout === 'hwc' ? p * channels + c : c * n + p]!;
      if (!Number.isFinite(v)) {
        bad = true;
        break;
      }
      const level = Math.round(offset + gain * v);
      const byte = level < 0 ? 0 : level > 255 ? 255 : level;
      if (outChannels === 1) bytes[p] = byte;
      else if (channels === 3) bytes[p * 3 + c] = byte;
      else bytes.fill(byte, p * 3, p * 3 + 3);
    }
    if (bad) bytes.set(NON_FINITE_RGB, p * 3);
  }
  return { bytes, channels: outChannels };
}

/** The lines of a label or caption (split on newlines; carriage returns dropped). */
function lines(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  return text.replace(/\r/g, '').split('\n');
}

function widest(texts: readonly string[], fontSize: number, bold = false): number {
  return texts.reduce((m, t) => Math.max(m, estimateTextWidth(t, fontSize, bold)), 0);
}

/** The grid's layout in SVG user units (= output pixels). */
interface Layout {
  svgWidth: number;
  svgHeight: number;
  imageW: number;
  imageH: number;
  /** The x of each column's left edge and its width (the image is centred in it). */
  columns: { x: number; w: number }[];
  /** The y of each row's image top and the height of its captions. */
  rows: { y: number; captionH: number }[];
  labelRight: number;
  titleY: number;
}

function layoutGrid(rows: readonly GridRow[], shape: GridShape, title: string | undefined): Layout {
  const imageW = shape.width * shape.scale;
  const imageH = shape.height * shape.scale;
  const nCols = rows.reduce((m, r) => Math.max(m, r.images.length), 0);
  const labelW = widest(
    rows.flatMap((r) => lines(r.label)),
    FONT.label,
  );
  const captionLine = Math.ceil(FONT.caption * 1.2);
  const columns: { x: number; w: number }[] = [];
  let x = MARGIN + (labelW > 0 ? Math.ceil(labelW) + COL_GAP : 0);
  const labelRight = x - COL_GAP;
  for (let c = 0; c < nCols; c++) {
    const captions = rows.flatMap((r) => lines(r.images[c]?.caption));
    const w = Math.max(imageW, Math.ceil(widest(captions, FONT.caption)) + 4);
    columns.push({ x, w });
    x += w + COL_GAP;
  }
  const svgWidth = x - COL_GAP + MARGIN;
  let y = MARGIN;
  const titleY = y + FONT.title * 0.9;
  if (title) y += Math.ceil(FONT.title * 1.25) + 8;
  const rowBoxes: { y: number; captionH: number }[] = [];
  for (const row of rows) {
    const captionLines = row.images.reduce((m, im) => Math.max(m, lines(im.caption).length), 0);
    const captionH = captionLines > 0 ? CAPTION_GAP + captionLines * captionLine : 0;
    const labelH = lines(row.label).length * Math.ceil(FONT.label * 1.2);
    // A label taller than the images pushes the images down so that both are centred on the same line.
    const top = y + Math.max(0, Math.ceil((labelH - imageH) / 2));
    rowBoxes.push({ y: top, captionH });
    y = Math.max(top + imageH + captionH, y + labelH) + ROW_GAP;
  }
  const svgHeight = y - ROW_GAP + MARGIN;
  return { svgWidth, svgHeight, imageW, imageH, columns, rows: rowBoxes, labelRight, titleY };
}

/** Nearest-neighbour magnification of HWC bytes by an integer factor: each pixel becomes a `scale × scale` block. */
function magnify(
  bytes: Uint8Array,
  width: number,
  height: number,
  channels: number,
  scale: number,
): Uint8Array {
  if (scale === 1) return bytes;
  const outStride = width * scale * channels;
  const out = new Uint8Array(outStride * height * scale);
  for (let y = 0; y < height; y++) {
    const row = y * scale * outStride;
    for (let x = 0; x < width; x++) {
      const px = bytes.subarray((y * width + x) * channels, (y * width + x + 1) * channels);
      for (let k = 0; k < scale; k++) out.set(px, row + (x * scale + k) * channels);
    }
    for (let k = 1; k < scale; k++) out.copyWithin(row + k * outStride, row, row + outStride);
  }
  return out;
}

/** Base64 of bytes. */
function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Renders a labelled grid of images as a self-contained SVG string: row labels at the left (right-aligned,
 * centred on the row), one column per image with its caption centred underneath, and the title in bold on
 * top. Each image is embedded as an 8-bit PNG data URI already magnified `scale` times (nearest-neighbour,
 * so a source pixel is a `scale × scale` block) and drawn 1:1 at integer coordinates inside a thin grey
 * frame, marked `image-rendering="optimizeSpeed"` so that a zoomed-in view stays blocky where the viewer
 * honours it. Text is set in {@link FIGURE_FONT_FAMILY}. The output is deterministic.
 *
 * @throws TopdownUsageError for no rows, no image at all, a pixel array whose length is not
 * `height × width × channels`, an unknown scaling or layout, or an invalid size, channel count or scale.
 * Non-finite values do not throw: they are drawn as red pixels.
 */
export function imageGridSvg(rows: readonly GridRow[], options: ImageGridOptions): string {
  const shape = validateOptions(options);
  validateRows(rows, shape);
  const title = options.title === undefined || options.title === '' ? undefined : String(options.title);
  const L = layoutGrid(rows, shape, title);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${L.svgWidth}" height="${L.svgHeight}" viewBox="0 0 ${L.svgWidth} ${L.svgHeight}" font-family="'${FIGURE_FONT_FAMILY}', 'Bitstream Vera Sans', Verdana, Arial, sans-serif" font-size="${FONT.label}" fill="#000000">`,
  );
  out.push('<rect width="100%" height="100%" fill="#ffffff"/>');
  if (title !== undefined) {
    out.push(
      `<text x="${num(L.svgWidth / 2)}" y="${num(L.titleY)}" font-size="${FONT.title}" font-weight="bold" text-anchor="middle">${escapeXml(title)}</text>`,
    );
  }
  const labelLine = Math.ceil(FONT.label * 1.2);
  const captionLine = Math.ceil(FONT.caption * 1.2);
  rows.forEach((row, r) => {
    const box = L.rows[r]!;
    const labelLines = lines(row.label);
    if (labelLines.length > 0) {
      // Centre the block of lines on the image's middle (a line's visual centre is ~0.35 em above its baseline).
      const firstBaseline =
        box.y + L.imageH / 2 - ((labelLines.length - 1) * labelLine) / 2 + FONT.label * 0.35;
      const tspans = labelLines
        .map(
          (line, i) =>
            `<tspan x="${num(L.labelRight)}" y="${num(firstBaseline + i * labelLine)}">${escapeXml(line)}</tspan>`,
        )
        .join('');
      out.push(`<text text-anchor="end">${tspans}</text>`);
    }
    const scaling = row.scaling ?? 'clip01';
    const rowMax = scaling === 'symmetric' ? rowMaxAbs(row) : 0;
    row.images.forEach((image, c) => {
      const col = L.columns[c]!;
      const x = col.x + Math.floor((col.w - L.imageW) / 2);
      const { bytes, channels } = toBytes(image.pixels, shape, scaling, rowMax);
      const png = encodePng(
        magnify(bytes, shape.width, shape.height, channels, shape.scale),
        L.imageW,
        L.imageH,
        channels,
      );
      out.push(
        `<rect x="${x - 0.5}" y="${box.y - 0.5}" width="${L.imageW + 1}" height="${L.imageH + 1}" fill="none" stroke="#b0b0b0" stroke-width="1"/>`,
      );
      out.push(
        `<image x="${x}" y="${box.y}" width="${L.imageW}" height="${L.imageH}" image-rendering="optimizeSpeed" href="data:image/png;base64,${base64(png)}"/>`,
      );
      const captionLines = lines(image.caption);
      if (captionLines.length > 0) {
        const cx = num(col.x + col.w / 2);
        const tspans = captionLines
          .map(
            (line, i) =>
              `<tspan x="${cx}" y="${num(box.y + L.imageH + CAPTION_GAP + FONT.caption * 0.95 + i * captionLine)}">${escapeXml(line)}</tspan>`,
          )
          .join('');
        out.push(`<text font-size="${FONT.caption}" fill="#333333" text-anchor="middle">${tspans}</text>`);
      }
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * Renders {@link imageGridSvg}'s grid to PNG bytes at its natural size (one SVG unit a pixel, so every
 * source pixel is an exact `scale × scale` block), on white.
 *
 * @throws TopdownUsageError as {@link imageGridSvg} does, or for a grid wider or taller than
 * {@link MAX_PNG_WIDTH} pixels.
 * @throws TopdownUnavailableError when the native renderer cannot be loaded here (see {@link svgToPng}).
 */
export function imageGridPng(rows: readonly GridRow[], options: ImageGridOptions): Uint8Array {
  const svg = imageGridSvg(rows, options);
  const size = /width="(\d+)" height="(\d+)"/.exec(svg);
  const w = Number(size?.[1]);
  const h = Number(size?.[2]);
  if (!(w <= MAX_PNG_WIDTH && h <= MAX_PNG_WIDTH))
    usage(`the image grid would be ${w}×${h} pixels, larger than the ${MAX_PNG_WIDTH}-pixel limit`);
  return svgToPng(svg, { background: 'white' });
}
