/**
 * The theory panel's settings: one table of sliders (key, bounds, step, scale) that both draws the sliders and
 * holds the values a URL brings to them, so a link cannot ask for more than a slider can (a `theory-D=1e9`
 * would otherwise allocate gigabytes on the page's thread). No DOM here: the URL parsing runs in Node too.
 */
import { decimal } from '../../src/core/field-values.js';
import { THEORY_RULES, type TheoryRule } from '../../src/theory/problem.js';

/** A slider: its problem key, bounds, and whether it moves on a log scale (then the bounds are log10). */
export interface Slider {
  key: string;
  label: string;
  min: number;
  max: number;
  step: number;
  log?: boolean;
  integer?: boolean;
}

export const SLIDERS: readonly Slider[] = [
  { key: 'D', label: 'input size D', min: 50, max: 1000, step: 50, integer: true },
  { key: 'K', label: 'student units K', min: 1, max: 6, step: 1, integer: true },
  { key: 'M', label: 'teacher units M', min: 1, max: 6, step: 1, integer: true },
  { key: 'lr', label: 'learning rate eta', min: -3, max: 0, step: 0.05, log: true },
  { key: 'eps', label: 'feedback scale eps', min: -4, max: -1, step: 0.05, log: true },
  { key: 'tMax', label: 'time t_max', min: 100, max: 4000, step: 100, integer: true },
  { key: 'seed', label: 'seed', min: 0, max: 20, step: 1, integer: true },
];

/** What the panel opens with: a problem whose simulations take about a second per rule. */
export const THEORY_DEFAULTS: Readonly<Record<string, number>> = {
  D: 200,
  K: 2,
  M: 2,
  lr: 0.05,
  eps: 0.001,
  tMax: 1000,
  seed: 0,
};

export const DEFAULT_THEORY_RULES: readonly TheoryRule[] = ['pepita', 'dfa', 'bp'];

export interface TheoryState {
  values: Record<string, number>;
  rules: TheoryRule[];
}

/** The lowest and highest value of a slider, in the problem's units. */
export function sliderBounds(s: Slider): { low: number; high: number } {
  return s.log ? { low: 10 ** s.min, high: 10 ** s.max } : { low: s.min, high: s.max };
}

/**
 * `n` held to a slider: within its bounds, and on its steps for a linear slider (a log slider's default, such
 * as a learning rate of 0.05, lies between its steps, so only its bounds are kept).
 */
export function holdToSlider(s: Slider, n: number): number {
  const { low, high } = sliderBounds(s);
  const within = Math.min(high, Math.max(low, n));
  if (s.log) return within;
  const stepped = s.min + Math.round((within - s.min) / s.step) * s.step;
  const held = Math.min(s.max, Math.max(s.min, Number(stepped.toFixed(10))));
  return s.integer ? Math.round(held) : held;
}

/** A URL's text shortened for a message (a link may carry anything). */
export function shortText(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * The panel's state from `theory-*` query parameters, every value held to its slider; `notes` says, one line
 * each, what the link asked for that was changed or ignored. Never throws.
 */
export function parseTheoryQuery(query: string | URLSearchParams): { state: TheoryState; notes: string[] } {
  const params = typeof query === 'string' ? new URLSearchParams(query) : query;
  const notes: string[] = [];
  const values: Record<string, number> = { ...THEORY_DEFAULTS };
  for (const s of SLIDERS) {
    const raw = params.get(`theory-${s.key}`);
    if (raw === null) continue;
    const n = decimal(raw);
    const { low, high } = sliderBounds(s);
    if (Number.isNaN(n)) {
      notes.push(`theory-${s.key}="${shortText(raw)}" is not a number: ${values[s.key]} used`);
      continue;
    }
    const held = holdToSlider(s, n);
    if (held !== n) {
      const why = n < low || n > high ? `outside the slider (${low} to ${high})` : 'between the steps';
      notes.push(`theory-${s.key}=${shortText(raw)} is ${why}: ${held} used`);
    }
    values[s.key] = held;
  }
  const asked = (params.get('theory-rules') ?? DEFAULT_THEORY_RULES.join(',')).split(',');
  const rules = [
    ...new Set(asked.filter((r): r is TheoryRule => (THEORY_RULES as readonly string[]).includes(r))),
  ];
  if (rules.length < asked.filter(Boolean).length)
    notes.push(`theory-rules: only ${THEORY_RULES.join(', ')} are known, each once`);
  return { state: { values, rules: rules.length ? rules : [...DEFAULT_THEORY_RULES] }, notes };
}

/** The panel's state from `theory-*` query parameters (see {@link parseTheoryQuery}). */
export function theoryFromQuery(query: string): TheoryState {
  return parseTheoryQuery(query).state;
}

/** The `theory-*` parameters of a state (only what differs from the defaults). */
export function theoryQuery(state: TheoryState, params: URLSearchParams): void {
  for (const s of SLIDERS)
    if (state.values[s.key] !== THEORY_DEFAULTS[s.key])
      params.set(`theory-${s.key}`, String(state.values[s.key]));
  if (state.rules.join(',') !== DEFAULT_THEORY_RULES.join(','))
    params.set('theory-rules', state.rules.join(','));
}
