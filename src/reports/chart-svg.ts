/**
 * A small, dependency-free chart renderer: one or more panels side by side, each with linear or log axes,
 * drawn as line and/or marker series, written as a self-contained SVG string.
 *
 * The output is deterministic (the same input gives the same bytes), numbers are written with two decimals
 * at most, and all text is XML-escaped. Text is laid out with the advance widths of DejaVu Sans, the font
 * that {@link svgToPng} ships, so labels fit in the PNG exactly and closely in browsers.
 * @packageDocumentation
 */
import { TopdownUsageError } from '../core/errors.js';

/** The font family the figures are written in (and that the PNG renderer ships). */
export const FIGURE_FONT_FAMILY = 'DejaVu Sans';

/**
 * The default colour cycle: Okabe and Ito's palette, distinguishable under the common colour-vision
 * deficiencies (blue, vermillion, bluish green, orange, reddish purple, sky blue, black, yellow).
 */
export const DEFAULT_COLORS: readonly string[] = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#E69F00',
  '#CC79A7',
  '#56B4E9',
  '#000000',
  '#F0E442',
];

/** How a series is drawn. */
export type SeriesStyle = 'line' | 'markers' | 'line+markers';
/** The shape of a series' markers. */
export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross' | 'plus';
/** An axis' scale. */
export type AxisScale = 'linear' | 'log';
/** A line pattern: `true` means `'dashed'`, `false` or absent a solid line. */
export type DashPattern = boolean | 'dashed' | 'dotted' | 'dashdot';
/**
 * Where a panel's legend goes: a corner or side inside the axes, `'best'` (the inside position covering the
 * fewest data points, the default) or `'outside right'` (beside the axes, which then get narrower).
 */
export type LegendPosition =
  | 'best'
  | 'upper right'
  | 'upper left'
  | 'lower left'
  | 'lower right'
  | 'upper center'
  | 'lower center'
  | 'center left'
  | 'center right'
  | 'outside right';

/** The markers cycled through by series that draw markers without naming one. */
export const DEFAULT_MARKERS: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'cross'];

/** One data series. Points with a non-finite coordinate (or a non-positive one on a log axis) are skipped, and a line is broken there. */
export interface Series {
  /** The legend entry; series without a label (or with an empty one) are left out of the legend. */
  label?: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Default `'line'`. */
  style?: SeriesStyle;
  /** Default: the next shape of {@link DEFAULT_MARKERS} among the panel's marker series. */
  marker?: MarkerShape;
  /** Any SVG colour; default: the series' index in the panel taken through {@link DEFAULT_COLORS}. */
  color?: string;
  /** Default solid. */
  dash?: DashPattern;
  /** Line width in pixels, default 1.8. */
  lineWidth?: number;
  /** Marker size (its width) in pixels, default 6. */
  markerSize?: number;
  /** Open markers (white inside, coloured outline) instead of filled ones. */
  openMarkers?: boolean;
}

/** A reference line across the axes (a vertical line at `x = at`, or a horizontal one at `y = at`). */
export interface ReferenceLine {
  at: number;
  /** Written small beside the line, near the top (vertical) or right end (horizontal). */
  label?: string;
  /** Default `'#777777'`. */
  color?: string;
  /** Default `true` (dashed). */
  dash?: DashPattern;
}

/** An axis range; `null` at either end means "fit the data" there. */
export type AxisRange = readonly [number | null, number | null];

/** One set of axes with its series. */
export interface Panel {
  /** Written above the axes. */
  title?: string;
  xLabel: string;
  yLabel: string;
  /** Default `'linear'`. */
  xScale?: AxisScale;
  /** Default `'linear'`. */
  yScale?: AxisScale;
  series: readonly Series[];
  /** Fixed ends of the x axis (default: the data's extent with a 4% margin on each side). */
  xRange?: AxisRange;
  /** Fixed ends of the y axis (default: the data's extent with a 4% margin on each side). */
  yRange?: AxisRange;
  /** Explicit major tick positions on the x axis (labelled automatically) instead of the computed ones. */
  xTicks?: readonly number[];
  /** Explicit major tick positions on the y axis (labelled automatically) instead of the computed ones. */
  yTicks?: readonly number[];
  /** Vertical reference lines: x positions or full descriptions. They count towards the automatic x range. */
  verticalLines?: readonly (number | ReferenceLine)[];
  /** Horizontal reference lines: y positions or full descriptions. They count towards the automatic y range. */
  horizontalLines?: readonly (number | ReferenceLine)[];
  /** `false` hides the legend; `true` or absent means `'best'`. Shown only when some series has a label. */
  legend?: boolean | LegendPosition;
  /** Light grid lines at the major ticks (default off). */
  grid?: boolean;
}

/** Options for the whole figure. */
export interface FigureOptions {
  /** Width in pixels (SVG user units); default 460 per panel. */
  width?: number;
  /** Height in pixels; default 340. */
  height?: number;
  /** Written centred above all panels, in bold. */
  title?: string;
  /** Tick label size in pixels; the other text scales with it. Default 12. */
  fontSize?: number;
  /** Background fill; default `'white'`, `'none'` for transparent. */
  background?: string;
  /** Prefix of the clip-path ids, for several figures inlined in one HTML page (default `'td'`). */
  idPrefix?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Text

/** DejaVu Sans advance widths in thousandths of an em, for U+0020 to U+007E. */
// prettier-ignore
const ASCII_WIDTHS = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636,
  636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
  575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685,
  611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579,
  278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
];

/** DejaVu Sans advance widths of some non-ASCII characters common in figure labels. */
const OTHER_WIDTHS: ReadonlyMap<string, number> = new Map([
  ['⁻', 528],
  ['−', 838],
  ['°', 500],
  ['×', 838],
  ['·', 318],
  ['…', 1000],
  ['ω', 837],
  ['Δ', 684],
  ['Θ', 787],
]);

const SUPERSCRIPTS: Readonly<Record<string, string>> = {
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
  '-': '⁻',
};

