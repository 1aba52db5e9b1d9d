/** Writes a theory experiment's files: theory.json, theory.csv, problem.json, and optionally the figures. */
import { join } from 'node:path';

import { TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';
import { ensureFolder, writeAtomic } from '../core/files.js';
import type { ExperimentResult } from '../theory/experiment.js';

import { svgToPng } from './png.js';
import { theoryCsv } from './theory-table.js';
import { theoryFigureSpec } from './theory-figure.js';
import { renderSvg } from './vega.js';

export interface TheoryOutputOptions {
  plot?: boolean;
  /** Told when the PNG cannot be made (the SVG is still written). */
  onWarning?: (message: string) => void;
}

/** Writes the files into `dir` (created if needed) and returns their names. */
export async function writeTheoryOutputs(
  result: ExperimentResult,
  dir: string,
  options: TheoryOutputOptions = {},
): Promise<string[]> {
  try {
    ensureFolder(dir);
  } catch (error) {
    throw new TopdownUsageError(
      `cannot create output folder ${dir}: ${(error as NodeJS.ErrnoException).code}`,
    );
  }
  const written: string[] = [];
  const put = (name: string, data: string | Uint8Array): void => {
    writeAtomic(join(dir, name), data);
    written.push(name);
  };
  put('problem.json', JSON.stringify(result.problem, null, 2) + '\n');
  put('theory.csv', theoryCsv(result));
  if (options.plot) {
    const svg = await renderSvg(theoryFigureSpec(result));
    put('figure.svg', svg);
    try {
      const width = Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 800);
      put('figure.png', svgToPng(svg, { width: 2 * width, background: 'white' }));
    } catch (error) {
      if (!(error instanceof TopdownUnavailableError)) throw error;
      options.onWarning?.(`figure.png not written: ${error.message}`);
    }
  }
  // last: its presence tells the reproduce runner that the run is complete
  put('theory.json', JSON.stringify(result) + '\n');
  return written;
}
