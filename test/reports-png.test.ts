import { inflateSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { pngAvailable, svgToPng } from '../src/reports/index.js';

import { unfilterScanlines } from './png-helpers.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface Image {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel. */
  rgba: Uint8Array;
}

/** Decodes an 8-bit, non-interlaced PNG (grey, RGB, grey+alpha or RGBA) into RGBA pixels. */
function decodePng(png: Uint8Array): Image {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Uint8Array[] = [];
  while (pos < png.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    const data = png.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      expect(data[8]).toBe(8); // bit depth
      colorType = data[9]!;
      expect(data[12]).toBe(0); // no interlace
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + length;
  }
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (channels === undefined) throw new Error(`unsupported colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const out = unfilterScanlines(raw, width, height, channels);
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = out.subarray(p * channels, (p + 1) * channels);
    const grey = channels <= 2;
    rgba[p * 4] = s[0]!;
    rgba[p * 4 + 1] = grey ? s[0]! : s[1]!;
    rgba[p * 4 + 2] = grey ? s[0]! : s[2]!;
    rgba[p * 4 + 3] = channels === 2 ? s[1]! : channels === 4 ? s[3]! : 255;
  }
  return { width, height, rgba };
}

/** Pixels in the rectangle darker than mid-grey (on an opaque image). */
function darkPixels(img: Image, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * img.width + x) * 4;
      if (img.rgba[i + 3]! > 128 && img.rgba[i]! + img.rgba[i + 1]! + img.rgba[i + 2]! < 3 * 128) n++;
    }
  }
  return n;
}

/** A small chart-like SVG: a frame, a falling line and, optionally, a title centred at the top. */
function figure(o: { width?: number; height?: number; title?: string; background?: string } = {}): string {
  const { width = 400, height = 300, title, background = 'white' } = o;
  const top = 40;
  const bg = background === 'none' ? '' : `<rect width="${width}" height="${height}" fill="${background}"/>`;
  const text = title
    ? `<text x="${width / 2}" y="20" text-anchor="middle" font-family="DejaVu Sans" font-size="16">${title}</text>`
    : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${bg}${text}` +
    `<rect x="40" y="${top}" width="${width - 60}" height="${height - top - 30}" fill="none" stroke="black"/>` +
    `<polyline points="40,${top} ${width / 2},${height - 80} ${width - 20},${height - 30}" fill="none" stroke="#0072B2" stroke-width="2"/>` +
    '</svg>'
  );
}

describe.runIf(pngAvailable())('svgToPng', () => {
  it('writes a PNG of the requested width with the aspect ratio kept', () => {
    const svg = figure({ width: 800, height: 300 });
    const png = svgToPng(svg, { width: 1200 });
    expect(Array.from(png.subarray(0, 8))).toEqual(PNG_SIGNATURE);
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    expect(String.fromCharCode(...png.subarray(12, 16))).toBe('IHDR');
    expect(view.getUint32(16)).toBe(1200);
    expect(view.getUint32(20)).toBe(450);
    const natural = decodePng(svgToPng(svg));
    expect([natural.width, natural.height]).toEqual([800, 300]);
  });

  it('renders text with the shipped font (no system fonts needed)', () => {
    const withTitle = decodePng(svgToPng(figure({ title: 'WWWWWWWW' })));
    const without = decodePng(svgToPng(figure()));
    // The title band: centred, above the frame.
    expect(darkPixels(without, 100, 0, 300, 24)).toBe(0);
    expect(darkPixels(withTitle, 100, 0, 300, 24)).toBeGreaterThan(300);

    // A bare text element in another family still falls back to DejaVu Sans.
    const bare = (text: string): string =>
      `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="white"/>` +
      `<text x="4" y="28" font-family="NoSuchFont" font-size="24">${text}</text></svg>`;
    const hello = decodePng(svgToPng(bare('Hello')));
    expect(darkPixels(hello, 0, 0, 120, 40)).toBeGreaterThan(60);
    expect(darkPixels(decodePng(svgToPng(bare(''))), 0, 0, 120, 40)).toBe(0);
  });

  it('is deterministic and honours the background', () => {
    const svg = figure({ width: 300, height: 200, background: 'none' });
    expect(Buffer.from(svgToPng(svg)).equals(Buffer.from(svgToPng(svg)))).toBe(true);
    const transparent = decodePng(svgToPng(svg));
    expect(transparent.rgba[3]).toBe(0);
    const white = decodePng(svgToPng(svg, { background: 'white' }));
    expect(Array.from(white.rgba.subarray(0, 4))).toEqual([255, 255, 255, 255]);
  });

  it('throws usage errors for bad widths and unparsable SVG', () => {
    const svg = figure();
    expect(() => svgToPng(svg, { width: 0 })).toThrow(TopdownUsageError);
    expect(() => svgToPng(svg, { width: 10.5 })).toThrow(TopdownUsageError);
    expect(() => svgToPng(svg, { width: 100_000 })).toThrow(TopdownUsageError);
    expect(() => svgToPng('<svg')).toThrow(TopdownUsageError);
    expect(() => svgToPng('')).toThrow(TopdownUsageError);
  });
});

describe('pngAvailable', () => {
  it('finds the native renderer on the supported platforms', () => {
    // resvg ships prebuilt binaries for Linux, macOS and Windows on x64 and arm64.
    if (['linux', 'darwin', 'win32'].includes(process.platform) && ['x64', 'arm64'].includes(process.arch)) {
      expect(pngAvailable()).toBe(true);
    }
  });
});