/**
 * The width of `text` set in DejaVu Sans at `fontSize` pixels (bold text is taken as 8% wider); characters
 * outside the table count as 0.62 em, or 1 em for wide East Asian ones.
 */
export function estimateTextWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x20 && cp < 0x7f) units += ASCII_WIDTHS[cp - 0x20] ?? 620;
    else if (cp >= 0x2070 && cp <= 0x2079) units += 401;
    else if (cp === 0xb9 || cp === 0xb2 || cp === 0xb3) units += 401;
    else units += OTHER_WIDTHS.get(ch) ?? (cp >= 0x2e80 ? 1000 : 620);
  }
  return (units / 1000) * fontSize * (bold ? 1.08 : 1);
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/**
 * Escapes text for SVG/XML content and attribute values, dropping the characters XML 1.0 cannot hold
 * (control characters other than tab and newlines, lone surrogates, U+FFFE and U+FFFF).
 */
export function escapeXml(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const allowed =
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xd ||
      (cp >= 0x20 && cp <= 0xd7ff) ||
      (cp >= 0xe000 && cp <= 0xfffd) ||
      cp >= 0x10000;
    if (!allowed) continue;
    out += XML_ENTITIES[ch] ?? ch;
  }
  return out;
}

/** A coordinate with at most two decimals (never `-0`). */
function num(v: number): string {
  const clamped = Math.min(1e6, Math.max(-1e6, v));
  const r = Math.round(clamped * 100) / 100;
  return r === 0 ? '0' : String(r);
}

/** Replaces ASCII hyphen-minus signs by the typographic minus. */
function typographicMinus(s: string): string {
  return s.replace(/-/g, '−');
}

// ---------------------------------------------------------------------------------------------------------
// Ticks

/** A tick position and its label (empty for unlabelled ticks). */
export interface Tick {
  value: number;
  label: string;
}

/** The major (labelled) and minor ticks of an axis. */
export interface AxisTicks {
  major: Tick[];
  minor: number[];
}

const NICE_STEPS = [1, 2, 2.5, 5];

/** How many multiples of `step` lie in `[min, max]`. */
function tickCount(min: number, max: number, step: number): number {
  return Math.floor(max / step + 1e-9) - Math.ceil(min / step - 1e-9) + 1;
}

/**
 * The nice step (1, 2, 2.5 or 5 times a power of ten) whose tick count is closest to `target + 1`, preferring
 * steps without the extra decimal of 2.5, then the larger step.
 */
function niceStep(min: number, max: number, target: number): number {
  const k0 = Math.floor(Math.log10((max - min) / target));
  let best = 10 ** (k0 + 1);
  let bestScore = Infinity;
  for (let k = k0 - 1; k <= k0 + 1; k++) {
    for (const m of NICE_STEPS) {
      const step = m * 10 ** k;
      const count = tickCount(min, max, step);
      if (count < 2) continue;
      const score = Math.abs(count - (target + 1)) + (m === 2.5 ? 0.25 : 0);
      if (score < bestScore || (score === bestScore && step > best)) {
        best = step;
        bestScore = score;
      }
    }
  }
  return best;
}

/** Labels for evenly spaced linear ticks: fixed decimals (as few as tell them apart), or exponents for large or tiny values. */
function formatLinearLabels(values: readonly number[], step: number): string[] {
  const largest = Math.max(...values.map((v) => Math.abs(v)));
  const exponential = largest >= 1e6 || (largest > 0 && largest < 1e-3);
  for (let digits = 0; digits <= 12; digits++) {
    const labels = values.map((v) =>
      exponential ? v.toExponential(digits).replace('e+', 'e') : v.toFixed(digits),
    );
    if (labels.every((l, i) => Math.abs(Number(l) - (values[i] ?? 0)) <= step * 1e-6)) {
      return labels.map((l) =>
        typographicMinus(Number(l) === 0 ? (exponential ? '0' : (0).toFixed(digits)) : l),
      );
    }
  }
  return values.map((v) => typographicMinus(String(v)));
}

/**
 * "Nice" linear ticks (steps of 1, 2, 2.5 or 5 times a power of ten) inside `[min, max]`, about `target` of
 * them, labelled with a common number of decimals.
 */
export function linearTicks(min: number, max: number, target = 5): AxisTicks {
  if (!(max > min)) return { major: [], minor: [] };
  const step = niceStep(min, max, Math.max(1, target));
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(Number((i * step).toPrecision(12)));
  const labels = formatLinearLabels(values, step);
  return { major: values.map((value, i) => ({ value, label: labels[i] ?? '' })), minor: [] };
}

function superscript(n: number): string {
  return [...String(n)].map((c) => SUPERSCRIPTS[c] ?? c).join('');
}

function plainLabel(v: number): string {
  return typographicMinus(String(Number(v.toPrecision(6))));
}

/**
 * Log-axis ticks inside `[min, max]` (both positive): decades labelled 10ⁿ with minor ticks at 2 to 9 times
 * each decade. When more than `maxLabels` decades fit, only every 2nd, 3rd, 5th ... decade is labelled and
 * the others become minor ticks; when fewer than two decades fit, ticks at 1, 2 and 5 (or every integer
 * multiple) of a decade are labelled with plain numbers, or as a last resort nice linear ticks.
 */
