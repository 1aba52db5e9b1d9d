import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import {
  DEFAULT_COLORS,
  escapeXml,
  estimateTextWidth,
  linearTicks,
  logTicks,
  renderFigureSvg,
  type Panel,
} from '../src/reports/index.js';

interface Element {
  name: string;
  attrs: Record<string, string>;
  text: string;
}

/**
 * A strict little XML checker: every tag is well formed with quoted, unique attributes, tags nest and
 * close properly, `&` only starts the five predefined entities (or a character reference), and no raw `<`
 * or `>` occurs in text. Returns the elements (with their direct text) in document order.
 */
function parseXml(xml: string): Element[] {
  const elements: Element[] = [];
  const open: Element[] = [];
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (text: string): void => {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '<' || c === '>')
        throw new Error(`raw '${c}' in text near ${JSON.stringify(text.slice(i - 10, i + 10))}`);
      if (c === '&') {
        entity.lastIndex = i;
        if (!entity.test(text)) throw new Error(`bad entity near ${JSON.stringify(text.slice(i, i + 10))}`);
      }
    }
  };
  let pos = 0;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const text = xml.slice(pos, lt < 0 ? xml.length : lt);
    checkText(text);
    if (open.length > 0) open[open.length - 1]!.text += text;
    else if (text.trim() !== '') throw new Error('text outside the root element');
    if (lt < 0) break;
    const gt = xml.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = xml.slice(lt + 1, gt);
    pos = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const top = open.pop();
      if (top?.name !== name) throw new Error(`</${name}> closes <${top?.name}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*$/.exec(body);
    if (!m) throw new Error(`malformed tag <${tag}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      checkText(a[2]!);
      attrs[a[1]!] = a[2]!;
    }
    if (open.length === 0 && elements.length > 0) throw new Error('a second root element');
    const el = { name: m[1]!, attrs, text: '' };
    elements.push(el);
    if (!selfClosing) open.push(el);
  }
  if (open.length > 0) throw new Error(`unclosed <${open[open.length - 1]!.name}>`);
  return elements;
}

const unescape = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

const texts = (elements: Element[]): string[] =>
  elements.filter((e) => e.name === 'text').map((e) => unescape(e.text));

/** The `d` of the path stroked in `color`. */
const strokedPaths = (elements: Element[], color: string): string[] =>
  elements.filter((e) => e.name === 'path' && e.attrs.stroke === color).map((e) => e.attrs.d ?? '');

const logspace = (a: number, b: number, n: number): number[] =>
  Array.from({ length: n }, (_, i) => 10 ** (a + ((b - a) * i) / (n - 1)));

function paperFigure(): Panel[] {
  const t = logspace(-2, 3, 200);
  const ts = logspace(-2, 3, 15);
  const eg = (v: number): number => 0.01 + 0.2 / (1 + (v / 0.3) ** 2) + 0.1 / (1 + (v / 100) ** 3);
  return [
    {
      title: 'Generalisation error',
      xLabel: 'time t',
      yLabel: 'generalisation error',
      xScale: 'log',
      yScale: 'log',
      series: [
        { label: 'ODE', x: t, y: t.map(eg) },
        { label: 'simulation', x: ts, y: ts.map(eg), style: 'markers', marker: 'circle' },
      ],
    },
    {
      xLabel: 'time t',
      yLabel: 'angle (degrees)',
      xScale: 'log',
      yScale: 'linear',
      yRange: [0, 90],
      series: [
        { label: 'θ1', x: t, y: t.map((v) => 30 + 60 / (1 + v)) },
        { label: 'θ2', x: t, y: t.map((v) => 45 + 45 / (1 + v)), dash: true },
        { label: 'θ3', x: ts, y: ts.map((v) => 60 + 30 / (1 + v)), style: 'line+markers', marker: 'square' },
      ],
      verticalLines: [{ at: 10, label: 'switch' }],
      legend: 'upper right',
    },
  ];
}

