/**
 * Loading a dataset into memory: pixels stay uint8 (count x features, in the file's order), labels uint8.
 */
import { assembleDataset, type Dataset, type StoredFile } from './assemble.js';
import { DATASETS, maxDatasetFileBytes, type DatasetName } from './datasets.js';
import { locateDataset, type DatasetLocation } from './paths.js';
import { gunzipIfNeeded, readBytes } from './read.js';

export type { Dataset, Split } from './assemble.js';

/** Options of {@link loadDataset}. */
export interface LoadOptions {
  /** The data directory (see `resolveDataDir`). */
  dataDir: string;
  /** Keep only the first N training examples (1..count). */
  trainSubset?: number;
  /** Keep only the first N test examples (1..count). */
  testSubset?: number;
}

/** A file read while loading (for verification): its path and raw bytes as stored. */
export interface ReadFile {
  /** Path of the file read. */
  path: string;
  /** The file's bytes before decompression. */
  bytes: Uint8Array;
}

/**
 * Loads a dataset already located, reporting each stored file read (for checksums).
 * @internal used by `loadDataset` and `listDatasets`
 */
export function loadLocated(
  name: DatasetName,
  location: DatasetLocation,
  options: Omit<LoadOptions, 'dataDir'>,
  onRead?: (file: ReadFile) => void,
): Dataset {
  const maxBytes = maxDatasetFileBytes(DATASETS[name]);
  const read = (path: string): StoredFile => {
    const bytes = readBytes(path, maxBytes);
    onRead?.({ path, bytes });
    return { label: path, bytes };
  };
  const stored =
    location.kind === 'folder'
      ? {
          kind: 'folder' as const,
          where: location.where,
          train: location.train.map(read),
          test: location.test.map(read),
        }
      : { kind: 'archive' as const, file: read(location.where) };
  return assembleDataset(name, stored, options, gunzipIfNeeded);
}

/**
 * Loads a dataset from the data directory into memory, checking every file's format (see
 * `locateDataset` for the layouts searched; each file may be plain or gzipped, CIFAR may be the official
 * `.tar.gz` archive).
 * @param name - the dataset
 * @param options - the data directory and optional subsets (the first N examples of a split)
 * @throws DataFormatError for missing or corrupt files
 * @throws TopdownUsageError for a subset outside 1..count
 */
export function loadDataset(name: DatasetName, options: LoadOptions): Dataset {
  return loadLocated(name, locateDataset(name, options.dataDir), options);
}
