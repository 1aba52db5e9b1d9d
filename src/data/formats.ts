/**
 * Parsers for the official file formats: IDX (MNIST, Fashion-MNIST), the CIFAR-10 and CIFAR-100 binary
 * batches. Every problem becomes a {@link DataFormatError} naming the file. They read bytes only (no file system), so
 * a browser parses dropped files with them too; `read.ts` reads and inflates files in Node.
 */
import { DataFormatError } from './errors.js';

/** Magic number of an IDX file of unsigned bytes with 3 dimensions (images). */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
export const IDX_LABELS_MAGIC = 0x00000801;

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** True when `bytes` starts with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The default bound on a file, raw or inflated, when no dataset-specific one is given (the loaders pass
 * `maxDatasetFileBytes` of the dataset). A larger file is refused before it is read into memory.
 */
export const MAX_DATA_BYTES = 1024 ** 3;

/** A byte count as MiB or GiB, for messages. */
export function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(0)} GiB` : `${(n / 1024 ** 2).toFixed(0)} MiB`;
}

function readUint32BE(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

function checkSize(label: string, actual: number, expected: number, what: string): void {
  if (actual < expected) {
    throw new DataFormatError(label, `truncated: ${actual} bytes, expected ${expected} for ${what}`);
  }
  if (actual > expected) {
    throw new DataFormatError(label, `${actual - expected} unexpected bytes after ${what} (${actual} bytes)`);
  }
}

function checkMagic(
  bytes: Uint8Array,
  label: string,
  expected: number,
  what: string,
  headerBytes: number,
): void {
  if (bytes.length < 4) throw new DataFormatError(label, `truncated: ${bytes.length} bytes, not an IDX file`);
  const magic = readUint32BE(bytes, 0);
  if (magic !== expected) {
    throw new DataFormatError(
      label,
      `wrong magic number ${hex8(magic)}, expected ${hex8(expected)} (${what})`,
    );
  }
  if (bytes.length < headerBytes) {
    throw new DataFormatError(label, `truncated: ${bytes.length} bytes, shorter than the IDX header`);
  }
}

/**
 * Checks that every label is below `classes`.
 * @throws DataFormatError naming the first offending record
 */
export function checkLabels(labels: Uint8Array, classes: number, label: string, what = 'label'): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= classes) {
      throw new DataFormatError(
        label,
        `${what} ${labels[i]} of record ${i} is out of range (expected 0-${classes - 1})`,
      );
    }
  }
}

/**
 * Parses an IDX image file (magic 0x00000803: count, rows, columns, then count x rows x columns bytes).
 * @param bytes - the decompressed file
 * @param label - the file name used in error messages
 * @returns the image count and the pixels (a view into `bytes`, count x rows x cols)
 * @throws DataFormatError for a wrong magic number, other dimensions, no images or a wrong file size
 */
export function parseIdxImages(
  bytes: Uint8Array,
  label: string,
  rows: number,
  cols: number,
): { count: number; pixels: Uint8Array } {
  checkMagic(bytes, label, IDX_IMAGES_MAGIC, 'IDX images: unsigned bytes, 3 dimensions', 16);
  const count = readUint32BE(bytes, 4);
  const r = readUint32BE(bytes, 8);
  const c = readUint32BE(bytes, 12);
  if (r !== rows || c !== cols) {
    throw new DataFormatError(label, `images are ${r}x${c}, expected ${rows}x${cols}`);
  }
  if (count === 0) throw new DataFormatError(label, 'contains no images');
  checkSize(label, bytes.length, 16 + count * rows * cols, `${count} images of ${rows}x${cols}`);
  return { count, pixels: bytes.subarray(16) };
}

/**
 * Parses an IDX label file (magic 0x00000801: count, then count bytes) and checks every label is below
 * `classes`.
 * @returns the label count and the labels (a view into `bytes`)
 * @throws DataFormatError for a wrong magic number, no labels, a wrong file size or a label out of range
 */
export function parseIdxLabels(
  bytes: Uint8Array,
  label: string,
  classes: number,
): { count: number; labels: Uint8Array } {
  checkMagic(bytes, label, IDX_LABELS_MAGIC, 'IDX labels: unsigned bytes, 1 dimension', 8);
  const count = readUint32BE(bytes, 4);
  if (count === 0) throw new DataFormatError(label, 'contains no labels');
  checkSize(label, bytes.length, 8 + count, `${count} labels`);
  const labels = bytes.subarray(8);
  checkLabels(labels, classes, label);
  return { count, labels };
}

/** Layout of a CIFAR binary batch. */
export interface CifarFormat {
  /** Label bytes before the pixels of each record: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine). */
  labelBytes: 1 | 2;
  /** Pixel bytes per record (3072). */
  features: number;
  /** Number of (fine) classes. */
  classes: number;
  /** Number of coarse classes (CIFAR-100). */
  coarseClasses?: number;
}

/**
 * Number of records in a CIFAR batch of `size` bytes.
 * @throws DataFormatError when the size is not a positive whole number of records
 */
export function cifarRecordCount(size: number, label: string, format: CifarFormat): number {
  const record = format.labelBytes + format.features;
  if (size === 0) throw new DataFormatError(label, 'is empty');
  if (size % record !== 0) {
    throw new DataFormatError(
      label,
      `size ${size} is not a whole number of ${record}-byte records (truncated or not a CIFAR batch)`,
    );
  }
  return size / record;
}

/**
 * Copies the records of one CIFAR batch into the output arrays, starting at record `at`, checking the
 * labels: pixels stay in the file's order (R plane, G plane, B plane, each row-major).
 * @throws DataFormatError for a wrong size or a label out of range
 */
export function readCifarBatch(
  bytes: Uint8Array,
  label: string,
  format: CifarFormat,
  out: { pixels: Uint8Array; labels: Uint8Array; coarseLabels?: Uint8Array },
  at: number,
): number {
  const n = cifarRecordCount(bytes.length, label, format);
  const { features, labelBytes, classes } = format;
  const record = labelBytes + features;
  const coarseClasses = format.coarseClasses ?? 0;
  for (let i = 0, o = 0; i < n; i++, o += record) {
    const fine = bytes[o + labelBytes - 1]!;
    if (fine >= classes) {
      throw new DataFormatError(
        label,
        `label ${fine} of record ${i} is out of range (expected 0-${classes - 1})`,
      );
    }
    out.labels[at + i] = fine;
    if (labelBytes === 2) {
      const coarse = bytes[o]!;
      if (coarse >= coarseClasses) {
        throw new DataFormatError(
          label,
          `coarse label ${coarse} of record ${i} is out of range (expected 0-${coarseClasses - 1})`,
        );
      }
      out.coarseLabels![at + i] = coarse;
    }
    out.pixels.set(bytes.subarray(o + labelBytes, o + record), (at + i) * features);
  }
  return n;
}
