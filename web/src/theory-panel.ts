/**
 * The theory panel: the teacher-student problem's main parameters on sliders, the ODE curves recomputed as a
 * slider moves (milliseconds), and the finite-D simulation of the same instance run in a worker and overlaid,
 * drawn with the theory figure's spec (error vs t, and the three angles of the paper's Fig. 2c).
 */
import embed, { type Result } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';

import { FIGURE_CONFIG } from '../../src/reports/figure-config.js';
import { theoryFigureSpec } from '../../src/reports/theory-figure.js';
import {
  averageCurve,
  mean,
  relativeGap,
  type Curve,
  type ExperimentResult,
} from '../../src/theory/curves.js';
import { timeGrid } from '../../src/theory/grid.js';
import { sampleInstance } from '../../src/theory/instance.js';
import { THEORY_RULES, odeSystemOf, resolveTheoryProblem } from '../../src/theory/problem.js';
import { solveOde } from '../../src/theory/solve.js';

import { h } from './dom.js';
import { SLIDERS, type TheoryState } from './theory-state.js';
import type { SimReply, SimRequest } from './theory-worker.js';

/** Simulations per rule, averaged into the points drawn. */
const SIM_SEEDS = 2;

function problemOf(state: TheoryState): Record<string, unknown> {
  const { eps, ...rest } = state.values;
  return { ...rest, feedback: { scale: eps } };
}

export class TheoryPanel {
  private view: Result | null = null;
  private worker: Worker | null = null;
  private request = 0;
  private sims: Curve[] = [];
  private frame = 0;
  private readonly status: HTMLElement;
  private readonly figure: HTMLElement;
  /** The last result drawn (for tests). */
  last: ExperimentResult | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly state: TheoryState,
    private readonly changed: () => void,
    private readonly startWorker: () => Worker,
  ) {
    this.status = h('p', { role: 'status', 'aria-live': 'polite', id: 'theory-status' });
    this.figure = h('figure', { id: 'theory-figure', 'aria-label': 'theory curves' });
    root.append(
      h('h2', {}, 'Teacher-student theory'),
      h(
        'p',
        { class: 'muted' },
        'A student network learns a teacher online. Lines: the ODEs of the order parameters (recomputed as a slider moves); points: the mean of finite-D simulations of the same instance.',
      ),
      this.sliders(),
      this.ruleBoxes(),
      this.status,
      this.figure,
    );
  }

  private sliders(): HTMLElement {
    const box = h('div', { class: 'sliders' });
    for (const s of SLIDERS) {
      const value = this.state.values[s.key]!;
      const input = h('input', {
        type: 'range',
        id: `theory-${s.key}`,
        min: String(s.min),
        max: String(s.max),
        step: String(s.step),
      });
      input.value = String(s.log ? Math.log10(value) : value);
      const out = h('output', { for: `theory-${s.key}` }, format(value));
      const read = () => {
        const raw = Number(input.value);
        const v = s.log ? Number((10 ** raw).toPrecision(3)) : raw;
        this.state.values[s.key] = v;
        out.textContent = format(v);
        input.setAttribute('aria-valuetext', format(v));
      };
      input.addEventListener('input', () => {
        read();
        this.scheduleOde();
      });
      input.addEventListener('change', () => {
        read();
        this.changed();
        this.simulate();
      });
      box.append(h('label', {}, h('span', {}, s.label), input, out));
    }
    return box;
  }

  private ruleBoxes(): HTMLElement {
    const box = h('fieldset', {}, h('legend', {}, 'rules'));
    for (const rule of THEORY_RULES) {
      const input = h('input', { type: 'checkbox', id: `theory-rule-${rule}` });
      input.checked = this.state.rules.includes(rule);
      input.addEventListener('change', () => {
        const chosen = THEORY_RULES.filter((r) =>
          r === rule ? input.checked : this.state.rules.includes(r),
        );
        if (!chosen.length) {
          input.checked = true;
          return;
        }
        this.state.rules = [...chosen];
        this.changed();
        this.scheduleOde();
        this.simulate();
      });
      box.append(h('label', {}, input, ` ${rule} `));
    }
    return box;
  }

  /** Draws the ODEs now and starts the simulations. */
  start(): void {
    this.drawOde();
    this.simulate();
  }

  private scheduleOde(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.drawOde());
  }

  private drawOde(): void {
    let problem;
    try {
      problem = resolveTheoryProblem(problemOf(this.state), 'theory panel');
    } catch (error) {
      this.status.textContent = (error as Error).message;
      return;
    }
    const instance = sampleInstance(problem);
    const grid = timeGrid(problem);
    const start = performance.now();
    const odes = this.state.rules.map((rule) =>
      averageCurve([solveOde(rule, problem, instance, grid)], odeSystemOf(rule), 0),
    );
    const ms = performance.now() - start;
    // simulations of other settings are dropped: they no longer match the lines
    const key = JSON.stringify(problemOf(this.state));
    const sims = this.sims.filter(
      (c) => (c as Curve & { key?: string }).key === key && this.state.rules.includes(c.rule),
    );
    for (const s of sims) {
      const ode = odes.find((o) => o.rule === s.rule);
      if (ode) s.rel_gap = relativeGap(s.eg, ode.eg);
    }
    const gaps = sims.flatMap((c) => (c.rel_gap ? [c.rel_gap] : []));
    this.last = {
      problem,
      curves: [...odes, ...sims],
      max_rel_gap: gaps.length ? Math.max(...gaps.map((g) => g.max)) : null,
      mean_rel_gap: gaps.length ? mean(gaps.map((g) => g.mean)) : null,
    };
    this.status.textContent = `ODEs of ${this.state.rules.join(', ')} in ${ms.toFixed(0)} ms${
      sims.length
        ? `; ${sims.length} simulations overlaid (mean relative gap ${(100 * (this.last.mean_rel_gap ?? 0)).toFixed(1)}%)`
        : ''
    }`;
    void this.render(theoryFigureSpec(this.last));
  }

  private async render(spec: TopLevelSpec): Promise<void> {
    this.view?.finalize();
    this.view = await embed(
      this.figure,
      { ...spec, config: { ...FIGURE_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec,
      {
        actions: false,
        renderer: 'svg',
      },
    );
  }

  /** Runs the simulations of the current settings in the worker (a new request replaces a running one). */
  private simulate(): void {
    this.worker?.terminate();
    const worker = this.startWorker();
    this.worker = worker;
    const id = ++this.request;
    const key = JSON.stringify(problemOf(this.state));
    const rules = [...this.state.rules];
    worker.onmessage = ({ data }: MessageEvent<SimReply>) => {
      if (data.id !== this.request) return;
      if (data.type === 'progress')
        this.status.textContent = `simulating D = ${this.state.values.D}: ${(100 * data.fraction).toFixed(0)}%`;
      else if (data.type === 'error') this.status.textContent = data.message;
      else {
        this.sims = rules.map((rule) => {
          const curve = averageCurve(
            data.trajectories.filter((t) => t.rule === rule),
            odeSystemOf(rule),
            0,
          );
          return Object.assign(curve, { key });
        });
        worker.terminate();
        this.drawOde();
      }
    };
    const message: SimRequest = { id, problem: problemOf(this.state), rules, seeds: SIM_SEEDS };
    worker.postMessage(message);
  }
}

function format(v: number): string {
  return Math.abs(v) >= 1 || v === 0 ? String(v) : v.toPrecision(2);
}
