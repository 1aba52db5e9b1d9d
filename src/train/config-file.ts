/** Config files on disk (Node): read, then parsed as `parseConfigText` parses any config text. */
import { readFileSync } from 'node:fs';

import { TopdownUsageError } from '../core/errors.js';

import { parseConfigText } from './config.js';

/** Reads a YAML or JSON config file (kebab-case or camelCase keys) into a partial configuration. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TopdownUsageError(
      `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return parseConfigText(text, path);
}
