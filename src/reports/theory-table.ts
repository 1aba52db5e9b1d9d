/** The theory experiment as a wide CSV table: one row per time, ODE and simulation columns side by side. */
import type { ExperimentResult } from '../theory/experiment.js';

const cell = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '' : String(x));

export function theoryCsv(result: ExperimentResult): string {
  const columns: Array<{ name: string; values: (number | undefined)[] }> = [];
  const t = result.curves[0]?.t ?? [];
  columns.push({ name: 't', values: t });
  for (const c of result.curves) {
    const prefix = `${c.rule}_${c.kind}`;
    columns.push({ name: `${prefix}_eg`, values: c.eg });
    if (c.eg_std) columns.push({ name: `${prefix}_eg_std`, values: c.eg_std });
    columns.push({ name: `${prefix}_angle_teacher`, values: c.angles.teacher });
    columns.push({ name: `${prefix}_angle_degenerate`, values: c.angles.degenerate });
    columns.push({ name: `${prefix}_angle_feedback`, values: c.angles.feedback });
  }
  const lines = [columns.map((c) => c.name).join(',')];
  for (let i = 0; i < t.length; i++) lines.push(columns.map((c) => cell(c.values[i])).join(','));
  return lines.join('\n') + '\n';
}
