/**
 * Checking what is in a data directory: which datasets are present, whether they load, and whether their
 * files are byte-identical to the official ones.
 */
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';

import { DATASET_NAMES, DATASETS, type DatasetName, type OfficialFile } from './datasets.js';
import { DataFormatError, DataMissingError } from './errors.js';
import { loadLocated, type Dataset, type ReadFile } from './load.js';
import { locateDataset, type DatasetLocation } from './paths.js';

/**
 * The state of one dataset in a data directory:
 * - `missing`: none of its files were found;
 * - `invalid`: files were found but some are missing, unreadable or corrupt;
 * - `valid`: every file passes every format check, but not every file is byte-identical to an official one
 *   (e.g. re-compressed or extracted copies);
 * - `verified`: valid, and every file's SHA-256 equals the official file's.
 */
export type DatasetStatusKind = 'missing' | 'invalid' | 'valid' | 'verified';

/** What {@link listDatasets} reports for one dataset. */
export interface DatasetStatus {
  /** The dataset. */
  name: DatasetName;
  /** Its state. */
  status: DatasetStatusKind;
  /** One line: the counts, or what is wrong, or how to get it. */
  detail: string;
  /** The files read (archives count as one file); empty when missing. */
  files: string[];
  /** The folder or archive used, or, when missing, the folder `topdown data download` would write. */
  where: string;
}

/** Options of {@link listDatasets}. */
export interface ListOptions {
  /** Only these datasets (default: all, in {@link DATASET_NAMES} order). */
  names?: readonly DatasetName[];
  /** Replace the official files (and checksums) of some datasets, e.g. in tests. */
  official?: Partial<Record<DatasetName, readonly OfficialFile[]>>;
  /** Called before each dataset is checked (checking a large dataset takes about a second). */
  onCheck?: (name: DatasetName) => void;
}

/** SHA-256 of `bytes`, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function counts(dataset: Dataset): string {
  const spec = DATASETS[dataset.name];
  const text = `${dataset.train.count} train / ${dataset.test.count} test`;
  const official = dataset.train.count === spec.trainCount && dataset.test.count === spec.testCount;
  return official ? text : `${text} (official: ${spec.trainCount} / ${spec.testCount})`;
}

/**
 * Checks one dataset in `dataDir`: locates it, loads it with every format check, and compares the SHA-256
 * of each file read with the official file of the same name.
 */
export function checkDataset(
  name: DatasetName,
  dataDir: string,
  official: readonly OfficialFile[] = DATASETS[name].downloads,
): DatasetStatus {
  const spec = DATASETS[name];
  let location: DatasetLocation;
  try {
    location = locateDataset(name, dataDir);
  } catch (error) {
    if (!(error instanceof DataFormatError)) throw error;
    const where = join(dataDir, spec.downloadFolder);
    if (error instanceof DataMissingError) {
      return {
        name,
        status: 'missing',
        detail: `not found (run \`topdown data download ${name}\`)`,
        files: [],
        where,
      };
    }
    return { name, status: 'invalid', detail: error.message, files: [], where: error.file };
  }
  const read: { path: string; sha256: string }[] = [];
  const onRead = (file: ReadFile): void => void read.push({ path: file.path, sha256: sha256Hex(file.bytes) });
  let dataset: Dataset;
  try {
    dataset = loadLocated(name, location, {}, onRead);
  } catch (error) {
    if (!(error instanceof DataFormatError)) throw error;
    const files = read.map((r) => r.path);
    return { name, status: 'invalid', detail: error.message, files, where: location.where };
  }
  const files = read.map((r) => r.path);
  const bySha = new Map(official.map((o) => [o.file, o.sha256.toLowerCase()]));
  const unknown = read.filter((r) => !bySha.has(basename(r.path)));
  const differing = read.filter(
    (r) => bySha.has(basename(r.path)) && bySha.get(basename(r.path)) !== r.sha256,
  );
  if (unknown.length === 0 && differing.length === 0) {
    return {
      name,
      status: 'verified',
      detail: `${counts(dataset)}; SHA-256 of every file matches the official one`,
      files,
      where: location.where,
    };
  }
  const why =
    differing.length > 0
      ? `SHA-256 differs from the official ${differing.map((r) => basename(r.path)).join(', ')} (a re-compressed or modified copy?)`
      : 'not the official files, so no checksum to compare (e.g. extracted or re-packed copies)';
  return {
    name,
    status: 'valid',
    detail: `${counts(dataset)}; format checks passed; ${why}`,
    files,
    where: location.where,
  };
}

/**
 * Reports the state of every dataset (or those named) in `dataDir`. Loads each dataset found in full (about
 * a second for CIFAR), one at a time.
 */
export function listDatasets(dataDir: string, options: ListOptions = {}): DatasetStatus[] {
  const names = options.names ?? DATASET_NAMES;
  return names.map((name) => {
    options.onCheck?.(name);
    return checkDataset(name, dataDir, options.official?.[name] ?? DATASETS[name].downloads);
  });
}
