/** The image strip: x, what the rule feeds its passes (x - F e, F e, FF's positive and negative inputs) for a few test samples. */
import type { ImageRow } from './protocol.js';

import { h } from './dom.js';

/** Pixels of one image as RGBA: [0, 1] values as they are, signed ones centred on grey. */
function rgba(row: ImageRow, i: number, shape: readonly [number, number, number], scale: number): ImageData {
  const [channels, height, width] = shape;
  const plane = height * width;
  const features = channels * plane;
  const img = new ImageData(width, height);
  const at = i * features;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = row.pixels[at + (channels === 3 ? c * plane : 0) + p]!;
      const u = row.signed ? 0.5 + (0.5 * v) / scale : v;
      img.data[4 * p + c] = Math.round(255 * Math.min(1, Math.max(0, u)));
    }
    img.data[4 * p + 3] = 255;
  }
  return img;
}

function maxAbs(values: Float32Array, from = 0, to = values.length): number {
  let m = 0;
  for (let j = from; j < to; j++) m = Math.max(m, Math.abs(values[j]!));
  return m || 1;
}

/** Draws the rows of one run into `root`. */
export function drawStrip(
  root: HTMLElement,
  title: string,
  rows: readonly ImageRow[],
  shape: readonly [number, number, number],
): void {
  const features = shape[0] * shape[1] * shape[2];
  const block = h('div', {}, h('h3', {}, title));
  for (const row of rows) {
    const line = h('div', { class: 'row' }, h('span', {}, row.label));
    const shared = maxAbs(row.pixels);
    for (let i = 0; i < row.count; i++) {
      const canvas = h('canvas', {
        width: String(shape[2]),
        height: String(shape[1]),
        role: 'img',
        'aria-label': `${row.label}: ${row.captions[i] ?? ''}`,
      });
      const scale = row.perImage ? maxAbs(row.pixels, i * features, (i + 1) * features) : shared;
      canvas.getContext('2d')?.putImageData(rgba(row, i, shape, scale), 0, 0);
      canvas.title = row.captions[i] ?? '';
      line.append(canvas);
    }
    block.append(line);
  }
  root.append(block);
}
