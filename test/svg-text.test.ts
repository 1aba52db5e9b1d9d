import { describe, expect, it } from 'vitest';

import { escapeXml, estimateTextWidth, FIGURE_FONT_FAMILY } from '../src/reports/index.js';

describe('svg text', () => {
  it('escapes the five XML entities and drops characters XML cannot hold', () => {
    expect(escapeXml('a<b & "c" \'d\' > e\u0001')).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos; &gt; e');
    expect(escapeXml('x\uD800y\u0000z\t')).toBe('xyz\t');
    expect(escapeXml('\u{1F600} ok')).toBe('\u{1F600} ok');
  });

  it('estimates DejaVu Sans widths', () => {
    expect(FIGURE_FONT_FAMILY).toBe('DejaVu Sans');
    expect(estimateTextWidth('0', 10)).toBeCloseTo(6.36, 2);
    expect(estimateTextWidth('10⁻²', 10)).toBeCloseTo(((636 * 2 + 528 + 401) / 1000) * 10, 5);
    expect(estimateTextWidth('W', 10, true)).toBeCloseTo(estimateTextWidth('W', 10) * 1.08, 6);
    expect(estimateTextWidth('漢', 10)).toBe(10);
  });
});