describe('renderFigureSvg', () => {
  it('writes a well-formed SVG with the labels, titles and legend entries', () => {
    const svg = renderFigureSvg(paperFigure(), { title: 'Teacher-student' });
    const elements = parseXml(svg);
    expect(elements[0]?.name).toBe('svg');
    expect(elements[0]?.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(elements[0]?.attrs.width).toBe('920');
    expect(elements[0]?.attrs.height).toBe('340');
    const words = texts(elements);
    for (const w of [
      'Teacher-student',
      'Generalisation error',
      'time t',
      'generalisation error',
      'angle (degrees)',
    ]) {
      expect(words).toContain(w);
    }
    for (const label of ['ODE', 'simulation', 'θ1', 'θ2', 'θ3', 'switch']) expect(words).toContain(label);
    expect(svg).toContain("font-family=\"'DejaVu Sans'");
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('labels the decades of a log axis and puts minor ticks between them', () => {
    const x = [0.01, 0.1, 1, 10, 100, 1000];
    const svg = renderFigureSvg([
      { xLabel: 'x', yLabel: 'y', xScale: 'log', yScale: 'linear', series: [{ x, y: x.map((_, i) => i) }] },
    ]);
    const words = texts(parseXml(svg));
    for (const label of ['10⁻²', '10⁻¹', '10⁰', '10¹', '10²', '10³']) expect(words).toContain(label);
    expect(words).not.toContain('10⁻³');
    expect(words).not.toContain('10⁴');
    // y: 0 to 5 with nice steps
    expect(words).toEqual(expect.arrayContaining(['0', '1', '2', '3', '4', '5']));
  });

  it('breaks lines at NaN points and at non-positive values on a log axis', () => {
    const color = '#123456';
    const line = (y: number[], yScale: 'linear' | 'log'): string[] => {
      const svg = renderFigureSvg([
        { xLabel: 'x', yLabel: 'y', xScale: 'linear', yScale, series: [{ x: [1, 2, 3, 4, 5, 6], y, color }] },
      ]);
      return strokedPaths(parseXml(svg), color);
    };
    const [continuous] = line([1, 2, 3, 4, 5, 6], 'linear');
    expect(continuous?.match(/M/g)).toHaveLength(1);
    const [broken] = line([1, 2, NaN, 4, 5, 6], 'linear');
    expect(broken?.match(/M/g)).toHaveLength(2);
    const [twoGaps] = line([1, 2, Infinity, 4, NaN, 6], 'linear');
    // runs [1,2], [4], [6]: single points draw no line
    expect(twoGaps?.match(/M/g)).toHaveLength(1);
    const [logBroken] = line([1, 2, 0, 4, -5, 6], 'log');
    expect(logBroken?.match(/M/g)).toHaveLength(1);
    const [logTwo] = line([1, 2, 0, 4, 5, 6], 'log');
    expect(logTwo?.match(/M/g)).toHaveLength(2);
  });

  it('skips unusable points when fitting the ranges', () => {
    const svg = renderFigureSvg([
      { xLabel: 'x', yLabel: 'y', yScale: 'log', series: [{ x: [0, 1, 2, 3], y: [-1, 10, 100, NaN] }] },
    ]);
    const words = texts(parseXml(svg));
    expect(words).toEqual(expect.arrayContaining(['10¹', '10²']));
    expect(words.join(' ')).not.toMatch(/⁻/);
  });

  it('is deterministic: the same data gives the same bytes, whatever the array type', () => {
    const a = renderFigureSvg(paperFigure(), { title: 'x' });
    const b = renderFigureSvg(paperFigure(), { title: 'x' });
    expect(a).toBe(b);
    const panel = (x: ArrayLike<number>, y: ArrayLike<number>): Panel[] => [
      { xLabel: 'x', yLabel: 'y', series: [{ label: 's', x, y }] },
    ];
    const x = [0.5, 1.25, 2, 3.75];
    const y = [1, -2, 0.5, 4];
    expect(renderFigureSvg(panel(Float64Array.from(x), Float32Array.from(y)))).toBe(
      renderFigureSvg(panel(x, y)),
    );
  });

  it('writes coordinates with at most two decimals', () => {
    const svg = renderFigureSvg(paperFigure());
    const numbers = svg.match(/-?\d+\.\d+/g) ?? [];
    expect(numbers.length).toBeGreaterThan(100);
    for (const n of numbers) expect(n.split('.')[1]!.length).toBeLessThanOrEqual(2);
  });

  it('escapes text and attribute values', () => {
    const label = 'a<b & "c" \'d\' > e\u0001';
    const svg = renderFigureSvg(
      [
        {
          title: '<title>&',
          xLabel: 'x & y',
          yLabel: '<y>',
          series: [{ label, x: [1, 2], y: [1, 2], color: '"red"' }],
          verticalLines: [{ at: 1.5, label: '</text>' }],
        },
      ],
      { title: 'A&B' },
    );
    const elements = parseXml(svg);
    const words = texts(elements);
    expect(words).toContain('a<b & "c" \'d\' > e');
    expect(words).toEqual(expect.arrayContaining(['<title>&', 'x & y', '<y>', '</text>', 'A&B']));
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt; e<');
    expect(escapeXml('x\uD800y\u0000z\t')).toBe('xyz\t');
  });

  it('draws markers as one path per series and uses the colour cycle', () => {
    const svg = renderFigureSvg([
      {
        xLabel: 'x',
        yLabel: 'y',
        legend: false,
        series: [
          { x: [1, 2, 3], y: [1, 2, 3] },
          { x: [1, 2, 3], y: [3, 2, 1], style: 'markers' },
          { x: [1, 2, 3], y: [2, 2, 2], style: 'markers', marker: 'cross' },
        ],
      },
    ]);
    const elements = parseXml(svg);
    expect(strokedPaths(elements, DEFAULT_COLORS[0]!)).toHaveLength(1);
    const filled = elements.filter((e) => e.name === 'path' && e.attrs.fill === DEFAULT_COLORS[1]);
    expect(filled).toHaveLength(1);
    expect(filled[0]!.attrs.d!.match(/M/g)).toHaveLength(3);
    expect(strokedPaths(elements, DEFAULT_COLORS[2]!)[0]!.match(/M/g)).toHaveLength(3);
    expect(elements.some((e) => e.name === 'rect' && e.attrs.rx === '3')).toBe(false); // no legend
  });

  it("places the 'best' legend away from the data, or where it is told", () => {
    // Data fill the upper half: the legend goes to a lower corner.
    const x = Array.from({ length: 50 }, (_, i) => i);
    const upper: Panel = {
      xLabel: 'x',
      yLabel: 'y',
      yRange: [0, 10],
      series: [{ label: 'upper', x, y: x.map((i) => 7 + 2 * Math.sin(i)) }],
    };
    const legendBox = (panel: Panel): { x: number; y: number } => {
      const elements = parseXml(renderFigureSvg([panel], { width: 400, height: 300 }));
      const rect = elements.find((e) => e.name === 'rect' && e.attrs.rx === '3');
      return { x: Number(rect?.attrs.x), y: Number(rect?.attrs.y) };
    };
    expect(legendBox(upper).y).toBeGreaterThan(150);
    expect(legendBox({ ...upper, legend: 'upper left' }).y).toBeLessThan(100);
    expect(legendBox({ ...upper, legend: 'upper left' }).x).toBeLessThan(120);
    expect(legendBox({ ...upper, legend: 'lower right' }).x).toBeGreaterThan(250);
    // Outside: right of the axes' frame.
    const elements = parseXml(renderFigureSvg([{ ...upper, legend: 'outside right' }], { width: 400 }));
    const frame = elements.filter((e) => e.name === 'rect' && e.attrs.stroke === '#222222')[0]!;
    const legend = elements.find((e) => e.name === 'rect' && e.attrs.rx === '3')!;
    expect(Number(legend.attrs.x)).toBeGreaterThan(Number(frame.attrs.x) + Number(frame.attrs.width));
  });

  it('uses explicit ticks and ranges', () => {
    const words = texts(
      parseXml(
        renderFigureSvg([
          {
            xLabel: 'x',
            yLabel: 'angle',
            yRange: [0, 90],
            yTicks: [0, 30, 60, 90],
            xRange: [0, 1],
            series: [{ x: [0, 1], y: [10, 80] }],
          },
        ]),
      ),
    );
    expect(words).toEqual(expect.arrayContaining(['0', '30', '60', '90', '0.0', '0.2', '1.0']));
    expect(words).not.toContain('20');
  });

  it('throws usage errors for invalid input', () => {
    const ok: Panel = { xLabel: 'x', yLabel: 'y', series: [{ x: [1, 2], y: [1, 2] }] };
    expect(() => renderFigureSvg([])).toThrow(TopdownUsageError);
    expect(() => renderFigureSvg([{ ...ok, series: [{ label: 's', x: [1, 2, 3], y: [1, 2] }] }])).toThrow(
      /x has 3 values but y has 2/,
    );
    expect(() => renderFigureSvg([{ ...ok, xRange: [2, 1] }])).toThrow(TopdownUsageError);
    expect(() => renderFigureSvg([{ ...ok, xScale: 'log', xRange: [0, 1] }])).toThrow(TopdownUsageError);
    expect(() => renderFigureSvg([{ ...ok, yRange: [NaN, 1] }])).toThrow(TopdownUsageError);
    expect(() => renderFigureSvg([{ ...ok, xScale: 'ln' as 'log' }])).toThrow(TopdownUsageError);
    expect(() => renderFigureSvg([{ ...ok, legend: 'top' as 'best' }])).toThrow(TopdownUsageError);
    expect(() => renderFigureSvg([{ ...ok, series: [{ x: [1], y: [1], style: 'bars' as 'line' }] }])).toThrow(
      TopdownUsageError,
    );
    expect(() => renderFigureSvg([{ ...ok, verticalLines: [NaN] }])).toThrow(TopdownUsageError);
    expect(() => renderFigureSvg([ok], { width: 0 })).toThrow(TopdownUsageError);
    expect(() => renderFigureSvg([ok], { width: 40, height: 30 })).toThrow(TopdownUsageError);
  });

  it('draws empty panels and constant series with sensible ranges', () => {
    const empty = texts(parseXml(renderFigureSvg([{ xLabel: 'x', yLabel: 'y', xScale: 'log', series: [] }])));
    expect(empty).toContain('x');
    const flat = texts(
      parseXml(renderFigureSvg([{ xLabel: 'x', yLabel: 'y', series: [{ x: [3, 3], y: [0, 0] }] }])),
    );
    expect(flat).toContain('0.0');
  });
});

describe('ticks', () => {
  it('picks nice linear steps and labels them with common decimals', () => {
    const labels = (a: number, b: number, n: number): string[] =>
      linearTicks(a, b, n).major.map((t) => t.label);
    expect(labels(0, 1, 5)).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(labels(0, 95, 5)).toEqual(['0', '20', '40', '60', '80']);
    expect(labels(-3.6, 104, 6)).toEqual(['0', '20', '40', '60', '80', '100']);
    expect(labels(-1, 1, 4)).toEqual(['−1.0', '−0.5', '0.0', '0.5', '1.0']);
    expect(labels(0, 1e6, 5)).toEqual(['0', '2e5', '4e5', '6e5', '8e5', '1e6']);
    expect(labels(0.3, 0.31, 5)).toEqual(['0.300', '0.302', '0.304', '0.306', '0.308', '0.310']);
  });

  it('labels log decades, thins them over wide ranges and labels multiples over narrow ones', () => {
    const t = logTicks(0.01, 1000);
    expect(t.major.map((m) => m.label)).toEqual(['10⁻²', '10⁻¹', '10⁰', '10¹', '10²', '10³']);
    expect(t.minor).toContain(0.02);
    expect(t.minor).toContain(900);
    expect(t.minor).toHaveLength(5 * 8);
    const wide = logTicks(1e-20, 1e10, 8);
    expect(wide.major.length).toBeLessThanOrEqual(8);
    expect(wide.major.map((m) => m.label)).toContain('10⁰');
    const narrow = logTicks(1.9, 8.5);
    expect(narrow.major.map((m) => m.label)).toEqual(['2', '5']);
    expect(narrow.minor).toEqual([3, 4, 6, 7, 8]);
    expect(logTicks(0.15, 0.6).major.map((m) => m.label)).toEqual(['0.2', '0.3', '0.4', '0.5', '0.6']);
    expect(logTicks(2.1, 2.9).major.length).toBeGreaterThanOrEqual(2);
  });

  it('estimates DejaVu Sans widths', () => {
    expect(estimateTextWidth('0', 10)).toBeCloseTo(6.36, 2);
    expect(estimateTextWidth('10⁻²', 10)).toBeCloseTo(((636 * 2 + 528 + 401) / 1000) * 10, 5);
  });
});
