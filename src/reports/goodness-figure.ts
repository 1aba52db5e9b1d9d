/** The Fig. S2-style figure: distributions of ||h_1||^2 - ||h_1'||^2 between a rule's two passes, per epoch. */
import { join } from 'node:path';

import { TopdownUnavailableError } from '../core/errors.js';
import { readTextIfPresent, writeAtomic } from '../core/files.js';
import { HISTOGRAM_FILE } from '../train/run-folder.js';
import type { GoodnessHistogram } from '../train/trainer.js';

import { svgToPng } from './png.js';
import { goodnessHistogramSpec } from './goodness-spec.js';
import { parseHistogramLine, parseJsonLines } from './inputs.js';
import { renderSvg } from './vega.js';

export { goodnessHistogramSpec } from './goodness-spec.js';

/** SVG of the goodness-difference histograms. */
export function goodnessHistogramSvg(records: GoodnessHistogram[]): Promise<string> {
  return renderSvg(goodnessHistogramSpec(records));
}

/** The histograms a run folder recorded (goodness-histograms.jsonl; none when it has no such file). */
export function readGoodnessHistograms(dir: string): GoodnessHistogram[] {
  const source = join(dir, HISTOGRAM_FILE);
  const text = readTextIfPresent(source);
  if (text === null) return [];
  // every record checked (a line cut by a crash, the last one, is left out)
  return parseJsonLines(text, source, parseHistogramLine);
}

/** Summary figures of one histogram: its mode (bin centre of the highest bin) and the density there. */
export function histogramPeak(h: GoodnessHistogram): { mode: number; density: number } {
  let k = 0;
  for (let i = 1; i < h.counts.length; i++) if (h.counts[i]! > h.counts[k]!) k = i;
  const width = h.edges[k + 1]! - h.edges[k]!;
  const total = h.counts.reduce((a, b) => a + b, 0) || 1;
  return { mode: (h.edges[k]! + h.edges[k + 1]!) / 2, density: h.counts[k]! / (total * (width || 1)) };
}

/**
 * Writes goodness-histograms.svg (and .png when the renderer is available) from the run folder's
 * goodness-histograms.jsonl; returns the files written (none when there is no record).
 */
export async function writeGoodnessHistogramFigure(
  dir: string,
  onWarning?: (m: string) => void,
): Promise<string[]> {
  const records = readGoodnessHistograms(dir);
  if (!records.length) return [];
  const svg = await goodnessHistogramSvg(records);
  const written: string[] = [];
  const put = (name: string, data: string | Uint8Array) => {
    writeAtomic(join(dir, name), data);
    written.push(name);
  };
  put('goodness-histograms.svg', svg);
  try {
    const width = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 640);
    put('goodness-histograms.png', svgToPng(svg, { width: 2 * width, background: 'white' }));
  } catch (error) {
    if (!(error instanceof TopdownUnavailableError)) throw error;
    onWarning?.(`goodness-histograms.png not written: ${error.message}`);
  }
  return written;
}