export function logTicks(min: number, max: number, maxLabels = 8): AxisTicks {
  if (!(min > 0) || !(max > min)) return { major: [], minor: [] };
  const lo = Math.log10(min);
  const hi = Math.log10(max);
  const inRange = (v: number): boolean => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  const kFirst = Math.ceil(lo - 1e-9);
  const kLast = Math.floor(hi + 1e-9);
  const decades = kLast - kFirst + 1;
  if (decades >= 2) {
    let every = 1;
    while (Math.ceil(decades / every) > Math.max(2, maxLabels)) every++;
    const major: Tick[] = [];
    const minor: number[] = [];
    for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
      const decade = 10 ** k;
      if (k >= kFirst && k <= kLast) {
        if (k % every === 0) major.push({ value: decade, label: `10${superscript(k)}` });
        else minor.push(decade);
      }
      if (every === 1) {
        for (let m = 2; m <= 9; m++) {
          const v = Number((m * decade).toPrecision(12));
          if (inRange(v)) minor.push(v);
        }
      }
    }
    return { major, minor };
  }
  // Less than two decades: label multiples of the decades.
  const candidates: number[] = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (let m = 1; m <= 9; m++) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (inRange(v)) candidates.push(v);
    }
  }
  const leading = (v: number): number => Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
  let labelled = candidates.filter((v) => [1, 2, 5].includes(leading(v)));
  if (labelled.length < 2 || candidates.length <= Math.min(5, maxLabels)) labelled = candidates;
  if (labelled.length >= 2 && labelled.length <= Math.max(2, maxLabels)) {
    return {
      major: labelled.map((value) => ({ value, label: plainLabel(value) })),
      minor: candidates.filter((v) => !labelled.includes(v)),
    };
  }
  if (labelled.length > maxLabels) {
    const ones = candidates.filter((v) => leading(v) === 1);
    return {
      major: ones.map((value) => ({ value, label: plainLabel(value) })),
      minor: candidates.filter((v) => leading(v) !== 1),
    };
  }
  return { major: linearTicks(min, max, 3).major, minor: candidates };
}

// ---------------------------------------------------------------------------------------------------------
// Validation and ranges

const STYLES: readonly SeriesStyle[] = ['line', 'markers', 'line+markers'];
const MARKERS: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'cross', 'plus'];
const SCALES: readonly AxisScale[] = ['linear', 'log'];
const LEGEND_POSITIONS: readonly LegendPosition[] = [
  'best',
  'upper right',
  'upper left',
  'lower left',
  'lower right',
  'upper center',
  'lower center',
  'center left',
  'center right',
  'outside right',
];

function usage(message: string): never {
  throw new TopdownUsageError(message);
}

function checkPositive(value: number | undefined, what: string): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0))
    usage(`${what} must be a positive number, got ${value}`);
}

function checkRange(range: AxisRange | undefined, scale: AxisScale, what: string): void {
  if (range === undefined) return;
  if (!Array.isArray(range) || range.length !== 2) usage(`${what} must be a pair [min, max]`);
  const [a, b] = range;
  for (const v of [a, b]) {
    if (v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v))
      usage(`${what} ends must be finite numbers or null, got ${String(v)}`);
    if (scale === 'log' && v <= 0) usage(`${what} ends must be positive on a log axis, got ${v}`);
  }
  if (a !== null && b !== null && !(a < b)) usage(`${what} must have min < max, got [${a}, ${b}]`);
}

function referenceLines(
  lines: readonly (number | ReferenceLine)[] | undefined,
  what: string,
): ReferenceLine[] {
  if (lines === undefined) return [];
  if (!Array.isArray(lines)) usage(`${what} must be an array`);
  return lines.map((l) => {
    const line = typeof l === 'number' ? { at: l } : l;
    if (typeof line?.at !== 'number' || !Number.isFinite(line.at))
      usage(`${what} positions must be finite numbers`);
    return line;
  });
}

function validatePanel(panel: Panel, p: number): void {
  const where = `panel ${p + 1}`;
  if (typeof panel !== 'object' || panel === null) usage(`${where} is not an object`);
  for (const key of ['xScale', 'yScale'] as const) {
    const s = panel[key];
    if (s !== undefined && !SCALES.includes(s))
      usage(`${where}: ${key} must be 'linear' or 'log', got '${String(s)}'`);
  }
  if (!Array.isArray(panel.series)) usage(`${where}: series must be an array`);
  const legend = panel.legend;
  if (legend !== undefined && typeof legend !== 'boolean' && !LEGEND_POSITIONS.includes(legend)) {
    usage(
      `${where}: unknown legend position '${String(legend)}' (expected one of ${LEGEND_POSITIONS.join(', ')})`,
    );
  }
  for (const key of ['xTicks', 'yTicks'] as const) {
    const ticks = panel[key];
    if (
      ticks !== undefined &&
      (!Array.isArray(ticks) || ticks.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
    ) {
      usage(`${where}: ${key} must be an array of finite numbers`);
    }
  }
  checkRange(panel.xRange, panel.xScale ?? 'linear', `${where}: xRange`);
  checkRange(panel.yRange, panel.yScale ?? 'linear', `${where}: yRange`);
  panel.series.forEach((s, i) => {
    const name = `${where}, series ${i + 1}${s?.label ? ` ('${s.label}')` : ''}`;
    if (typeof s !== 'object' || s === null) usage(`${name} is not an object`);
    if (typeof s.x?.length !== 'number' || typeof s.y?.length !== 'number')
      usage(`${name}: x and y must be arrays of numbers`);
    if (s.x.length !== s.y.length) usage(`${name}: x has ${s.x.length} values but y has ${s.y.length}`);
    if (s.style !== undefined && !STYLES.includes(s.style))
      usage(`${name}: unknown style '${String(s.style)}'`);
    if (s.marker !== undefined && !MARKERS.includes(s.marker))
      usage(`${name}: unknown marker '${String(s.marker)}'`);
    checkPositive(s.lineWidth, `${name}: lineWidth`);
    checkPositive(s.markerSize, `${name}: markerSize`);
  });
}

/** Whether `v` can be placed on an axis of this scale. */
function usable(v: number, scale: AxisScale): boolean {
  return Number.isFinite(v) && (scale === 'linear' || v > 0);
}

const toAxis = (v: number, scale: AxisScale): number => (scale === 'log' ? Math.log10(v) : v);
const fromAxis = (t: number, scale: AxisScale): number => (scale === 'log' ? 10 ** t : t);

/** The axis' ends: fixed ends where given, else the data's extent (in the scale's space) widened by 4%. */
function axisExtent(
  values: readonly number[],
  scale: AxisScale,
  fixed: AxisRange | undefined,
): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!usable(v, scale)) continue;
    const t = toAxis(v, scale);
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const fixedLo = fixed?.[0] ?? null;
  const fixedHi = fixed?.[1] ?? null;
  if (fixedLo !== null && fixedHi !== null) return [fixedLo, fixedHi];
  if (fixedLo !== null) lo = Math.min(lo, toAxis(fixedLo, scale));
  if (fixedHi !== null) hi = Math.max(hi, toAxis(fixedHi, scale));
  if (!(hi >= lo)) [lo, hi] = scale === 'log' ? [0, 1] : [0, 1];
  if (hi === lo) {
    const pad = scale === 'log' ? 0.5 : lo === 0 ? 0.5 : Math.abs(lo) * 0.05;
    lo -= pad;
    hi += pad;
  } else {
    const pad = (hi - lo) * 0.04;
    lo -= pad;
    hi += pad;
  }
  const min = fixedLo ?? fromAxis(lo, scale);
  const max = fixedHi ?? fromAxis(hi, scale);
  if (!(max > min))
    return fixedLo !== null
      ? [min, fromAxis(toAxis(min, scale) + 1, scale)]
      : [fromAxis(toAxis(max, scale) - 1, scale), max];
  return [min, max];
}

