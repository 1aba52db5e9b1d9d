import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import {
  DataFormatError,
  DataMissingError,
  loadDataset,
  type Dataset,
  type Split,
} from '../src/data/index.js';

import {
  cifar100Files,
  cifar10Files,
  cifarBatch,
  fakeCifar10,
  fakeCifar100,
  fakeSplit,
  idxFiles,
  idxImages,
  idxLabels,
  put,
  tarGz,
  writeFiles,
  writeIdxDataset,
  type FakeSplit,
  freshDirs,
} from './data-fixtures.js';

const fresh = freshDirs();

function expectSplit(actual: Split, expected: FakeSplit): void {
  expect(actual.count).toBe(expected.count);
  expect(actual.pixels).toBeInstanceOf(Uint8Array);
  expect(actual.pixels.length).toBe(expected.pixels.length);
  expect(Buffer.from(actual.pixels).equals(Buffer.from(expected.pixels))).toBe(true);
  expect([...actual.labels]).toEqual([...expected.labels]);
  if (expected.coarseLabels) expect([...actual.coarseLabels!]).toEqual([...expected.coarseLabels]);
  else expect(actual.coarseLabels).toBeUndefined();
}

function expectDataset(d: Dataset, expected: { train: FakeSplit; test: FakeSplit }): void {
  expectSplit(d.train, expected.train);
  expectSplit(d.test, expected.test);
}

/** Runs `fn`, expecting a one-line DataFormatError whose message matches every pattern. */
function expectFormatError(fn: () => unknown, ...patterns: (RegExp | string)[]): DataFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DataFormatError);
  expect(caught).toBeInstanceOf(TopdownUsageError);
  const e = caught as DataFormatError;
  expect(e.message).not.toMatch(/\n/);
  for (const p of patterns) expect(e.message).toMatch(p);
  return e;
}

describe('IDX datasets (MNIST, Fashion-MNIST)', () => {
  it.each([false, true])('round-trips mnist files (gzip: %s)', (gzip) => {
    const dir = fresh();
    const expected = writeIdxDataset(join(dir, 'mnist'), { gzip });
    const d = loadDataset('mnist', { dataDir: dir });
    expect(d.name).toBe('mnist');
    expect(d.shape).toEqual([1, 28, 28]);
    expect(d.features).toBe(784);
    expect(d.classes).toBe(10);
    expect(d.source).toBe(join(dir, 'mnist'));
    expectDataset(d, expected);
  });

  it('reads fashion-mnist from its folder, detecting gzip by content, not by name', () => {
    const dir = fresh();
    const expected = writeIdxDataset(join(dir, 'fashion-mnist'), { salt: 9 });
    const first = expected.paths[0]!;
    writeFileSync(first, gzipSync(readFileSync(first))); // gzipped, but no .gz suffix
    expectDataset(loadDataset('fashion-mnist', { dataDir: dir }), expected);
    // and a plain file named .gz
    const dir2 = fresh();
    const files = idxFiles(expected.train, expected.test);
    for (const [name, bytes] of Object.entries(files)) put(join(dir2, 'fashion-mnist', `${name}.gz`), bytes);
    expectDataset(loadDataset('fashion-mnist', { dataDir: dir2 }), expected);
  });

  it('takes the first N examples as subsets and validates the subset sizes', () => {
    const dir = fresh();
    const { train, test } = writeIdxDataset(join(dir, 'mnist'), { train: 30, test: 12, gzip: true });
    const d = loadDataset('mnist', { dataDir: dir, trainSubset: 5, testSubset: 12 });
    expect(d.train.count).toBe(5);
    expect([...d.train.labels]).toEqual([...train.labels.subarray(0, 5)]);
    expect(Buffer.from(d.train.pixels).equals(Buffer.from(train.pixels.subarray(0, 5 * 784)))).toBe(true);
    expectSplit(d.test, test);
    for (const bad of [0, 31, 2.5, -1, NaN]) {
      expect(() => loadDataset('mnist', { dataDir: dir, trainSubset: bad })).toThrow(
        /trainSubset must be an integer from 1 to 30/,
      );
    }
    expect(() => loadDataset('mnist', { dataDir: dir, testSubset: 13 })).toThrow(TopdownUsageError);
  });
});

