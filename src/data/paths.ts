/**
 * Where datasets live: the data directory and the files of each dataset inside it.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, win32 } from 'node:path';

import { TopdownUsageError } from '../core/errors.js';
import { quoted } from '../core/untrusted.js';

import { DATASETS, type DatasetName } from './datasets.js';
import { DataFormatError, DataMissingError } from './errors.js';

/** What {@link resolveDataDir} consults besides its flag (overridable for tests). */
export interface DataDirContext {
  /** Environment variables (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Platform (default `process.platform`). */
  platform?: string;
  /** The user's home folder (default `os.homedir()`). */
  home?: string;
}

/**
 * The data directory: `flag` when given, else the environment variable `TOPDOWN_DATA`, else a per-user cache
 * folder: `$XDG_CACHE_HOME/topdown/data` or `~/.cache/topdown/data`, on Windows `%LOCALAPPDATA%\topdown\data`.
 * Relative paths are resolved against the current directory.
 */
export function resolveDataDir(flag?: string, context: DataDirContext = {}): string {
  const env = context.env ?? process.env;
  const platform = context.platform ?? process.platform;
  if (flag !== undefined && flag !== '') return resolve(flag);
  const fromEnv = env.TOPDOWN_DATA;
  if (fromEnv) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(fromEnv)) {
      throw new TopdownUsageError(`TOPDOWN_DATA ${quoted(fromEnv)} holds a control character; name a folder`);
    }
    return resolve(fromEnv);
  }
  const home = context.home ?? homedir();
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA || win32.join(home, 'AppData', 'Local');
    return win32.join(local, 'topdown', 'data');
  }
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  const cache = xdg && xdg.startsWith('/') ? xdg : join(home, '.cache');
  return join(cache, 'topdown', 'data');
}

/** Where a dataset's files were found. */
export type DatasetLocation =
  | {
      /** Loose files in one folder. */
      kind: 'folder';
      /** The folder. */
      where: string;
      /** Paths of the training files, in the order of the dataset's `trainFiles`. */
      train: string[];
      /** Paths of the test files. */
      test: string[];
    }
  | {
      /** The official archive. */
      kind: 'archive';
      /** The archive's path. */
      where: string;
    };

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** `base.gz` when it exists, else `base` when it exists, else null. */
function findFile(folder: string, base: string): string | null {
  for (const candidate of [join(folder, `${base}.gz`), join(folder, base)]) {
    if (isFile(candidate)) return candidate;
  }
  return null;
}

function describeFiles(files: readonly string[]): string {
  const batches = files.filter((f) => /^data_batch_\d+\.bin$/.test(f));
  const rest = files.filter((f) => !batches.includes(f));
  const listed = batches.length > 1 ? [`data_batch_1..${batches.length}.bin`, ...rest] : files;
  return listed.join(', ');
}

/**
 * Finds a dataset's files in the data directory: loose files (plain or gzipped) in one of the dataset's
 * folders, else its official archive.
 * @throws DataMissingError listing what was looked for and where when nothing is found
 * @throws DataFormatError when only part of a dataset's files are there
 */
export function locateDataset(name: DatasetName, dataDir: string): DatasetLocation {
  const spec = DATASETS[name];
  const wanted = [...spec.trainFiles, ...spec.testFiles];
  const download = `run \`topdown data download ${name}\` or place the files there`;
  for (const folder of spec.folders) {
    const dir = join(dataDir, folder);
    if (!existsSync(dir)) continue;
    const found = wanted.map((base) => findFile(dir, base));
    if (found.every((f) => f !== null)) {
      const paths = found as string[];
      return {
        kind: 'folder',
        where: dir,
        train: paths.slice(0, spec.trainFiles.length),
        test: paths.slice(spec.trainFiles.length),
      };
    }
    if (found.some((f) => f !== null)) {
      const missing = wanted.filter((_, i) => found[i] === null).map((f) => `${f}(.gz)`);
      throw new DataFormatError(dir, `incomplete ${name} files: missing ${missing.join(', ')}; ${download}`);
    }
  }
  if (spec.archive) {
    for (const folder of spec.archive.folders) {
      const path = join(dataDir, folder, spec.archive.file);
      if (isFile(path)) return { kind: 'archive', where: path };
    }
  }
  const folders = spec.folders.map((f) => `${f}/`).join(', ');
  let looked = `${describeFiles(wanted)} (plain or .gz) in ${folders}`;
  if (spec.archive) {
    const where = spec.archive.folders.map((f) => (f ? `${f}/` : './')).join(', ');
    looked += `, or ${spec.archive.file} in ${where}`;
  }
  throw new DataMissingError(dataDir, `${name} not found: looked for ${looked}; ${download}`);
}