// ---------------------------------------------------------------------------------------------------------
// Layout

interface Fonts {
  tick: number;
  label: number;
  title: number;
  figureTitle: number;
  legend: number;
  note: number;
}

/** A mapped axis: the data range, the pixel range and the ticks. */
interface Axis {
  scale: AxisScale;
  min: number;
  max: number;
  /** Pixel positions of `min` and `max`. */
  p0: number;
  p1: number;
  ticks: AxisTicks;
}

function axisPixel(axis: Axis, v: number): number {
  const t0 = toAxis(axis.min, axis.scale);
  const t1 = toAxis(axis.max, axis.scale);
  return axis.p0 + ((toAxis(v, axis.scale) - t0) / (t1 - t0)) * (axis.p1 - axis.p0);
}

function makeTicks(scale: AxisScale, min: number, max: number, target: number): AxisTicks {
  return scale === 'log'
    ? logTicks(min, max, Math.max(3, Math.round(target * 1.4)))
    : linearTicks(min, max, target);
}

/** Ticks at given positions: powers of ten on log axes read 10ⁿ, other labels share their decimals. */
function explicitTicks(values: readonly number[], scale: AxisScale, min: number, max: number): AxisTicks {
  const sorted = [...new Set(values.filter((v) => usable(v, scale)))].sort((a, b) => a - b);
  if (scale === 'log') {
    const major = sorted.map((value) => {
      const k = Math.round(Math.log10(value));
      const decade = Math.abs(Math.log10(value) - k) < 1e-9;
      return { value, label: decade ? `10${superscript(k)}` : plainLabel(value) };
    });
    const lo = Math.floor(Math.log10(min));
    const hi = Math.ceil(Math.log10(max));
    const minor: number[] = [];
    if (hi - lo <= 12) {
      for (let k = lo; k <= hi; k++) {
        for (let m = 1; m <= 9; m++) {
          const v = Number((m * 10 ** k).toPrecision(12));
          if (v >= min && v <= max && !sorted.includes(v)) minor.push(v);
        }
      }
    }
    return { major, minor };
  }
  let step = Infinity;
  for (let i = 1; i < sorted.length; i++) step = Math.min(step, (sorted[i] ?? 0) - (sorted[i - 1] ?? 0));
  if (!Number.isFinite(step)) step = Math.abs(sorted[0] ?? 1) || 1;
  const labels = formatLinearLabels(sorted, step);
  return { major: sorted.map((value, i) => ({ value, label: labels[i] ?? '' })), minor: [] };
}

/** x ticks whose labels do not collide: the target count drops until neighbours are 8 px apart. */
function xAxisTicks(
  scale: AxisScale,
  min: number,
  max: number,
  p0: number,
  p1: number,
  fontSize: number,
): AxisTicks {
  for (let target = Math.max(2, Math.floor((p1 - p0) / 70)); ; target--) {
    const ticks = makeTicks(scale, min, max, target);
    const axis: Axis = { scale, min, max, p0, p1, ticks };
    let fits = true;
    for (let i = 1; i < ticks.major.length && fits; i++) {
      const a = ticks.major[i - 1];
      const b = ticks.major[i];
      if (a === undefined || b === undefined) continue;
      const gap = axisPixel(axis, b.value) - axisPixel(axis, a.value);
      const need = (estimateTextWidth(a.label, fontSize) + estimateTextWidth(b.label, fontSize)) / 2 + 8;
      if (gap < need) fits = false;
    }
    if (fits || target <= 1) return ticks;
  }
}

interface PreparedSeries {
  series: Series;
  style: SeriesStyle;
  color: string;
  marker: MarkerShape;
  dash: DashPattern;
  lineWidth: number;
  markerSize: number;
}

function prepareSeries(panel: Panel): PreparedSeries[] {
  let markerIndex = 0;
  return panel.series.map((series, i) => {
    const style = series.style ?? 'line';
    const usesMarkers = style !== 'line';
    const marker =
      series.marker ?? (usesMarkers ? DEFAULT_MARKERS[markerIndex % DEFAULT_MARKERS.length] : undefined);
    if (usesMarkers) markerIndex++;
    return {
      series,
      style,
      color: series.color ?? DEFAULT_COLORS[i % DEFAULT_COLORS.length] ?? '#000000',
      marker: marker ?? 'circle',
      dash: series.dash ?? false,
      lineWidth: series.lineWidth ?? 1.8,
      markerSize: series.markerSize ?? 6,
    };
  });
}

function dashArray(dash: DashPattern, lineWidth: number): string | undefined {
  const w = Math.max(1, lineWidth);
  switch (dash) {
    case true:
    case 'dashed':
      return `${num(3.7 * w)} ${num(1.6 * w)}`;
    case 'dotted':
      return `${num(1 * w)} ${num(1.65 * w)}`;
    case 'dashdot':
      return `${num(6.4 * w)} ${num(1.6 * w)} ${num(1 * w)} ${num(1.6 * w)}`;
    default:
      return undefined;
  }
}