describe('CIFAR-10 and CIFAR-100', () => {
  it.each([
    ['cifar-10-batches-bin', false],
    ['cifar-10-batches-bin', true],
    ['cifar10', true],
    ['cifar10/cifar-10-batches-bin', false],
  ] as const)('round-trips CIFAR-10 batches in %s/ (gzip: %s)', (folder, gzip) => {
    const dir = fresh();
    const expected = fakeCifar10();
    writeFiles(join(dir, folder), cifar10Files(expected.train, expected.test), gzip);
    const d = loadDataset('cifar10', { dataDir: dir });
    expect(d.shape).toEqual([3, 32, 32]);
    expect(d.features).toBe(3072);
    expect(d.source).toBe(join(dir, folder));
    expectDataset(d, expected);
  });

  it.each(['', 'cifar10'])('reads the official CIFAR-10 .tar.gz archive in memory (in "%s")', (folder) => {
    const dir = fresh();
    const expected = fakeCifar10(23, 5);
    const archive = put(
      join(dir, folder, 'cifar-10-binary.tar.gz'),
      tarGz('cifar-10-batches-bin', {
        ...cifar10Files(expected.train, expected.test),
        'batches.meta.txt': new TextEncoder().encode('airplane\n'),
      }),
    );
    const d = loadDataset('cifar10', { dataDir: dir, trainSubset: 10 });
    expect(d.source).toBe(archive);
    expectSplit(d.test, expected.test);
    expect(d.train.count).toBe(10);
    expect([...d.train.labels]).toEqual([...expected.train.labels.subarray(0, 10)]);
  });

  it('keeps CIFAR-100 coarse and fine labels (plain, gzipped and archived)', () => {
    const expected = fakeCifar100();
    const files = cifar100Files(expected.train, expected.test);
    const plain = fresh();
    writeFiles(join(plain, 'cifar-100-binary'), files);
    const gz = fresh();
    writeFiles(join(gz, 'cifar100'), files, true);
    const archived = fresh();
    put(join(archived, 'cifar100', 'cifar-100-binary.tar.gz'), tarGz('cifar-100-binary', files));
    const longNames = fresh();
    put(join(longNames, 'cifar-100-binary.tar.gz'), tarGz('cifar-100-binary', files, { gnuLongNames: true }));
    for (const dir of [plain, gz, archived, longNames]) {
      const d = loadDataset('cifar100', { dataDir: dir });
      expect(d.classes).toBe(100);
      expectDataset(d, expected);
    }
    const sub = loadDataset('cifar100', { dataDir: plain, trainSubset: 3, testSubset: 2 });
    expect([...sub.train.coarseLabels!]).toEqual([...expected.train.coarseLabels!.subarray(0, 3)]);
    expect(sub.test.coarseLabels!.length).toBe(2);
  });
});

