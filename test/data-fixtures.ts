/**
 * Test helpers for the dataset layer: writers for small files in each official format (IDX, CIFAR-10 and
 * CIFAR-100 binary batches, ustar/GNU tar archives), so the loaders can be tested without real data.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterAll } from 'vitest';

/** A fresh temporary folder. */
export function tempDir(prefix = 'topdown-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A maker of fresh temporary folders, all removed after the calling test file. */
export function freshDirs(): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = tempDir();
    dirs.push(dir);
    return dir;
  };
}

/** SHA-256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic pseudo-random bytes (a hash of the position and a salt). */
export function patternBytes(n: number, salt: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.imul(i + 1 + salt * 7919, 2654435761) >>> 24;
  return out;
}

/** Labels 0..classes-1 in a scrambled but deterministic order. */
export function patternLabels(n: number, classes: number, salt: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + salt * 3) % classes;
  return out;
}

function u32be(value: number): number[] {
  return [(value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
}

/** An IDX image file (magic 0x00000803). */
export function idxImages(count: number, rows: number, cols: number, pixels: Uint8Array): Uint8Array {
  const header = [0, 0, 8, 3, ...u32be(count), ...u32be(rows), ...u32be(cols)];
  const out = new Uint8Array(16 + pixels.length);
  out.set(header);
  out.set(pixels, 16);
  return out;
}

/** An IDX label file (magic 0x00000801). */
export function idxLabels(labels: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  out.set([0, 0, 8, 1, ...u32be(labels.length)]);
  out.set(labels, 8);
  return out;
}

/** A CIFAR binary batch: per record [coarse], label, 3072 pixels. */
export function cifarBatch(pixels: Uint8Array, labels: Uint8Array, coarse?: Uint8Array): Uint8Array {
  const n = labels.length;
  const features = pixels.length / n;
  const labelBytes = coarse ? 2 : 1;
  const record = labelBytes + features;
  const out = new Uint8Array(n * record);
  for (let i = 0; i < n; i++) {
    if (coarse) out[i * record] = coarse[i]!;
    out[i * record + labelBytes - 1] = labels[i]!;
    out.set(pixels.subarray(i * features, (i + 1) * features), i * record + labelBytes);
  }
  return out;
}

/** Expected content of one generated split. */
export interface FakeSplit {
  pixels: Uint8Array;
  labels: Uint8Array;
  coarseLabels?: Uint8Array;
  count: number;
}

/** Generates a split of `count` examples with `features` pixels. */
export function fakeSplit(
  count: number,
  features: number,
  classes: number,
  salt: number,
  coarse = 0,
): FakeSplit {
  const split: FakeSplit = {
    pixels: patternBytes(count * features, salt),
    labels: patternLabels(count, classes, salt),
    count,
  };
  if (coarse) split.coarseLabels = patternLabels(count, coarse, salt + 1).map((v, i) => (v + i) % coarse);
  return split;
}

/** Writes a file, creating its folder. */
export function put(path: string, bytes: Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

const maybeGzip = (bytes: Uint8Array, gzip: boolean): Uint8Array => (gzip ? gzipSync(bytes) : bytes);

/** The four IDX files of an MNIST-like split pair, as name -> bytes (names without .gz). */
export function idxFiles(
  train: FakeSplit,
  test: FakeSplit,
  rows = 28,
  cols = 28,
): Record<string, Uint8Array> {
  return {
    'train-images-idx3-ubyte': idxImages(train.count, rows, cols, train.pixels),
    'train-labels-idx1-ubyte': idxLabels(train.labels),
    't10k-images-idx3-ubyte': idxImages(test.count, rows, cols, test.pixels),
    't10k-labels-idx1-ubyte': idxLabels(test.labels),
  };
}

/** Writes MNIST-like IDX files into `folder` (gzipped with a .gz name when `gzip`); returns the splits. */
export function writeIdxDataset(
  folder: string,
  options: { train?: number; test?: number; gzip?: boolean; salt?: number } = {},
): { train: FakeSplit; test: FakeSplit; paths: string[] } {
  const salt = options.salt ?? 1;
  const train = fakeSplit(options.train ?? 30, 784, 10, salt);
  const test = fakeSplit(options.test ?? 12, 784, 10, salt + 100);
  const gzip = options.gzip ?? false;
  const paths = Object.entries(idxFiles(train, test)).map(([name, bytes]) =>
    put(join(folder, gzip ? `${name}.gz` : name), maybeGzip(bytes, gzip)),
  );
  return { train, test, paths };
}

/** CIFAR-10 batch files (5 training batches + test) for the given splits, as name -> bytes. */
export function cifar10Files(train: FakeSplit, test: FakeSplit, batches = 5): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const per = Math.ceil(train.count / batches);
  for (let b = 0; b < batches; b++) {
    const from = Math.min(b * per, train.count);
    const to = Math.min(from + per, train.count);
    files[`data_batch_${b + 1}.bin`] = cifarBatch(
      train.pixels.subarray(from * 3072, to * 3072),
      train.labels.subarray(from, to),
    );
  }
  files['test_batch.bin'] = cifarBatch(test.pixels, test.labels);
  return files;
}

/** CIFAR-100 files (train.bin, test.bin with coarse + fine labels), as name -> bytes. */
export function cifar100Files(train: FakeSplit, test: FakeSplit): Record<string, Uint8Array> {
  return {
    'train.bin': cifarBatch(train.pixels, train.labels, train.coarseLabels),
    'test.bin': cifarBatch(test.pixels, test.labels, test.coarseLabels),
  };
}

/** Generated CIFAR-10 splits (train 25, test 7 by default). */
export function fakeCifar10(train = 25, test = 7, salt = 3): { train: FakeSplit; test: FakeSplit } {
  return { train: fakeSplit(train, 3072, 10, salt), test: fakeSplit(test, 3072, 10, salt + 50) };
}

/** Generated CIFAR-100 splits with coarse labels (train 20, test 6 by default). */
export function fakeCifar100(train = 20, test = 6, salt = 5): { train: FakeSplit; test: FakeSplit } {
  return { train: fakeSplit(train, 3072, 100, salt, 20), test: fakeSplit(test, 3072, 100, salt + 50, 20) };
}

/** Writes `files` (name -> bytes) into `folder`, gzipping them (and adding .gz) when asked. */
export function writeFiles(folder: string, files: Record<string, Uint8Array>, gzip = false): string[] {
  return Object.entries(files).map(([name, bytes]) =>
    put(join(folder, gzip ? `${name}.gz` : name), maybeGzip(bytes, gzip)),
  );
}

/** One member of a generated tar archive. */
export interface TarMember {
  name: string;
  data?: Uint8Array;
  /** Type flag: '0' file (default), '5' directory. */
  type?: string;
}

function header(name: string, size: number, type: string, prefix = '', gnu = false): Uint8Array {
  const h = new Uint8Array(512);
  const enc = new TextEncoder();
  const field = (text: string, at: number, length: number) => h.set(enc.encode(text).subarray(0, length), at);
  const octal = (value: number, at: number, length: number) =>
    field(value.toString(8).padStart(length - 1, '0') + '\0', at, length);
  field(name, 0, 100);
  octal(0o644, 100, 8);
  octal(1000, 108, 8);
  octal(1000, 116, 8);
  octal(size, 124, 12);
  octal(1_600_000_000, 136, 12);
  h[156] = type.charCodeAt(0);
  if (gnu) field('ustar  \0', 257, 8);
  else {
    field('ustar\0', 257, 6);
    field('00', 263, 2);
  }
  field('user', 265, 32);
  field('group', 297, 32);
  if (!gnu) field(prefix, 345, 155);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  field(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/**
 * A tar archive. Names over 100 characters use the ustar prefix field, or a GNU long-name entry when
 * `gnuLongNames` (or when they cannot be split).
 */
export function tarArchive(members: TarMember[], options: { gnuLongNames?: boolean } = {}): Uint8Array {
  const blocks: Uint8Array[] = [];
  const pad = (data: Uint8Array) => {
    blocks.push(data);
    const rest = data.length % 512;
    if (rest) blocks.push(new Uint8Array(512 - rest));
  };
  for (const m of members) {
    const data = m.data ?? new Uint8Array(0);
    const type = m.type ?? '0';
    let name = m.name;
    let prefix = '';
    if (name.length > 100) {
      const cut = name.lastIndexOf('/', name.length - 1);
      const canSplit = cut > 0 && cut <= 155 && name.length - cut - 1 <= 100;
      if (options.gnuLongNames || !canSplit) {
        const long = new TextEncoder().encode(name + '\0');
        blocks.push(header('././@LongLink', long.length, 'L', '', true));
        pad(long);
        name = name.slice(0, 100);
      } else {
        prefix = name.slice(0, cut);
        name = name.slice(cut + 1);
      }
    }
    blocks.push(header(name, data.length, type, prefix, options.gnuLongNames));
    pad(data);
  }
  blocks.push(new Uint8Array(1024));
  const total = blocks.reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** A gzipped tar archive of `files` under `dir/` (with a directory entry first, as the official ones). */
export function tarGz(
  dir: string,
  files: Record<string, Uint8Array>,
  options: { gnuLongNames?: boolean } = {},
): Uint8Array {
  const members: TarMember[] = [{ name: `${dir}/`, type: '5' }];
  for (const [name, data] of Object.entries(files)) members.push({ name: `${dir}/${name}`, data });
  return gzipSync(tarArchive(members, options));
}