/** Path data of one marker centred at (x, y) with width `size`. */
function markerPath(shape: MarkerShape, x: number, y: number, size: number): string {
  const r = size / 2;
  switch (shape) {
    case 'circle':
      return `M${num(x - r)} ${num(y)}a${num(r)} ${num(r)} 0 1 0 ${num(2 * r)} 0a${num(r)} ${num(r)} 0 1 0 ${num(-2 * r)} 0z`;
    case 'square': {
      const s = r * 0.9;
      return `M${num(x - s)} ${num(y - s)}h${num(2 * s)}v${num(2 * s)}h${num(-2 * s)}z`;
    }
    case 'triangle': {
      const t = r * 1.15;
      return `M${num(x)} ${num(y - t)}l${num(t * 0.866)} ${num(t * 1.5)}h${num(-t * 1.732)}z`;
    }
    case 'diamond': {
      const d = r * 1.2;
      return `M${num(x)} ${num(y - d)}l${num(d * 0.8)} ${num(d)}l${num(-d * 0.8)} ${num(d)}l${num(-d * 0.8)} ${num(-d)}z`;
    }
    case 'cross': {
      const c = r * 0.85;
      return `M${num(x - c)} ${num(y - c)}l${num(2 * c)} ${num(2 * c)}m0 ${num(-2 * c)}l${num(-2 * c)} ${num(2 * c)}`;
    }
    case 'plus':
      return `M${num(x - r)} ${num(y)}h${num(2 * r)}M${num(x)} ${num(y - r)}v${num(2 * r)}`;
  }
}

const STROKED_MARKERS: ReadonlySet<MarkerShape> = new Set(['cross', 'plus']);

/** SVG for one series' markers (one path for all of them). */
function markersSvg(p: PreparedSeries, points: readonly (readonly [number, number])[]): string {
  if (points.length === 0) return '';
  const d = points.map(([x, y]) => markerPath(p.marker, x, y, p.markerSize)).join('');
  const color = escapeXml(p.color);
  if (STROKED_MARKERS.has(p.marker)) {
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${num(Math.max(1.2, p.markerSize / 4))}"/>`;
  }
  if (p.series.openMarkers) return `<path d="${d}" fill="#ffffff" stroke="${color}" stroke-width="1.2"/>`;
  return `<path d="${d}" fill="${color}"/>`;
}

function strokeAttributes(color: string, width: number, dash: DashPattern): string {
  const dashes = dashArray(dash, width);
  return `stroke="${escapeXml(color)}" stroke-width="${num(width)}"${dashes ? ` stroke-dasharray="${dashes}"` : ''}`;
}

/** Pixel runs of a series' usable points (a new run after every skipped point) and all its usable points. */
function seriesPixels(
  s: Series,
  xAxis: Axis,
  yAxis: Axis,
): { runs: [number, number][][]; points: [number, number][] } {
  const runs: [number, number][][] = [];
  const points: [number, number][] = [];
  let run: [number, number][] = [];
  for (let i = 0; i < s.x.length; i++) {
    const x = Number(s.x[i]);
    const y = Number(s.y[i]);
    if (!usable(x, xAxis.scale) || !usable(y, yAxis.scale)) {
      if (run.length > 0) runs.push(run);
      run = [];
      continue;
    }
    const pt: [number, number] = [axisPixel(xAxis, x), axisPixel(yAxis, y)];
    run.push(pt);
    points.push(pt);
  }
  if (run.length > 0) runs.push(run);
  return { runs, points };
}