describe('corrupt and missing inputs', () => {
  function mnistDir(mutate: (files: Record<string, Uint8Array>) => void, gzip = false): string {
    const dir = fresh();
    const files = idxFiles(fakeSplit(8, 784, 10, 1), fakeSplit(4, 784, 10, 2));
    mutate(files);
    writeFiles(join(dir, 'mnist'), files, gzip);
    return dir;
  }

  it('rejects a wrong IDX magic number, naming the file', () => {
    const dir = mnistDir((f) => (f['train-images-idx3-ubyte']![3] = 1));
    expectFormatError(
      () => loadDataset('mnist', { dataDir: dir }),
      join(dir, 'mnist', 'train-images-idx3-ubyte'),
      /wrong magic number 0x00000801, expected 0x00000803/,
    );
    const dir2 = mnistDir((f) => (f['t10k-labels-idx1-ubyte']![2] = 9));
    expectFormatError(
      () => loadDataset('mnist', { dataDir: dir2 }),
      't10k-labels',
      /wrong magic number 0x00000901/,
    );
  });

  it('rejects images whose dimensions do not match the dataset', () => {
    const dir = mnistDir(
      (f) => (f['t10k-images-idx3-ubyte'] = idxImages(4, 32, 24, new Uint8Array(4 * 768))),
    );
    expectFormatError(
      () => loadDataset('mnist', { dataDir: dir }),
      't10k-images',
      /images are 32x24, expected 28x28/,
    );
  });

  it('rejects truncated files, extra bytes and count mismatches', () => {
    const cut = mnistDir(
      (f) => (f['train-images-idx3-ubyte'] = f['train-images-idx3-ubyte']!.subarray(0, 1000)),
    );
    expectFormatError(() => loadDataset('mnist', { dataDir: cut }), 'train-images', /truncated: 1000 bytes/);
    const header = mnistDir(
      (f) => (f['train-labels-idx1-ubyte'] = f['train-labels-idx1-ubyte']!.subarray(0, 6)),
    );
    expectFormatError(() => loadDataset('mnist', { dataDir: header }), 'train-labels', /truncated/);
    const extra = mnistDir((f) => {
      const b = f['t10k-labels-idx1-ubyte']!;
      f['t10k-labels-idx1-ubyte'] = Uint8Array.from([...b, 0, 0]);
    });
    expectFormatError(() => loadDataset('mnist', { dataDir: extra }), 't10k-labels', /2 unexpected bytes/);
    const mismatch = mnistDir((f) => (f['train-labels-idx1-ubyte'] = idxLabels(new Uint8Array(7))));
    expectFormatError(
      () => loadDataset('mnist', { dataDir: mismatch }),
      'train-labels',
      /has 7 labels but .*train-images-idx3-ubyte has 8 images/,
    );
    const empty = mnistDir((f) => (f['t10k-images-idx3-ubyte'] = idxImages(0, 28, 28, new Uint8Array(0))));
    expectFormatError(() => loadDataset('mnist', { dataDir: empty }), /contains no images/);
  });

  it('rejects labels out of range', () => {
    const dir = mnistDir((f) => (f['train-labels-idx1-ubyte']![8 + 5] = 10), true);
    expectFormatError(
      () => loadDataset('mnist', { dataDir: dir }),
      'train-labels-idx1-ubyte.gz',
      /label 10 of record 5 is out of range \(expected 0-9\)/,
    );
    const { train, test } = fakeCifar10(5, 3);
    const files = cifar10Files(train, test);
    files['test_batch.bin']![3073 * 2] = 200;
    const c10 = fresh();
    writeFiles(join(c10, 'cifar-10-batches-bin'), files);
    expectFormatError(
      () => loadDataset('cifar10', { dataDir: c10 }),
      'test_batch.bin',
      /label 200 of record 2/,
    );

    const c100 = fakeCifar100(4, 2);
    const fine = cifar100Files(c100.train, c100.test);
    fine['train.bin']![3074 + 1] = 100;
    const d1 = fresh();
    writeFiles(join(d1, 'cifar100'), fine);
    expectFormatError(
      () => loadDataset('cifar100', { dataDir: d1 }),
      'train.bin',
      /label 100 of record 1 .*0-99/,
    );
    const coarse = cifar100Files(c100.train, c100.test);
    coarse['test.bin']![0] = 20;
    const d2 = fresh();
    writeFiles(join(d2, 'cifar100'), coarse);
    expectFormatError(
      () => loadDataset('cifar100', { dataDir: d2 }),
      'test.bin',
      /coarse label 20 of record 0 .*0-19/,
    );
  });

  it('rejects CIFAR files that are not a whole number of records', () => {
    const { train, test } = fakeCifar10(5, 3);
    const dir = fresh();
    const paths = writeFiles(join(dir, 'cifar-10-batches-bin'), cifar10Files(train, test));
    truncateSync(paths[2]!, 3073 - 100);
    expectFormatError(
      () => loadDataset('cifar10', { dataDir: dir }),
      'data_batch_3.bin',
      /size 2973 is not a whole number of 3073-byte records/,
    );
    const c100 = fresh();
    const f = fakeCifar100(2, 2);
    // CIFAR-10-sized records in a CIFAR-100 file
    writeFiles(join(c100, 'cifar100'), {
      'train.bin': cifarBatch(
        f.train.pixels,
        f.train.labels.map((v) => v % 10),
      ),
      'test.bin': cifar100Files(f.train, f.test)['test.bin']!,
    });
    expectFormatError(() => loadDataset('cifar100', { dataDir: c100 }), /3074-byte records/);
  });

  it('rejects unreadable gzip data', () => {
    const dir = fresh();
    const paths = writeIdxDataset(join(dir, 'mnist'), { gzip: true }).paths;
    const bytes = readFileSync(paths[1]!);
    writeFileSync(paths[1]!, bytes.subarray(0, bytes.length - 10));
    expectFormatError(
      () => loadDataset('mnist', { dataDir: dir }),
      'train-labels-idx1-ubyte.gz',
      /unreadable gzip data/,
    );
    writeFileSync(paths[1]!, Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expectFormatError(() => loadDataset('mnist', { dataDir: dir }), /unreadable gzip data/);
  });

  it('rejects archives with a missing member, a corrupt header or truncated data', () => {
    const { train, test } = fakeCifar10(10, 2);
    const files = cifar10Files(train, test);
    delete files['data_batch_3.bin'];
    const dir = fresh();
    const archive = put(join(dir, 'cifar-10-binary.tar.gz'), tarGz('cifar-10-batches-bin', files));
    expectFormatError(
      () => loadDataset('cifar10', { dataDir: dir }),
      archive,
      /missing member cifar-10-batches-bin\/data_batch_3.bin/,
    );
    const garbage = fresh();
    put(join(garbage, 'cifar10', 'cifar-10-binary.tar.gz'), gzipSync(new Uint8Array(2048).fill(65)));
    expectFormatError(() => loadDataset('cifar10', { dataDir: garbage }), /corrupt tar header at byte 0/);
    const cut = fresh();
    const whole = tarGz('cifar-10-batches-bin', cifar10Files(train, test));
    put(join(cut, 'cifar-10-binary.tar.gz'), whole.subarray(0, whole.length >> 1));
    expectFormatError(() => loadDataset('cifar10', { dataDir: cut }), /unreadable gzip data/);
  });

  it('reports a missing dataset with the files looked for, where, and the download command', () => {
    const dir = fresh();
    const e = expectFormatError(
      () => loadDataset('mnist', { dataDir: dir }),
      dir,
      /mnist not found/,
      /train-images-idx3-ubyte.*t10k-labels-idx1-ubyte/,
      /in mnist\//,
      /topdown data download mnist/,
    );
    expect(e).toBeInstanceOf(DataMissingError);
    expectFormatError(
      () => loadDataset('cifar10', { dataDir: join(dir, 'nowhere') }),
      /data_batch_1..5.bin, test_batch.bin/,
      /cifar-10-batches-bin\//,
      /cifar-10-binary.tar.gz in .\/, cifar10\//,
      /topdown data download cifar10/,
    );
  });

  it('names the missing files of an incomplete folder', () => {
    const dir = fresh();
    const paths = writeIdxDataset(join(dir, 'mnist')).paths;
    rmSync(paths[3]!);
    const e = expectFormatError(
      () => loadDataset('mnist', { dataDir: dir }),
      /incomplete mnist files: missing t10k-labels-idx1-ubyte\(\.gz\)/,
      /topdown data download mnist/,
    );
    expect(e).not.toBeInstanceOf(DataMissingError);
  });
});
