/**
 * Figures in the style of the paper's Fig. 2b (eps_g vs t) and 2c (angles vs t) from a theory experiment, as
 * one Vega-Lite spec: the error of every rule on top (ODE lines, simulation points), then the three angles of
 * each rule in panels that wrap three to a row, angle axes ticked every 45 degrees.
 */
import type { TopLevelSpec } from 'vega-lite';

import type { ExperimentResult } from '../theory/curves.js';
import type { TheoryRule } from '../theory/problem.js';

const RULE_LABEL: Record<TheoryRule, string> = {
  pepita: 'PEPITA',
  afa: 'AFA',
  dfa: 'DFA',
  fa: 'FA',
  bp: 'BP',
};
const ANGLES = [
  ['teacher', 'Teacher-Student'],
  ['degenerate', 'Degenerate Teacher-Student'],
  ['feedback', 'Feedback-Student'],
] as const;

const finite = (v: number) => Number.isFinite(v);

/** The figure's spec (t > 0 only: the axis is logarithmic). */
export function theoryFigureSpec(result: ExperimentResult): TopLevelSpec {
  const p = result.problem;
  const errors = result.curves.flatMap((c) =>
    c.t.flatMap((t, i) =>
      t > 0 && finite(c.eg[i]!)
        ? [
            {
              t,
              eg: c.eg[i],
              rule: RULE_LABEL[c.rule],
              kind: c.kind === 'ode' ? `${c.system.toUpperCase()} ODE` : 'simulation',
            },
          ]
        : [],
    ),
  );
  const angles = result.curves.flatMap((c) =>
    ANGLES.flatMap(([key, name]) =>
      c.t.flatMap((t, i) => {
        const v = c.angles[key][i]!;
        return t > 0 && finite(v)
          ? [{ t, angle: v, rule: RULE_LABEL[c.rule], which: name, kind: c.kind }]
          : [];
      }),
    ),
  );
  const x = { field: 't', type: 'quantitative', scale: { type: 'log' }, title: 't (steps / D)' } as const;
  const errorSpec = {
    title: 'Generalisation error',
    width: 420,
    height: 240,
    data: { values: errors },
    layer: [
      {
        transform: [{ filter: "datum.kind !== 'simulation'" }],
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x,
          y: {
            field: 'eg',
            type: 'quantitative',
            title: p.egConvention === 'mse' ? 'eps_g (mean squared error)' : 'eps_g',
          },
          color: { field: 'rule', type: 'nominal', title: 'rule' },
          strokeDash: { field: 'kind', type: 'nominal', title: 'theory' },
        },
      },
      {
        transform: [{ filter: "datum.kind === 'simulation'" }],
        mark: { type: 'point', filled: false, size: 30 },
        encoding: {
          x,
          y: { field: 'eg', type: 'quantitative' },
          color: { field: 'rule', type: 'nominal', title: 'rule' },
        },
      },
    ],
  };
  const angleY = {
    field: 'angle',
    type: 'quantitative',
    title: 'angle (degrees)',
    scale: { domain: [0, 180] },
    axis: { values: [0, 45, 90, 135, 180] },
  } as const;
  const anglesSpec = {
    data: { values: angles },
    facet: { field: 'rule', type: 'nominal', title: null, header: { labelExpr: "'Angles, ' + datum.label" } },
    columns: 3,
    spec: {
      width: 260,
      height: 180,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'ode'" }],
          mark: { type: 'line', strokeWidth: 2 },
          encoding: { x, y: angleY, color: { field: 'which', type: 'nominal', title: 'angle' } },
        },
        {
          transform: [{ filter: "datum.kind === 'sim'" }],
          mark: { type: 'point', filled: false, size: 24 },
          encoding: { x, y: angleY, color: { field: 'which', type: 'nominal', title: 'angle' } },
        },
      ],
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Teacher-student, D = ${p.D}, K = ${p.K}, M = ${p.M}, lr = ${p.lr}, erf (lines: ODE, circles: simulation)`,
    vconcat: [errorSpec, anglesSpec],
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}
