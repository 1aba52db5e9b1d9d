import { writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import {
  encodePng,
  imageGridPng,
  imageGridSvg,
  type GridImage,
  type GridRow,
  type ImageGridOptions,
} from '../src/reports/image-grid.js';
import { pngAvailable } from '../src/reports/png.js';

import { unfilterScanlines } from './png-helpers.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** CRC-32 computed bit by bit (independently of the table-driven one under test). */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

interface Decoded {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  chunkTypes: string[];
  /** Samples as stored, `channels` a pixel. */
  samples: Uint8Array;
  channels: number;
}

/** Decodes an 8-bit, non-interlaced PNG, checking the signature and every chunk's CRC. */
function decodePng(png: Uint8Array): Decoded {
  expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  let header: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  const chunkTypes: string[] = [];
  while (pos < png.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    chunkTypes.push(type);
    const data = png.subarray(pos + 8, pos + 8 + length);
    expect(view.getUint32(pos + 8 + length), `CRC of ${type}`).toBe(
      crc32(png.subarray(pos + 4, pos + 8 + length)),
    );
    if (type === 'IHDR') header = data;
    else if (type === 'IDAT') idat.push(data);
    pos += 12 + length;
    if (type === 'IEND') break;
  }
  expect(pos).toBe(png.length);
  if (header === undefined) throw new Error('no IHDR');
  const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const width = hv.getUint32(0);
  const height = hv.getUint32(4);
  const [bitDepth, colorType, compression, filterMethod, interlace] = header.subarray(8);
  expect([compression, filterMethod, interlace]).toEqual([0, 0, 0]);
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType!];
  if (channels === undefined || bitDepth !== 8) throw new Error(`unsupported PNG ${bitDepth}/${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe((width * channels + 1) * height);
  const samples = unfilterScanlines(raw, width, height, channels);
  return { width, height, bitDepth: bitDepth!, colorType: colorType!, chunkTypes, samples, channels };
}

/** The RGB of a decoded pixel (grey repeated; alpha ignored). */
function rgbAt(img: Decoded, x: number, y: number): [number, number, number] {
  const i = (y * img.width + x) * img.channels;
  const s = img.samples;
  return img.channels <= 2 ? [s[i]!, s[i]!, s[i]!] : [s[i]!, s[i + 1]!, s[i + 2]!];
}

/** The `<image>` placements of a grid SVG, in document order. */
function imageBoxes(svg: string): { x: number; y: number; w: number; h: number }[] {
  return [...svg.matchAll(/<image x="([\d.]+)" y="([\d.]+)" width="(\d+)" height="(\d+)"/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    w: Number(m[3]),
    h: Number(m[4]),
  }));
}

/** Deterministic pseudo-random bytes. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** A `w × h` grey image with values `f(x, y)`. */
function greyImage(w: number, h: number, f: (x: number, y: number) => number, caption?: string): GridImage {
  const pixels = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) pixels[y * w + x] = f(x, y);
  return caption === undefined ? { pixels } : { pixels, caption };
}

describe('encodePng', () => {
  it('writes grey, grey+alpha, RGB and RGBA images that decode to the same bytes', () => {
    for (const [channels, colorType] of [
      [1, 0],
      [2, 4],
      [3, 2],
      [4, 6],
    ] as const) {
      for (const [w, h] of [
        [1, 1],
        [5, 3],
        [28, 28],
      ] as const) {
        const pixels = bytes(w * h * channels, w * 31 + h + channels);
        const png = encodePng(pixels, w, h, channels);
        const img = decodePng(png);
        expect([img.width, img.height, img.bitDepth, img.colorType]).toEqual([w, h, 8, colorType]);
        expect(img.chunkTypes).toEqual(['IHDR', 'IDAT', 'IEND']);
        expect(Buffer.from(img.samples).equals(Buffer.from(pixels))).toBe(true);
      }
    }
  });

  it('writes filter type 0 scanlines and the standard IEND chunk', () => {
    const png = encodePng(Uint8Array.of(0, 255, 7, 9), 2, 2, 1);
    // IEND's CRC is the well-known AE 42 60 82.
    expect(Array.from(png.subarray(png.length - 12))).toEqual([
      0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ]);
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    const idatLength = view.getUint32(33);
    expect(String.fromCharCode(...png.subarray(37, 41))).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect(Array.from(raw)).toEqual([0, 0, 255, 0, 7, 9]);
  });

  it("'symmetric-each' scales each image by its own max |v|, so a small perturbation stays visible", () => {
    const stripes = (values: number[]): GridImage => greyImage(8, 8, (x) => values[Math.floor(x / 2)]!);
    const rows: GridRow[] = [
      {
        label: 'each',
        images: [stripes([0, 0.02, -0.04, 0.01]), stripes([0, 1e-4, -2e-4, 0])],
        scaling: 'symmetric-each',
      },
    ];
    const options: ImageGridOptions = { width: 8, height: 8, channels: 1, scale: 4 };
    const img = decodePng(imageGridPng(rows, options));
    const boxes = imageBoxes(imageGridSvg(rows, options));
    const grey = (k: number, s: number) => rgbAt(img, boxes[k]!.x + s * 8 + 4, boxes[k]!.y + 16)[0];
    expect(grey(0, 2)).toBe(0);
    expect(Math.abs(grey(0, 1) - 191)).toBeLessThanOrEqual(1);
    // the second image, 200 times smaller, still spans the whole range
    expect(grey(1, 2)).toBe(0);
    expect(Math.abs(grey(1, 1) - 191)).toBeLessThanOrEqual(1);
    expect(Math.abs(grey(1, 0) - 128)).toBeLessThanOrEqual(1);
  });

  it('is deterministic', () => {
    const pixels = bytes(32 * 32 * 3, 1);
    expect(Buffer.from(encodePng(pixels, 32, 32, 3)).equals(Buffer.from(encodePng(pixels, 32, 32, 3)))).toBe(
      true,
    );
  });

  it('rejects bad sizes, channel counts and pixel arrays', () => {
    expect(() => encodePng(new Uint8Array(6), 2, 2, 1)).toThrow(TopdownUsageError);
    expect(() => encodePng(new Uint8Array(0), 0, 0, 1)).toThrow(TopdownUsageError);
    expect(() => encodePng(new Uint8Array(4), 2.5, 2, 1)).toThrow(TopdownUsageError);
    expect(() => encodePng(new Uint8Array(4), 2, 2, 5 as 1)).toThrow(TopdownUsageError);
    expect(() => encodePng([0, 0, 0, 0] as unknown as Uint8Array, 2, 2, 1)).toThrow(TopdownUsageError);
  });
});

const grey28: ImageGridOptions = { width: 28, height: 28, channels: 1 };

describe('imageGridSvg', () => {
  it('writes labels, captions and the title escaped, and one pixelated image per sample', () => {
    const img = (caption?: string): GridImage => greyImage(28, 28, (x) => x / 27, caption);
    const svg = imageGridSvg(
      [
        { label: 'x < y & "z"', images: [img('label <3>'), img("it's")] },
        { label: 'F e (×100)\nsecond line', images: [img()], scaling: 'symmetric' },
      ],
      { ...grey28, title: 'PEPITA & <friends>' },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('>x &lt; y &amp; &quot;z&quot;</tspan>');
    expect(svg).toContain('>F e (×100)</tspan>');
    expect(svg).toContain('>second line</tspan>');
    expect(svg).toContain('>label &lt;3&gt;</tspan>');
    expect(svg).toContain('>it&apos;s</tspan>');
    expect(svg).toContain('>PEPITA &amp; &lt;friends&gt;</text>');
    expect(svg).not.toMatch(/<friends>|<3>/);
    const images = svg.match(/<image [^>]*href="data:image\/png;base64,[A-Za-z0-9+/=]+"\/>/g) ?? [];
    expect(images).toHaveLength(3);
    for (const tag of images) expect(tag).toContain('image-rendering="optimizeSpeed"');
    // The default magnification makes a 28 × 28 image 84 px wide.
    expect(imageBoxes(svg).map((b) => [b.w, b.h])).toEqual([
      [84, 84],
      [84, 84],
      [84, 84],
    ]);
    // The embedded PNG is the image magnified 3 times, nearest-neighbour.
    const href = /href="data:image\/png;base64,([^"]+)"/.exec(svg)![1]!;
    const embedded = decodePng(new Uint8Array(Buffer.from(href, 'base64')));
    expect([embedded.width, embedded.height, embedded.channels]).toEqual([84, 84, 1]);
    const firstRow = Array.from({ length: 84 }, (_, x) => Math.round((Math.floor(x / 3) / 27) * 255));
    for (const y of [0, 1, 2, 50, 83]) {
      expect(Array.from(embedded.samples.subarray(y * 84, (y + 1) * 84))).toEqual(firstRow);
    }
  });

  it('widens a column for a long caption and leaves room for the labels', () => {
    const img = (caption?: string): GridImage => greyImage(28, 28, () => 0.5, caption);
    const plain = imageBoxes(imageGridSvg([{ label: '', images: [img(), img()] }], grey28));
    expect(plain.map((b) => b.x)).toEqual([12, 106]);
    const long = imageBoxes(
      imageGridSvg([{ label: '', images: [img('a rather long caption under it'), img()] }], grey28),
    );
    expect(long[1]!.x - long[0]!.x).toBeGreaterThan(94);
    // The image stays centred in its wider column, at an integer position.
    expect(Number.isInteger(long[0]!.x)).toBe(true);
    expect(long[0]!.x).toBeGreaterThan(12);
    const labelled = imageBoxes(
      imageGridSvg([{ label: 'positive (label 3 embedded)', images: [img()] }], grey28),
    );
    expect(labelled[0]!.x).toBeGreaterThan(12 + 150);
  });

  it('is deterministic', () => {
    const rows: GridRow[] = [{ label: 'a', images: [greyImage(28, 28, (x, y) => (x * y) / 729, 'c')] }];
    expect(imageGridSvg(rows, grey28)).toBe(imageGridSvg(rows, grey28));
  });

  it('honours the scale and picks ~84 px by default', () => {
    const one = (w: number, h: number, options: Partial<ImageGridOptions> = {}) =>
      imageBoxes(
        imageGridSvg([{ label: '', images: [greyImage(w, h, () => 0.5)] }], {
          width: w,
          height: h,
          channels: 1,
          ...options,
        }),
      )[0];
    expect(one(32, 32)).toMatchObject({ w: 96, h: 96 });
    expect(one(8, 4)).toMatchObject({ w: 88, h: 44 });
    expect(one(200, 100)).toMatchObject({ w: 200, h: 100 });
    expect(one(28, 28, { scale: 5 })).toMatchObject({ w: 140, h: 140 });
  });

  it('rejects bad input with usage errors but draws non-finite values', () => {
    const ok = greyImage(28, 28, () => 0);
    const bad =
      (rows: unknown, options: unknown = grey28) =>
      () =>
        imageGridSvg(rows as GridRow[], options as ImageGridOptions);
    expect(bad([])).toThrow(TopdownUsageError);
    expect(bad([{ label: 'a', images: [] }])).toThrow(/at least one image/);
    expect(bad([{ label: 'a', images: [{ pixels: new Float32Array(27 * 28) }] }])).toThrow(
      /expected 28×28×1 = 784 values, got 756/,
    );
    expect(bad([{ label: 'a', images: [ok] }], { ...grey28, channels: 3 })).toThrow(/2352 values/);
    expect(bad([{ label: 'a', images: [ok], scaling: 'log' }])).toThrow(TopdownUsageError);
    expect(bad([{ label: 'a', images: [{}] }])).toThrow(TopdownUsageError);
    expect(bad([{ images: [ok] }])).toThrow(TopdownUsageError);
    expect(bad([{ label: 'a', images: [ok] }], { ...grey28, scale: 1.5 })).toThrow(TopdownUsageError);
    expect(bad([{ label: 'a', images: [ok] }], { ...grey28, scale: 0 })).toThrow(TopdownUsageError);
    expect(bad([{ label: 'a', images: [ok] }], { ...grey28, layout: 'whc' })).toThrow(TopdownUsageError);
    expect(bad([{ label: 'a', images: [ok] }], { ...grey28, channels: 2 })).toThrow(TopdownUsageError);
    expect(bad([{ label: 'a', images: [ok] }], { ...grey28, width: 0 })).toThrow(TopdownUsageError);
    const nan = greyImage(28, 28, (x) => (x === 3 ? NaN : x === 4 ? Infinity : 0.5));
    expect(bad([{ label: 'a', images: [nan], scaling: 'minmax' }])).not.toThrow();
  });
});

describe.runIf(pngAvailable())('imageGridPng', () => {
  it('renders a 2 × 3 grid of 28 × 28 grey images at the expected size, pixel for pixel', () => {
    const sources = Array.from({ length: 6 }, (_, k) => bytes(28 * 28, k + 1));
    const rows: GridRow[] = [0, 1].map((r) => ({
      label: '',
      images: [0, 1, 2].map((c) => ({ pixels: Array.from(sources[r * 3 + c]!, (v) => v / 255) })),
    }));
    const svg = imageGridSvg(rows, grey28);
    const img = decodePng(imageGridPng(rows, grey28));
    // Margins of 12, three 84-px columns 10 apart, two 84-px rows 10 apart.
    expect([img.width, img.height]).toEqual([12 + 3 * 84 + 2 * 10 + 12, 12 + 2 * 84 + 10 + 12]);
    const boxes = imageBoxes(svg);
    expect(boxes.map((b) => [b.x, b.y])).toEqual([
      [12, 12],
      [106, 12],
      [200, 12],
      [12, 106],
      [106, 106],
      [200, 106],
    ]);
    // Nearest-neighbour magnification: every output pixel is its source pixel, exactly.
    boxes.forEach((box, k) => {
      const src = sources[k]!;
      let mismatches = 0;
      for (let y = 0; y < 84; y++) {
        for (let x = 0; x < 84; x++) {
          const v = src[Math.floor(y / 3) * 28 + Math.floor(x / 3)]!;
          const [r, g, b] = rgbAt(img, box.x + x, box.y + y);
          if (r !== v || g !== v || b !== v) mismatches++;
        }
      }
      expect(mismatches, `image ${k}`).toBe(0);
    });
    // The background is white.
    expect(rgbAt(img, 2, 2)).toEqual([255, 255, 255]);
  });

  it('renders 32 × 32 RGB images stored CHW like the same images stored HWC', () => {
    const n = 32 * 32;
    const hwc = Array.from({ length: 3 }, (_, k) => Array.from(bytes(n * 3, 100 + k), (v) => v / 255));
    const chw = hwc.map((p) => {
      const out = new Float64Array(n * 3);
      for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[c * n + i] = p[i * 3 + c]!;
      return out;
    });
    const options: ImageGridOptions = { width: 32, height: 32, channels: 3 };
    const rowsHwc: GridRow[] = [
      { label: 'CIFAR', images: hwc.map((pixels) => ({ pixels, caption: 'cat' })) },
    ];
    const rowsChw: GridRow[] = [
      { label: 'CIFAR', images: chw.map((pixels) => ({ pixels, caption: 'cat' })) },
    ];
    const fromHwc = imageGridPng(rowsHwc, options);
    const fromChw = imageGridPng(rowsChw, { ...options, layout: 'chw' });
    expect(Buffer.from(fromChw).equals(Buffer.from(fromHwc))).toBe(true);
    // The CHW reading differs from misreading the same array as HWC.
    expect(Buffer.from(imageGridPng(rowsChw, options)).equals(Buffer.from(fromHwc))).toBe(false);

    const img = decodePng(fromChw);
    const box = imageBoxes(imageGridSvg(rowsChw, { ...options, layout: 'chw' }))[1]!;
    expect([box.w, box.h]).toEqual([96, 96]);
    for (const [x, y] of [
      [0, 0],
      [31, 0],
      [5, 17],
      [31, 31],
    ] as const) {
      const i = (y * 32 + x) * 3;
      const expected = [0, 1, 2].map((c) => Math.round(hwc[1]![i + c]! * 255));
      expect(rgbAt(img, box.x + x * 3 + 1, box.y + y * 3 + 1)).toEqual(expected);
    }
    // The image is 96 px and the label column and captions fit around it.
    expect(img.height).toBeGreaterThan(12 + 96 + 12 + 11);
  });

  it("maps values with 'symmetric', 'minmax' and 'clip01' scaling, and non-finite values to red", () => {
    // Four 2-px-wide stripes per image: the values below, in that order.
    const stripes = (values: number[]): GridImage => greyImage(8, 8, (x) => values[Math.floor(x / 2)]!);
    const rows: GridRow[] = [
      {
        label: 'sym',
        images: [stripes([0, 0.02, -0.04, 0.01]), stripes([0, 0, 0, 0])],
        scaling: 'symmetric',
      },
      { label: 'minmax', images: [stripes([3, 5, 7, 5]), stripes([2, 2, 2, 2])], scaling: 'minmax' },
      { label: 'clip', images: [stripes([-1, 0.5, 1, 2]), stripes([NaN, Infinity, -Infinity, 0])] },
    ];
    const options: ImageGridOptions = { width: 8, height: 8, channels: 1, scale: 4 };
    const img = decodePng(imageGridPng(rows, options));
    const boxes = imageBoxes(imageGridSvg(rows, options));
    const stripe = (k: number, s: number) => rgbAt(img, boxes[k]!.x + s * 8 + 4, boxes[k]!.y + 16);
    const grey = (k: number, s: number) => {
      const [r, g, b] = stripe(k, s);
      expect(r).toBe(g);
      expect(g).toBe(b);
      return r;
    };
    // symmetric over the row: max |v| = 0.04, so 0 -> 128, 0.02 -> 192, -0.04 -> 0, 0.01 -> 160.
    expect(Math.abs(grey(0, 0) - 128)).toBeLessThanOrEqual(1);
    expect(Math.abs(grey(0, 1) - 191)).toBeLessThanOrEqual(1);
    expect(grey(0, 2)).toBe(0);
    expect(Math.abs(grey(0, 3) - 159)).toBeLessThanOrEqual(1);
    for (let s = 0; s < 4; s++) expect(Math.abs(grey(1, s) - 128)).toBeLessThanOrEqual(1);
    // minmax per image: 3 -> 0, 5 -> 128, 7 -> 255; a constant image is mid-grey.
    expect([grey(2, 0), grey(2, 1), grey(2, 2)]).toEqual([0, 128, 255]);
    expect(grey(3, 0)).toBe(128);
    // clip01.
    expect([grey(4, 0), grey(4, 1), grey(4, 2), grey(4, 3)]).toEqual([0, 128, 255, 255]);
    // Non-finite values are red; the rest of that image stays grey.
    for (let s = 0; s < 3; s++) expect(stripe(5, s)).toEqual([220, 0, 0]);
    expect(grey(5, 3)).toBe(0);
  });

  it('is deterministic', () => {
    const rows: GridRow[] = [
      { label: 'input x', images: [greyImage(28, 28, (x, y) => ((x + y) % 7) / 6, '3')] },
      { label: 'F e', images: [greyImage(28, 28, (x, y) => Math.sin(x - y) * 1e-3)], scaling: 'symmetric' },
    ];
    const a = imageGridPng(rows, { ...grey28, title: 'samples' });
    const b = imageGridPng(rows, { ...grey28, title: 'samples' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  // TOPDOWN_GRID_SAMPLE=/tmp/grid-sample.png npx vitest run test/reports-image-grid.test.ts writes sample
  // grids (MNIST-like, and CIFAR-like next to it with the suffix -rgb) to look at.
  it.runIf(process.env.TOPDOWN_GRID_SAMPLE)('writes sample grids to look at', () => {
    const path = process.env.TOPDOWN_GRID_SAMPLE!;
    writeFileSync(path, sampleDigitGrid());
    writeFileSync(path.replace(/(\.png)?$/, '-rgb.png'), sampleRgbGrid());
  });
});

// ---------------------------------------------------------------------------------------------------------
// Sample grids

/** Strokes of digit-like glyphs in a 28 × 28 box (polylines, MNIST-style: white on black). */
const GLYPHS: Record<number, [number, number][][]> = {
  0: [
    [
      [14, 5],
      [9, 8],
      [8, 14],
      [9, 20],
      [14, 23],
      [19, 20],
      [20, 14],
      [19, 8],
      [14, 5],
    ],
  ],
  1: [
    [
      [11, 8],
      [15, 5],
      [15, 23],
    ],
  ],
  2: [
    [
      [8, 9],
      [12, 5],
      [18, 6],
      [19, 11],
      [8, 23],
      [20, 23],
    ],
  ],
  3: [
    [
      [8, 6],
      [18, 6],
      [13, 13],
      [19, 16],
      [17, 22],
      [8, 22],
    ],
  ],
  7: [
    [
      [7, 6],
      [20, 6],
      [12, 23],
    ],
    [
      [11, 14],
      [18, 14],
    ],
  ],
  9: [
    [
      [19, 10],
      [14, 14],
      [9, 11],
      [11, 6],
      [17, 6],
      [19, 10],
      [17, 23],
    ],
  ],
};

function distanceToSegment(px: number, py: number, [ax, ay]: number[], [bx, by]: number[]): number {
  const dx = bx! - ax!;
  const dy = by! - ay!;
  const t = Math.max(0, Math.min(1, ((px - ax!) * dx + (py - ay!) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - ax! - t * dx, py - ay! - t * dy);
}

/** A digit-like 28 × 28 image, values in [0, 1]. */
function digit(d: number): Float32Array {
  const out = new Float32Array(28 * 28);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      let dist = Infinity;
      for (const stroke of GLYPHS[d]!) {
        for (let i = 1; i < stroke.length; i++)
          dist = Math.min(dist, distanceToSegment(x + 0.5, y + 0.5, stroke[i - 1]!, stroke[i]!));
      }
      out[y * 28 + x] = Math.max(0, Math.min(1, 2.2 - dist));
    }
  }
  return out;
}

function sampleDigitGrid(): Uint8Array {
  const labels = [0, 1, 2, 3, 7, 9];
  const xs = labels.map(digit);
  // A smooth signed "F e" perturbation, different per sample.
  const fe = labels.map((d) => {
    const out = new Float32Array(28 * 28);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) out[y * 28 + x] = 0.004 * Math.sin((x + d) / 3) * Math.cos((y - d) / 4);
    return out;
  });
  const embed = (x: Float32Array, label: number): Float32Array => {
    const out = Float32Array.from(x);
    for (let k = 0; k < 10; k++) out[k] = k === label ? 1 : 0;
    return out;
  };
  const rows: GridRow[] = [
    { label: 'input x', images: xs.map((pixels, i) => ({ pixels, caption: `label ${labels[i]}` })) },
    {
      label: 'positive\n(label embedded)',
      images: xs.map((x, i) => ({ pixels: embed(x, labels[i]!), caption: `y = ${labels[i]}` })),
    },
    {
      label: 'F e (×100)',
      images: fe.map((pixels) => ({ pixels: pixels.map((v) => v * 100) })),
      scaling: 'symmetric',
    },
  ];
  // One NaN pixel, to see how non-finite values look.
  (rows[2]!.images[5]!.pixels as Float32Array)[14 * 28 + 14] = NaN;
  return imageGridPng(rows, { ...grey28, title: 'PEPITA: what the network sees' });
}

function sampleRgbGrid(): Uint8Array {
  const n = 32 * 32;
  const images = Array.from({ length: 6 }, (_, k) => {
    const chw = new Float32Array(3 * n);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const i = y * 32 + x;
        const disc = Math.hypot(x - 16 - k, y - 14) < 8 + k ? 1 : 0;
        chw[i] = disc * (0.3 + 0.12 * k) + (1 - disc) * (x / 31);
        chw[n + i] = (1 - disc) * (y / 31) * 0.8 + disc * 0.2;
        chw[2 * n + i] = ((x + y + k * 3) % 8 < 4 ? 0.6 : 0.2) * (1 - disc) + disc * (1 - k / 6);
      }
    }
    return chw;
  });
  const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog'];
  const rows: GridRow[] = [
    { label: 'input x', images: images.map((pixels, k) => ({ pixels, caption: names[k]! })) },
    {
      label: 'minmax',
      images: images.map((p) => ({ pixels: p.map((v) => v * 0.1 - 3) })),
      scaling: 'minmax',
    },
    {
      label: 'x − mean',
      images: images.map((p) => ({ pixels: p.map((v) => v - 0.45) })),
      scaling: 'symmetric',
    },
  ];
  return imageGridPng(rows, { width: 32, height: 32, channels: 3, layout: 'chw', title: 'CIFAR-10 (CHW)' });
}
