/** The Fig. S2-style figure: distributions of ||h_1||^2 - ||h_1'||^2 between a rule's two passes, per epoch. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { TopdownUnavailableError } from '../core/errors.js';
import { writeAtomic } from '../core/files.js';
import { HISTOGRAM_FILE } from '../train/run-folder.js';
import type { GoodnessHistogram } from '../train/trainer.js';

import { renderFigureSvg, type Series } from './chart-svg.js';
import { svgToPng } from './png.js';

/** SVG of one density curve per recorded epoch (bin centres vs density). */
export function goodnessHistogramSvg(records: GoodnessHistogram[]): string {
  const series: Series[] = records.map((r) => {
    const width = r.edges[1]! - r.edges[0]!;
    const total = r.counts.reduce((a, b) => a + b, 0) || 1;
    return {
      label: `epoch ${r.epoch} (mean ${r.mean.toPrecision(3)}, std ${r.std.toPrecision(3)})`,
      x: r.counts.map((_, k) => (r.edges[k]! + r.edges[k + 1]!) / 2),
      y: r.counts.map((c) => c / (total * (width || 1))),
      style: 'line',
    };
  });
  const [first, second] = records[0]?.passes ?? ['first', 'second'];
  const passes = `${first} - ${second} pass`;
  return renderFigureSvg(
    [
      {
        title: `||h_1||^2 differences, ${passes} (test set)`,
        xLabel: '||h_1||^2 - ||h_1\u2032||^2',
        yLabel: 'density',
        series,
        verticalLines: [0],
        legend: 'upper right',
      },
    ],
    { width: 640, height: 400 },
  );
}

/**
 * Writes goodness-histograms.svg (and .png when the renderer is available) from the run folder's
 * goodness-histograms.jsonl; returns the files written (none when there is no record).
 */
export function writeGoodnessHistogramFigure(dir: string, onWarning?: (m: string) => void): string[] {
  const source = join(dir, HISTOGRAM_FILE);
  if (!existsSync(source)) return [];
  const records = readFileSync(source, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as GoodnessHistogram);
  if (!records.length) return [];
  const svg = goodnessHistogramSvg(records);
  const written: string[] = [];
  const put = (name: string, data: string | Uint8Array) => {
    writeAtomic(join(dir, name), data);
    written.push(name);
  };
  put('goodness-histograms.svg', svg);
  try {
    put('goodness-histograms.png', svgToPng(svg));
  } catch (error) {
    if (!(error instanceof TopdownUnavailableError)) throw error;
    onWarning?.(`goodness-histograms.png not written: ${error.message}`);
  }
  return written;
}
