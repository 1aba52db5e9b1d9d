/** Figures in the style of the paper's Fig. 2b (eps_g vs t) and 2c (angles vs t) from a theory experiment. */
import type { Curve, ExperimentResult } from '../theory/experiment.js';
import type { TheoryRule } from '../theory/problem.js';

import { DEFAULT_COLORS, renderFigureSvg, type MarkerShape, type Panel, type Series } from './chart-svg.js';

const RULE_LABEL: Record<TheoryRule, string> = {
  pepita: 'PEPITA',
  afa: 'AFA',
  dfa: 'DFA',
  fa: 'FA',
  bp: 'BP',
};
const RULE_MARKER: Record<TheoryRule, MarkerShape> = {
  pepita: 'circle',
  afa: 'cross',
  dfa: 'square',
  fa: 'diamond',
  bp: 'triangle',
};
const ANGLES = [
  ['teacher', 'Teacher-Student'],
  ['degenerate', 'Degenerate Teacher-Student'],
  ['feedback', 'Feedback-Student'],
] as const;

function rulesOf(result: ExperimentResult): TheoryRule[] {
  return [...new Set(result.curves.map((c) => c.rule))];
}

function curveSeries(curve: Curve, y: number[], label: string, color: string, marker: MarkerShape): Series {
  return curve.kind === 'ode'
    ? { label, x: curve.t, y, style: 'line', color }
    : { label, x: curve.t, y, style: 'markers', marker, color, openMarkers: curve.rule !== 'afa' };
}

/** The eps_g panel: ODE lines and simulation markers for every rule. */
function errorPanel(result: ExperimentResult): Panel {
  const rules = rulesOf(result);
  const series = result.curves.map((c) => {
    const color = DEFAULT_COLORS[rules.indexOf(c.rule) % DEFAULT_COLORS.length]!;
    const label =
      c.kind === 'ode' ? `Theory (${c.system.toUpperCase()} ODE)` : `${RULE_LABEL[c.rule]} (simulation)`;
    return curveSeries(c, c.eg, label, color, RULE_MARKER[c.rule]);
  });
  // Two rules sharing one ODE system draw the same line twice; keep the first.
  const seen = new Set<string>();
  const unique = series.filter((s) => {
    if (s.style !== 'line') return true;
    const key = `${s.label}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return {
    title: 'Generalisation error',
    xLabel: 't (steps / D)',
    yLabel: result.problem.egConvention === 'mse' ? 'eps_g (mean squared error)' : 'eps_g',
    xScale: 'log',
    series: unique,
    legend: 'upper right',
  };
}

/** The angles panel of one rule: ODE lines and simulation markers for the three angles. */
function anglePanel(result: ExperimentResult, rule: TheoryRule): Panel {
  const series: Series[] = [];
  for (const curve of result.curves.filter((c) => c.rule === rule)) {
    ANGLES.forEach(([key, name], i) => {
      const values = curve.angles[key];
      if (!values.some(Number.isFinite)) return;
      const label = `${name}${curve.kind === 'ode' ? ' (ODE)' : ' (sim.)'}`;
      series.push(
        curveSeries(curve, values, label, DEFAULT_COLORS[i]!, curve.kind === 'sim' ? 'circle' : 'circle'),
      );
    });
  }
  return {
    title: `Angles, ${RULE_LABEL[rule]}`,
    xLabel: 't (steps / D)',
    yLabel: 'angle (degrees)',
    xScale: 'log',
    yRange: [0, 180],
    series,
    legend: 'lower left',
  };
}

/** SVG of the eps_g panel and one angles panel per rule. */
export function theoryFigureSvg(result: ExperimentResult): string {
  const p = result.problem;
  const panels = [errorPanel(result), ...rulesOf(result).map((rule) => anglePanel(result, rule))];
  return renderFigureSvg(panels, {
    title: `Teacher-student, D = ${p.D}, K = ${p.K}, M = ${p.M}, lr = ${p.lr}, erf`,
  });
}
