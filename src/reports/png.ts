/**
 * SVG to PNG rasterisation with resvg (`@resvg/resvg-js`, a native addon shipped prebuilt per platform).
 *
 * Text is set only in the DejaVu Sans faces shipped by the `dejavu-fonts-ttf` package; system fonts are
 * never loaded, so a figure rasterises to the same pixels on every machine, including ones without fonts.
 * @packageDocumentation
 */
import { createRequire } from 'node:module';

import { TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';
import { FIGURE_FONT_FAMILY } from './svg-text.js';

/** Options for {@link svgToPng}. */
export interface PngOptions {
  /** Output width in pixels (the height keeps the SVG's aspect ratio); default: the SVG's own width. */
  width?: number;
  /** A background colour painted under the SVG (default: none, i.e. transparent where the SVG paints nothing). */
  background?: string;
}

/** The largest output width accepted. */
export const MAX_PNG_WIDTH = 16384;

/** The part of resvg-js's API used here. */
interface ResvgModule {
  Resvg: new (
    svg: string,
    options: {
      font: {
        loadSystemFonts: boolean;
        fontFiles: string[];
        defaultFontFamily: string;
        sansSerifFamily: string;
        serifFamily: string;
        monospaceFamily: string;
        cursiveFamily: string;
        fantasyFamily: string;
      };
      fitTo?: { mode: 'width'; value: number };
      background?: string;
      logLevel: 'off';
    },
  ) => { render(): { asPng(): Uint8Array } };
}

interface Renderer {
  resvg: ResvgModule;
  fontFiles: string[];
}

let cached: Renderer | TopdownUnavailableError | undefined;

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** Loads resvg and locates the font files once; the failure, if any, is remembered too. */
function loadRenderer(): Renderer {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    try {
      const resvg = require('@resvg/resvg-js') as ResvgModule;
      if (typeof resvg.Resvg !== 'function') throw new Error('the module has no Resvg class');
      try {
        const fontFiles = [
          'dejavu-fonts-ttf/ttf/DejaVuSans.ttf',
          'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf',
        ].map((f) => require.resolve(f));
        cached = { resvg, fontFiles };
      } catch (error) {
        cached = new TopdownUnavailableError(
          `PNG output needs the DejaVu fonts of the dejavu-fonts-ttf package, which were not found (${firstLine(error)})`,
        );
      }
    } catch (error) {
      cached = new TopdownUnavailableError(
        `PNG output needs the native renderer @resvg/resvg-js, which could not load on ${process.platform}-${process.arch} (${firstLine(error)})`,
      );
    }
  }
  if (cached instanceof TopdownUnavailableError) throw cached;
  return cached;
}

/** Whether {@link svgToPng} can work here (the native renderer and the fonts load). */
export function pngAvailable(): boolean {
  try {
    loadRenderer();
    return true;
  } catch {
    return false;
  }
}

/**
 * Rasterises an SVG document to PNG bytes, synchronously. Text falls back to DejaVu Sans whatever family
 * the SVG names (bold where asked), and nothing is read from the system's fonts.
 *
 * @throws TopdownUsageError for an invalid width or an SVG that resvg cannot parse.
 * @throws TopdownUnavailableError when the native renderer (or the font package) cannot be loaded here;
 * the message is one line, for the CLI to show before writing the SVG alone.
 */
export function svgToPng(svg: string, options: PngOptions = {}): Uint8Array {
  const { width, background } = options;
  if (typeof svg !== 'string' || svg.length === 0)
    throw new TopdownUsageError('svgToPng needs an SVG document');
  if (width !== undefined && !(Number.isInteger(width) && width > 0 && width <= MAX_PNG_WIDTH)) {
    throw new TopdownUsageError(`PNG width must be an integer from 1 to ${MAX_PNG_WIDTH}, got ${width}`);
  }
  const { resvg, fontFiles } = loadRenderer();
  let renderer: { render(): { asPng(): Uint8Array } };
  try {
    renderer = new resvg.Resvg(svg, {
      font: {
        loadSystemFonts: false,
        fontFiles,
        defaultFontFamily: FIGURE_FONT_FAMILY,
        sansSerifFamily: FIGURE_FONT_FAMILY,
        serifFamily: FIGURE_FONT_FAMILY,
        monospaceFamily: FIGURE_FONT_FAMILY,
        cursiveFamily: FIGURE_FONT_FAMILY,
        fantasyFamily: FIGURE_FONT_FAMILY,
      },
      ...(width !== undefined ? { fitTo: { mode: 'width' as const, value: width } } : {}),
      ...(background !== undefined ? { background } : {}),
      logLevel: 'off',
    });
  } catch (error) {
    throw new TopdownUsageError(`cannot parse the SVG: ${firstLine(error)}`);
  }
  const png = renderer.render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
