/**
 * A dataset assembled from the bytes of its official files, as stored (each plain or gzipped; CIFAR also as
 * the official archive): the loaders' shared core, free of any file system so that a browser builds a dataset
 * from dropped or fetched files with the same checks and messages as the command line.
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
  parseIdxImages,
  parseIdxLabels,
  readCifarBatch,
  type CifarFormat,
} from './formats.js';
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

/** One stored file: a label for messages (its path or name) and its bytes as stored. */
export interface StoredFile {
  label: string;
  bytes: Uint8Array;
}

/** A dataset's files as stored: loose files in the order of the spec's `trainFiles` / `testFiles`, or its archive. */
export type StoredDataset =
  | { kind: 'folder'; where: string; train: StoredFile[]; test: StoredFile[] }
  | { kind: 'archive'; file: StoredFile };

/**
 * Inflates gzipped bytes (returns other bytes unchanged), refusing output above `maxBytes`; throws a
 * {@link DataFormatError} naming `label` for corrupt data. Node passes zlib's, a browser a portable one.
 */
export type Inflate = (bytes: Uint8Array, label: string, maxBytes: number) => Uint8Array;

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
 * Builds a dataset from its stored files, checking every file's format.
 * @param options - optional subsets (the first N examples of a split)
 * @throws DataFormatError for corrupt files or missing archive members
 * @throws TopdownUsageError for a subset outside 1..count
 */
export function assembleDataset(
  name: DatasetName,
  stored: StoredDataset,
  options: { trainSubset?: number; testSubset?: number },
  inflate: Inflate,
): Dataset {
  const spec = DATASETS[name];
  const maxBytes = maxDatasetFileBytes(spec);
  const open = (f: StoredFile) => ({ label: f.label, bytes: inflate(f.bytes, f.label, maxBytes) });
  let train: Split;
  let test: Split;
  let source: string;
  if (stored.kind === 'folder') {
    train = buildSplit(spec, stored.train.map(open));
    test = buildSplit(spec, stored.test.map(open));
    source = stored.where;
  } else {
    const archive = stored.file.label;
    const members = readTar(open(stored.file).bytes, archive);
    const dir = spec.archive?.memberDir;
    if (!dir) throw new TopdownUsageError(`${name} has no official archive`);
    const read = (bases: readonly string[]) =>
      bases.map((base) => {
        const member = `${dir}/${base}`;
        const bytes = members.get(member) ?? members.get(`${member}.gz`);
        if (!bytes) throw new DataFormatError(archive, `missing member ${member} in the archive`);
        return open({ label: `${archive}:${member}`, bytes });
      });
    train = buildSplit(spec, read(spec.trainFiles));
    test = buildSplit(spec, read(spec.testFiles));
    source = archive;
  }
  return {
    name,
    shape: spec.shape,
    features: spec.features,
    classes: spec.classes,
    train: subset(train, options.trainSubset, spec.features, 'trainSubset', name),
    test: subset(test, options.testSubset, spec.features, 'testSubset', name),
    source,
  };
}

/** A file given by name (dropped or picked in a browser, or fetched): its base name and bytes as stored. */
export interface NamedFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * Finds a dataset's files among files given by name: its official archive (CIFAR), else its official loose
 * files, each plain or with `.gz` (other files are ignored).
 * @throws DataFormatError naming what is missing
 */
export function storedFromFiles(name: DatasetName, files: readonly NamedFile[]): StoredDataset {
  const spec = DATASETS[name];
  const byName = new Map(files.map((f) => [f.name.replace(/^.*[\\/]/, ''), f]));
  const archive = spec.archive ? byName.get(spec.archive.file) : undefined;
  if (archive) return { kind: 'archive', file: { label: archive.name, bytes: archive.bytes } };
  const wanted = [...spec.trainFiles, ...spec.testFiles];
  const found = wanted.map((base) => byName.get(`${base}.gz`) ?? byName.get(base) ?? null);
  const given = files.map((f) => f.name).join(', ') || 'no files';
  if (found.some((f) => f === null)) {
    const missing = wanted.filter((_, i) => found[i] === null).map((f) => `${f}(.gz)`);
    const alternative = spec.archive ? `, or the archive ${spec.archive.file}` : '';
    throw new DataFormatError(
      given,
      `not ${name}: missing ${missing.join(', ')}${alternative} (the official file names)`,
    );
  }
  const stored = (found as NamedFile[]).map((f) => ({ label: f.name, bytes: f.bytes }));
  return {
    kind: 'folder',
    where: 'the files given',
    train: stored.slice(0, spec.trainFiles.length),
    test: stored.slice(spec.trainFiles.length),
  };
}
