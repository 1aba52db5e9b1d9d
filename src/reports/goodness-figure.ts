/** The Fig. S2-style figure: distributions of ||h_1||^2 - ||h_1'||^2 between a rule's two passes, per epoch. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { TopdownUnavailableError } from '../core/errors.js';
import { writeAtomic } from '../core/files.js';
import { HISTOGRAM_FILE } from '../train/run-folder.js';
import type { GoodnessHistogram } from '../train/trainer.js';

import { svgToPng } from './png.js';
import { renderSvg, type TopLevelSpec } from './vega.js';

/** The spec of one density curve per recorded epoch (bin centres vs density), a rule at 0. */
export function goodnessHistogramSpec(records: GoodnessHistogram[]): TopLevelSpec {
  const values = records.flatMap((r) => {
    const width = r.edges[1]! - r.edges[0]!;
    const total = r.counts.reduce((a, b) => a + b, 0) || 1;
    const label = `epoch ${r.epoch} (mean ${r.mean.toPrecision(3)}, std ${r.std.toPrecision(3)})`;
    return r.counts.map((c, k) => ({
      x: (r.edges[k]! + r.edges[k + 1]!) / 2,
      density: c / (total * (width || 1)),
      epoch: label,
    }));
  });
  const [first, second] = records[0]?.passes ?? ['first', 'second'];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `||h_1||^2 differences, ${first} - ${second} pass (test set)`,
    width: 520,
    height: 300,
    layer: [
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 1.8, interpolate: 'step' },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: '||h_1||^2 - ||h_1\u2032||^2' },
          y: { field: 'density', type: 'quantitative', title: 'density' },
          color: { field: 'epoch', type: 'nominal', title: null },
        },
      },
      {
        data: { values: [{ x: 0 }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** SVG of the goodness-difference histograms. */
export function goodnessHistogramSvg(records: GoodnessHistogram[]): Promise<string> {
  return renderSvg(goodnessHistogramSpec(records));
}

/**
 * Writes goodness-histograms.svg (and .png when the renderer is available) from the run folder's
 * goodness-histograms.jsonl; returns the files written (none when there is no record).
 */
export async function writeGoodnessHistogramFigure(
  dir: string,
  onWarning?: (m: string) => void,
): Promise<string[]> {
  const source = join(dir, HISTOGRAM_FILE);
  if (!existsSync(source)) return [];
  const records = readFileSync(source, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as GoodnessHistogram);
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