/** Path data for the runs, dropping points within a quarter pixel of the previous kept one. */
function linePath(runs: readonly (readonly [number, number])[][]): string {
  const parts: string[] = [];
  for (const run of runs) {
    if (run.length < 2) continue;
    const first = run[0];
    if (first === undefined) continue;
    let d = `M${num(first[0])} ${num(first[1])}L`;
    let [lx, ly] = first;
    const coords: string[] = [];
    for (let i = 1; i < run.length; i++) {
      const pt = run[i];
      if (pt === undefined) continue;
      const isLast = i === run.length - 1;
      if (!isLast && Math.abs(pt[0] - lx) < 0.25 && Math.abs(pt[1] - ly) < 0.25) continue;
      coords.push(`${num(pt[0])} ${num(pt[1])}`);
      [lx, ly] = pt;
    }
    d += coords.join(' ');
    parts.push(d);
  }
  return parts.join('');
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Points (pixel positions) that the legend should avoid: markers, and line samples every 4 px. */
function occupiedPixels(
  prepared: readonly PreparedSeries[],
  pixels: readonly { runs: [number, number][][]; points: [number, number][] }[],
): [number, number][] {
  const out: [number, number][] = [];
  pixels.forEach((px, i) => {
    const p = prepared[i];
    if (p === undefined) return;
    if (p.style !== 'line') out.push(...px.points);
    if (p.style === 'markers') return;
    for (const run of px.runs) {
      for (let j = 0; j < run.length; j++) {
        const a = run[j];
        const b = run[j + 1];
        if (a === undefined) continue;
        out.push(a);
        if (b === undefined) continue;
        const steps = Math.min(200, Math.floor(Math.hypot(b[0] - a[0], b[1] - a[1]) / 4));
        for (let k = 1; k < steps; k++)
          out.push([a[0] + ((b[0] - a[0]) * k) / steps, a[1] + ((b[1] - a[1]) * k) / steps]);
      }
    }
  });
  return out;
}

/** Adds points every 4 px over a box (a note) to the points the legend should avoid. */
function avoidBox(box: Box, out: [number, number][]): void {
  for (let y = box.y; y <= box.y + box.h + 0.01; y += Math.min(4, box.h)) {
    for (let x = box.x; x <= box.x + box.w + 0.01; x += 4) out.push([x, y]);
  }
}

const INSIDE_POSITIONS: readonly LegendPosition[] = [
  'upper right',
  'upper left',
  'lower left',
  'lower right',
  'center right',
  'center left',
  'lower center',
  'upper center',
];

function legendBox(position: LegendPosition, plot: Box, w: number, h: number): Box {
  const inset = 8;
  const [vertical, horizontal] = position.split(' ') as [string, string | undefined];
  let x = plot.x + (plot.w - w) / 2;
  let y = plot.y + (plot.h - h) / 2;
  const sides = [vertical, horizontal ?? ''];
  if (sides.includes('left')) x = plot.x + inset;
  if (sides.includes('right')) x = plot.x + plot.w - inset - w;
  if (sides.includes('upper')) y = plot.y + inset;
  if (sides.includes('lower')) y = plot.y + plot.h - inset - h;
  return { x, y, w, h };
}

function bestLegendBox(plot: Box, w: number, h: number, occupied: readonly [number, number][]): Box {
  let best: Box | undefined;
  let bestCount = Infinity;
  for (const position of INSIDE_POSITIONS) {
    const box = legendBox(position, plot, w, h);
    let count = 0;
    for (const [x, y] of occupied)
      if (x >= box.x - 2 && x <= box.x + w + 2 && y >= box.y - 2 && y <= box.y + h + 2) count++;
    if (count < bestCount) {
      best = box;
      bestCount = count;
    }
    if (count === 0) break;
  }
  return best ?? legendBox('upper right', plot, w, h);
}

interface LegendMetrics {
  entries: PreparedSeries[];
  w: number;
  h: number;
  row: number;
  sample: number;
  pad: number;
}

function legendMetrics(prepared: readonly PreparedSeries[], fonts: Fonts): LegendMetrics | undefined {
  const entries = prepared.filter((p) => (p.series.label ?? '') !== '');
  if (entries.length === 0) return undefined;
  const row = fonts.legend * 1.5;
  const sample = fonts.legend * 2.2;
  const pad = fonts.legend * 0.55;
  const textW = Math.max(...entries.map((p) => estimateTextWidth(p.series.label ?? '', fonts.legend)));
  return {
    entries,
    w: pad * 2 + sample + fonts.legend * 0.6 + textW,
    h: pad * 2 + row * entries.length - fonts.legend * 0.2,
    row,
    sample,
    pad,
  };
}

function legendSvg(m: LegendMetrics, box: Box, fonts: Fonts): string {
  const out: string[] = [];
  out.push(
    `<rect x="${num(box.x)}" y="${num(box.y)}" width="${num(box.w)}" height="${num(box.h)}" rx="3" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc" stroke-width="0.8"/>`,
  );
  m.entries.forEach((p, i) => {
    const cy = box.y + m.pad + m.row * i + m.row / 2 - fonts.legend * 0.1;
    const x0 = box.x + m.pad;
    if (p.style !== 'markers') {
      out.push(
        `<path d="M${num(x0)} ${num(cy)}h${num(m.sample)}" fill="none" ${strokeAttributes(p.color, p.lineWidth, p.dash)}/>`,
      );
    }
    if (p.style !== 'line') out.push(markersSvg(p, [[x0 + m.sample / 2, cy]]));
    out.push(
      `<text x="${num(x0 + m.sample + fonts.legend * 0.6)}" y="${num(cy + fonts.legend * 0.36)}" font-size="${num(fonts.legend)}">${escapeXml(p.series.label ?? '')}</text>`,
    );
  });
  return out.join('');
}

const TICK_MAJOR = 5;
const TICK_MINOR = 3;
const TICK_GAP = 3;
const AXIS_COLOR = '#222222';

function renderPanel(
  panel: Panel,
  index: number,
  slot: { x: number; w: number },
  plotTop: number,
  plotBottom: number,
  fonts: Fonts,
  idPrefix: string,
): string {
  const xScale = panel.xScale ?? 'linear';
  const yScale = panel.yScale ?? 'linear';
  const prepared = prepareSeries(panel);
  const vLines = referenceLines(panel.verticalLines, `panel ${index + 1}: verticalLines`);
  const hLines = referenceLines(panel.horizontalLines, `panel ${index + 1}: horizontalLines`);

  const xs: number[] = vLines.map((l) => l.at);
  const ys: number[] = hLines.map((l) => l.at);
  for (const s of panel.series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = Number(s.x[i]);
      const y = Number(s.y[i]);
      // A point counts for the ranges only when both coordinates can be drawn.
      if (usable(x, xScale) && usable(y, yScale)) {
        xs.push(x);
        ys.push(y);
      }
    }
  }
  const [xMin, xMax] = axisExtent(xs, xScale, panel.xRange);
  const [yMin, yMax] = axisExtent(ys, yScale, panel.yRange);

  // y ticks first (the plot height is known), then the left margin from their labels' width.
  const plotH = plotBottom - plotTop;
  const yTicks = panel.yTicks
    ? explicitTicks(panel.yTicks, yScale, yMin, yMax)
    : makeTicks(yScale, yMin, yMax, Math.max(3, Math.floor(plotH / 48)));
  const yTickW = Math.max(0, ...yTicks.major.map((t) => estimateTextWidth(t.label, fonts.tick)));
  const yLabelSpace = panel.yLabel ? fonts.label * 1.0 + 8 : 0;
  const plotLeft = slot.x + 8 + yLabelSpace + yTickW + TICK_GAP + TICK_MAJOR;

  const legendPosition: LegendPosition | false =
    panel.legend === false
      ? false
      : panel.legend === true || panel.legend === undefined
        ? 'best'
        : panel.legend;
  const legend = legendPosition === false ? undefined : legendMetrics(prepared, fonts);
  const outside = legend !== undefined && legendPosition === 'outside right';

  let rightMargin = 16 + (outside && legend ? legend.w + 10 : 0);
  let plotRight = slot.x + slot.w - rightMargin;
  const xTicksFor = (right: number): AxisTicks =>
    panel.xTicks
      ? explicitTicks(panel.xTicks, xScale, xMin, xMax)
      : xAxisTicks(xScale, xMin, xMax, plotLeft, right, fonts.tick);
  let xTicks = xTicksFor(plotRight);
  // Keep the last x tick label inside the slot.
  const lastTick = xTicks.major[xTicks.major.length - 1];
  if (lastTick !== undefined) {
    const axis: Axis = { scale: xScale, min: xMin, max: xMax, p0: plotLeft, p1: plotRight, ticks: xTicks };
    const overflow =
      axisPixel(axis, lastTick.value) +
      estimateTextWidth(lastTick.label, fonts.tick) / 2 +
      4 -
      (slot.x + slot.w - (outside && legend ? legend.w + 10 : 0));
    if (overflow > 0) {
      rightMargin += overflow;
      plotRight -= overflow;
      xTicks = xTicksFor(plotRight);
    }
  }
  if (!(plotRight - plotLeft > 10) || !(plotH > 10))
    usage(`panel ${index + 1}: the figure is too small for its labels`);

  const xAxis: Axis = { scale: xScale, min: xMin, max: xMax, p0: plotLeft, p1: plotRight, ticks: xTicks };
  const yAxis: Axis = { scale: yScale, min: yMin, max: yMax, p0: plotBottom, p1: plotTop, ticks: yTicks };
  const plot: Box = { x: plotLeft, y: plotTop, w: plotRight - plotLeft, h: plotH };
  // Whether a value lies on the axis (to a hundredth of a pixel).
  const inX = (v: number): boolean => {
    const px = axisPixel(xAxis, v);
    return usable(v, xScale) && px >= plot.x - 0.01 && px <= plot.x + plot.w + 0.01;
  };
  const inY = (v: number): boolean => {
    const px = axisPixel(yAxis, v);
    return usable(v, yScale) && px >= plot.y - 0.01 && px <= plot.y + plot.h + 0.01;
  };

  const out: string[] = [];
  const clipId = `${idPrefix}-clip-${index}`;
  out.push(`<g>`);
  out.push(
    `<clipPath id="${escapeXml(clipId)}"><rect x="${num(plot.x)}" y="${num(plot.y)}" width="${num(plot.w)}" height="${num(plot.h)}"/></clipPath>`,
  );

  // Grid.
  if (panel.grid) {
    const grid: string[] = [];
    for (const t of xTicks.major)
      if (inX(t.value)) grid.push(`M${num(axisPixel(xAxis, t.value))} ${num(plot.y)}v${num(plot.h)}`);
    for (const t of yTicks.major)
      if (inY(t.value)) grid.push(`M${num(plot.x)} ${num(axisPixel(yAxis, t.value))}h${num(plot.w)}`);
    if (grid.length > 0)
      out.push(`<path d="${grid.join('')}" fill="none" stroke="#e6e6e6" stroke-width="0.8"/>`);
  }

  // Reference lines, data and their notes, clipped to the axes.
  const data: string[] = [];
  const notes: string[] = [];
  const avoid: [number, number][] = [];
  for (const l of vLines) {
    if (!usable(l.at, xScale)) continue;
    const x = axisPixel(xAxis, l.at);
    const color = l.color ?? '#777777';
    data.push(
      `<path d="M${num(x)} ${num(plot.y)}v${num(plot.h)}" fill="none" ${strokeAttributes(color, 1, l.dash ?? true)}/>`,
    );
    if (!inX(l.at)) continue;
    for (let y = plot.y; y <= plot.y + plot.h; y += 4) avoid.push([x, y]);
    if (l.label) {
      // Right of the line, or left of it where the note would leave the axes.
      const w = estimateTextWidth(l.label, fonts.note);
      const right = x + 3 + w <= plot.x + plot.w - 2;
      const noteBox = { x: right ? x + 3 : x - 3 - w, y: plot.y + 2, w, h: fonts.note };
      avoidBox(noteBox, avoid);
      notes.push(
        `<text x="${num(right ? x + 3 : x - 3)}" y="${num(plot.y + fonts.note + 2)}" font-size="${num(fonts.note)}"${right ? '' : ' text-anchor="end"'} fill="${escapeXml(color)}">${escapeXml(l.label)}</text>`,
      );
    }
  }
  for (const l of hLines) {
    if (!usable(l.at, yScale)) continue;
    const y = axisPixel(yAxis, l.at);
    const color = l.color ?? '#777777';
    data.push(
      `<path d="M${num(plot.x)} ${num(y)}h${num(plot.w)}" fill="none" ${strokeAttributes(color, 1, l.dash ?? true)}/>`,
    );
    if (!inY(l.at)) continue;
    for (let x = plot.x; x <= plot.x + plot.w; x += 4) avoid.push([x, y]);
    if (l.label) {
      const w = estimateTextWidth(l.label, fonts.note);
      avoidBox({ x: plot.x + plot.w - 4 - w, y: y - 4 - fonts.note * 0.8, w, h: fonts.note * 0.8 }, avoid);
      notes.push(
        `<text x="${num(plot.x + plot.w - 4)}" y="${num(y - 4)}" font-size="${num(fonts.note)}" text-anchor="end" fill="${escapeXml(color)}">${escapeXml(l.label)}</text>`,
      );
    }
  }
  const pixels = panel.series.map((s) => seriesPixels(s, xAxis, yAxis));
  prepared.forEach((p, i) => {
    const px = pixels[i];
    if (px === undefined) return;
    if (p.style !== 'markers') {
      const d = linePath(px.runs);
      if (d) {
        data.push(
          `<path d="${d}" fill="none" stroke-linejoin="round" stroke-linecap="round" ${strokeAttributes(p.color, p.lineWidth, p.dash)}/>`,
        );
      }
    }
    if (p.style !== 'line') data.push(markersSvg(p, px.points));
  });
  out.push(`<g clip-path="url(#${escapeXml(clipId)})">${data.join('')}</g>`);
  out.push(...notes);

  // Frame and ticks.
  out.push(
    `<rect x="${num(plot.x)}" y="${num(plot.y)}" width="${num(plot.w)}" height="${num(plot.h)}" fill="none" stroke="${AXIS_COLOR}" stroke-width="1"/>`,
  );
  const tickPath: string[] = [];
  const labels: string[] = [];
  const xLabelBaseline = plotBottom + TICK_MAJOR + TICK_GAP + fonts.tick * 0.78;
  for (const t of xTicks.major) {
    if (!inX(t.value)) continue;
    const x = axisPixel(xAxis, t.value);
    tickPath.push(`M${num(x)} ${num(plotBottom)}v${TICK_MAJOR}`);
    labels.push(
      `<text x="${num(x)}" y="${num(xLabelBaseline)}" text-anchor="middle">${escapeXml(t.label)}</text>`,
    );
  }
  for (const v of xTicks.minor)
    if (inX(v)) tickPath.push(`M${num(axisPixel(xAxis, v))} ${num(plotBottom)}v${TICK_MINOR}`);
  const yLabelRight = plotLeft - TICK_MAJOR - TICK_GAP;
  for (const t of yTicks.major) {
    if (!inY(t.value)) continue;
    const y = axisPixel(yAxis, t.value);
    tickPath.push(`M${num(plotLeft)} ${num(y)}h${-TICK_MAJOR}`);
    labels.push(
      `<text x="${num(yLabelRight)}" y="${num(y + fonts.tick * 0.36)}" text-anchor="end">${escapeXml(t.label)}</text>`,
    );
  }
  for (const v of yTicks.minor)
    if (inY(v)) tickPath.push(`M${num(plotLeft)} ${num(axisPixel(yAxis, v))}h${-TICK_MINOR}`);
  if (tickPath.length > 0)
    out.push(`<path d="${tickPath.join('')}" fill="none" stroke="${AXIS_COLOR}" stroke-width="1"/>`);
  if (labels.length > 0)
    out.push(`<g font-size="${num(fonts.tick)}" fill="${AXIS_COLOR}">${labels.join('')}</g>`);

  // Axis labels and title.
  const midX = plot.x + plot.w / 2;
  if (panel.xLabel) {
    const y = xLabelBaseline + fonts.tick * 0.3 + 8 + fonts.label * 0.78;
    out.push(
      `<text x="${num(midX)}" y="${num(y)}" font-size="${num(fonts.label)}" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`,
    );
  }
  if (panel.yLabel) {
    const x = yLabelRight - yTickW - 8 - fonts.label * 0.24;
    const y = plot.y + plot.h / 2;
    out.push(
      `<text transform="translate(${num(x)} ${num(y)}) rotate(-90)" font-size="${num(fonts.label)}" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
    );
  }
  if (panel.title) {
    out.push(
      `<text x="${num(midX)}" y="${num(plotTop - 8)}" font-size="${num(fonts.title)}" text-anchor="middle">${escapeXml(panel.title)}</text>`,
    );
  }

  // Legend.
  if (legend !== undefined && legendPosition !== false) {
    let box: Box;
    if (outside) box = { x: plotRight + 10, y: plot.y, w: legend.w, h: legend.h };
    else if (legendPosition === 'best')
      box = bestLegendBox(plot, legend.w, legend.h, [...avoid, ...occupiedPixels(prepared, pixels)]);
    else box = legendBox(legendPosition, plot, legend.w, legend.h);
    out.push(legendSvg(legend, box, fonts));
  }
  out.push(`</g>`);
  return out.join('\n');
}

/**
 * Renders panels side by side (equal widths) into a standalone SVG document.
 *
 * Each panel has a frame, outward ticks (decades with 2-9 minor ticks on log axes), tick labels, axis
 * labels, an optional title, reference lines and a legend. Automatic ranges cover the drawable points with
 * a 4% margin. Lines are broken at skipped points (non-finite, or non-positive on a log axis). All text is
 * set in {@link FIGURE_FONT_FAMILY}.
 *
 * @throws TopdownUsageError for no panels, mismatched x/y lengths, unknown styles, markers, scales or
 * legend positions, invalid ranges (min ≥ max, or non-positive on a log axis) or sizes, or a figure too
 * small for its labels.
 */
export function renderFigureSvg(panels: readonly Panel[], options: FigureOptions = {}): string {
  if (!Array.isArray(panels) || panels.length === 0) usage('a figure needs at least one panel');
  panels.forEach(validatePanel);
  checkPositive(options.width, 'figure width');
  checkPositive(options.height, 'figure height');
  checkPositive(options.fontSize, 'figure fontSize');
  const width = options.width ?? 460 * panels.length;
  const height = options.height ?? 340;
  const base = options.fontSize ?? 12;
  const fonts: Fonts = {
    tick: base,
    label: base * (13 / 12),
    title: base * (14 / 12),
    figureTitle: base * (16 / 12),
    legend: base * (11 / 12),
    note: base * (10 / 12),
  };
  const idPrefix = (options.idPrefix ?? 'td').replace(/[^A-Za-z0-9_-]/g, '_') || 'td';
  const background = options.background ?? 'white';

  let plotTop = 12;
  if (options.title) plotTop += fonts.figureTitle * 1.25 + 4;
  if (panels.some((p) => p.title)) plotTop += fonts.title * 1.2 + 4;
  const anyXLabel = panels.some((p) => p.xLabel);
  const bottomSpace =
    TICK_MAJOR + TICK_GAP + fonts.tick * 1.08 + (anyXLabel ? 8 + fonts.label * 1.02 : 0) + 10;
  const plotBottom = height - bottomSpace;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="'${FIGURE_FONT_FAMILY}', 'Bitstream Vera Sans', Verdana, Arial, sans-serif" font-size="${num(base)}" fill="#000000">`,
  );
  if (background !== 'none') out.push(`<rect width="100%" height="100%" fill="${escapeXml(background)}"/>`);
  if (options.title) {
    out.push(
      `<text x="${num(width / 2)}" y="${num(10 + fonts.figureTitle * 0.9)}" font-size="${num(fonts.figureTitle)}" font-weight="bold" text-anchor="middle">${escapeXml(options.title)}</text>`,
    );
  }
  const slotW = width / panels.length;
  panels.forEach((panel, i) => {
    out.push(renderPanel(panel, i, { x: slotW * i, w: slotW }, plotTop, plotBottom, fonts, idPrefix));
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
