/**
 * Text in SVG figures: the font they are set in (the one the PNG renderer ships), the width a string takes
 * in it, and XML escaping.
 * @packageDocumentation
 */

/** The font family the figures are written in (and that the PNG renderer ships). */
export const FIGURE_FONT_FAMILY = 'DejaVu Sans';

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
