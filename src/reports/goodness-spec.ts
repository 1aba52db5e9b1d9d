/** The spec of the goodness-difference histograms (Fig. S2 style), for the headless figures and the browser app. */
import type { TopLevelSpec } from 'vega-lite';

import type { GoodnessHistogram } from '../train/trainer.js';

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
