/**
 * Loading a dataset into memory: pixels stay uint8 (count x features, in the file's order), labels uint8.
 */
import { TopdownUsageError } from '../core/errors.js';

import {
  DATASETS,
  maxDatasetFileBytes,
  type DatasetName,
  type DatasetSpec,
  type InputShape,
} from './datasets.js';
import { DataFormatError } from './errors.js';
import {
  cifarRecordCount,
  gunzipIfNeeded,
  parseIdxImages,
  parseIdxLabels,
  readBytes,
  readCifarBatch,
  type CifarFormat,
} from './formats.js';
import { locateDataset, type DatasetLocation } from './paths.js';
import { readTar } from './tar.js';

/** One split (train or test) of a dataset, in memory. */
export interface Split {
  /** count x features pixel bytes, one row per example (CIFAR: R, G, B planes, as in the files). */
  pixels: Uint8Array;
  /** One (fine) label per example. */
  labels: Uint8Array;
  /** One coarse label per example (CIFAR-100 only). */
  coarseLabels?: Uint8Array;
  /** Number of examples. */
  count: number;
}

/** A dataset in memory. */
export interface Dataset {
  /** The dataset's name. */
  name: DatasetName;
  /** [channels, height, width] of one example. */
  shape: InputShape;
  /** Values per example. */
  features: number;
  /** Number of (fine) classes. */
  classes: number;
  /** The training split. */
  train: Split;
  /** The test split. */
  test: Split;
  /** What was read: the folder of the loose files or the archive's path. */
  source: string;
}

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

function readStored(path: string, maxBytes: number, onRead?: (file: ReadFile) => void): Uint8Array {
  const bytes = readBytes(path, maxBytes);
  onRead?.({ path, bytes });
  return gunzipIfNeeded(bytes, path, maxBytes);
}

function cifarFormat(spec: DatasetSpec): CifarFormat {
  return spec.format === 'cifar100'
    ? {
        labelBytes: 2,
        features: spec.features,
        classes: spec.classes,
        coarseClasses: spec.coarseClasses ?? 20,
      }
    : { labelBytes: 1, features: spec.features, classes: spec.classes };
}

function idxSplit(spec: DatasetSpec, files: { label: string; bytes: Uint8Array }[]): Split {
  const [images, labels] = files as [(typeof files)[0], (typeof files)[0]];
  const [, rows, cols] = spec.shape;
  const img = parseIdxImages(images.bytes, images.label, rows, cols);
  const lab = parseIdxLabels(labels.bytes, labels.label, spec.classes);
  if (img.count !== lab.count) {
    throw new DataFormatError(
      labels.label,
      `has ${lab.count} labels but ${images.label} has ${img.count} images`,
    );
  }
  return { pixels: img.pixels, labels: lab.labels, count: img.count };
}

function cifarSplit(spec: DatasetSpec, files: { label: string; bytes: Uint8Array }[]): Split {
  const format = cifarFormat(spec);
  let count = 0;
  for (const f of files) count += cifarRecordCount(f.bytes.length, f.label, format);
  const split: Split = {
    pixels: new Uint8Array(count * spec.features),
    labels: new Uint8Array(count),
    count,
  };
  if (format.labelBytes === 2) split.coarseLabels = new Uint8Array(count);
  let at = 0;
  for (const f of files) at += readCifarBatch(f.bytes, f.label, format, split, at);
  return split;
}

function buildSplit(spec: DatasetSpec, files: { label: string; bytes: Uint8Array }[]): Split {
  return spec.format === 'idx' ? idxSplit(spec, files) : cifarSplit(spec, files);
}

function subset(split: Split, n: number | undefined, features: number, what: string, name: string): Split {
  if (n === undefined) return split;
  if (!Number.isSafeInteger(n) || n < 1 || n > split.count) {
    throw new TopdownUsageError(
      `${what} must be an integer from 1 to ${split.count} (the ${name} ${what.replace('Subset', '')} size), got ${n}`,
    );
  }
  if (n === split.count) return split;
  const out: Split = {
    pixels: split.pixels.slice(0, n * features),
    labels: split.labels.slice(0, n),
    count: n,
  };
  if (split.coarseLabels) out.coarseLabels = split.coarseLabels.slice(0, n);
  return out;
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
  const spec = DATASETS[name];
  const maxBytes = maxDatasetFileBytes(spec);
  let train: Split;
  let test: Split;
  if (location.kind === 'folder') {
    const read = (paths: string[]) =>
      paths.map((path) => ({ label: path, bytes: readStored(path, maxBytes, onRead) }));
    train = buildSplit(spec, read(location.train));
    test = buildSplit(spec, read(location.test));
  } else {
    const archive = location.where;
    const members = readTar(readStored(archive, maxBytes, onRead), archive);
    const dir = spec.archive!.memberDir;
    const read = (bases: readonly string[]) =>
      bases.map((base) => {
        const member = `${dir}/${base}`;
        const bytes = members.get(member) ?? members.get(`${member}.gz`);
        if (!bytes) throw new DataFormatError(archive, `missing member ${member} in the archive`);
        const label = `${archive}:${member}`;
        return { label, bytes: gunzipIfNeeded(bytes, label, maxBytes) };
      });
    train = buildSplit(spec, read(spec.trainFiles));
    test = buildSplit(spec, read(spec.testFiles));
  }
  return {
    name,
    shape: spec.shape,
    features: spec.features,
    classes: spec.classes,
    train: subset(train, options.trainSubset, spec.features, 'trainSubset', name),
    test: subset(test, options.testSubset, spec.features, 'testSubset', name),
    source: location.where,
  };
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
