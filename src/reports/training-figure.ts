/**
 * The figure every `topdown train` run gets at the end: accuracy, loss and (for rules that log it) the
 * alignment angle vs epoch, from the run folder's metrics, as `curves.svg` and `curves.png`.
 */
import { join } from 'node:path';

import { writeAtomic } from '../core/files.js';

import { readEpochs } from './aggregate.js';
import { pngAvailable, svgToPng } from './png.js';
import { trainingFigureSpec } from './training-spec.js';
import { renderSvg } from './vega.js';

export { trainingFigureSpec } from './training-spec.js';

/** Writes `curves.svg` (and `curves.png` when the renderer loads) into the run folder; returns the files. */
export async function writeTrainingFigure(dir: string, title: string): Promise<string[]> {
  const spec = trainingFigureSpec(readEpochs(dir), title);
  if (!spec) return [];
  const svg = await renderSvg(spec);
  writeAtomic(join(dir, 'curves.svg'), svg);
  const files = ['curves.svg'];
  if (pngAvailable()) {
    const width = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 800);
    writeAtomic(join(dir, 'curves.png'), svgToPng(svg, { width: 2 * width, background: 'white' }));
    files.push('curves.png');
  }
  return files;
}
