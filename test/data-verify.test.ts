import { readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import {
  DATASET_NAMES,
  DATASETS,
  listDatasets,
  parseDatasetName,
  resolveDataDir,
  type OfficialFile,
} from '../src/data/index.js';

import {
  cifar100Files,
  cifar10Files,
  fakeCifar10,
  fakeCifar100,
  put,
  sha256,
  tarGz,
  writeFiles,
  writeIdxDataset,
  freshDirs,
} from './data-fixtures.js';

const fresh = freshDirs();

describe('the dataset table', () => {
  it('describes the four datasets consistently', () => {
    expect(DATASET_NAMES).toEqual(['mnist', 'fashion-mnist', 'cifar10', 'cifar100']);
    for (const name of DATASET_NAMES) {
      const d = DATASETS[name];
      expect(d.name).toBe(name);
      expect(d.features).toBe(d.shape[0] * d.shape[1] * d.shape[2]);
      expect(d.labelNames.length).toBe(d.classes);
      expect(new Set(d.labelNames).size).toBe(d.classes);
      for (const f of d.downloads) {
        expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(f.urls.length).toBeGreaterThan(0);
        for (const url of f.urls) expect(url.endsWith(`/${f.file}`)).toBe(true);
      }
    }
    expect(DATASETS.mnist.downloads[0]!.urls).toEqual([
      'https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz',
      'https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz',
    ]);
    expect(DATASETS.cifar10.downloads[0]!.bytes).toBe(170052171);
    expect(DATASETS.cifar100.coarseLabelNames!.length).toBe(20);
    expect([DATASETS.cifar100.trainCount, DATASETS.cifar100.testCount, DATASETS.cifar100.classes]).toEqual([
      50000, 10000, 100,
    ]);
  });

  it('has the fashion-mnist checksums of the shared copy (byte-identical to the official files)', () => {
    const sums = join(import.meta.dirname, '..', '..', 'shared', 'data', 'SHA256SUMS');
    let text: string;
    try {
      text = readFileSync(sums, 'utf8');
    } catch {
      return;
    }
    for (const f of DATASETS['fashion-mnist'].downloads) {
      expect(text).toContain(`${f.sha256}  fashion-mnist/${f.file}`);
    }
  });

  it('parses dataset names', () => {
    expect(parseDatasetName('cifar100')).toBe('cifar100');
    expect(() => parseDatasetName('imagenet')).toThrow(TopdownUsageError);
    expect(() => parseDatasetName('imagenet')).toThrow(/mnist, fashion-mnist, cifar10, cifar100/);
  });
});

describe('resolveDataDir', () => {
  const home = '/home/someone';
  it('refuses a TOPDOWN_DATA with control characters in one line naming it', () => {
    const env = { TOPDOWN_DATA: '/data\u001b[2J\nforged' };
    expect(() => resolveDataDir(undefined, { env, platform: 'linux', home })).toThrow(
      'TOPDOWN_DATA "/data\\x1b[2J\\nforged" holds a control character; name a folder',
    );
  });
  it('prefers the flag, then TOPDOWN_DATA, then the per-user cache folder', () => {
    const env = { TOPDOWN_DATA: '/env/data', XDG_CACHE_HOME: '/xdg' };
    expect(resolveDataDir('/flag/data', { env, platform: 'linux', home })).toBe('/flag/data');
    expect(resolveDataDir('rel', { env, platform: 'linux', home })).toBe(resolve('rel'));
    expect(resolveDataDir(undefined, { env, platform: 'linux', home })).toBe('/env/data');
    expect(resolveDataDir('', { env, platform: 'linux', home })).toBe('/env/data');
    expect(resolveDataDir(undefined, { env: { XDG_CACHE_HOME: '/xdg' }, platform: 'linux', home })).toBe(
      '/xdg/topdown/data',
    );
    expect(resolveDataDir(undefined, { env: {}, platform: 'linux', home })).toBe(
      `${home}/.cache/topdown/data`,
    );
    expect(resolveDataDir(undefined, { env: { XDG_CACHE_HOME: 'relative' }, platform: 'darwin', home })).toBe(
      `${home}/.cache/topdown/data`,
    );
    expect(
      resolveDataDir(undefined, {
        env: { LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' },
        platform: 'win32',
        home,
      }),
    ).toBe('C:\\Users\\me\\AppData\\Local\\topdown\\data');
  });

  it('uses the real environment by default', () => {
    const saved = process.env.TOPDOWN_DATA;
    try {
      process.env.TOPDOWN_DATA = '/from/env';
      expect(resolveDataDir()).toBe('/from/env');
      delete process.env.TOPDOWN_DATA;
      const expected = process.env.XDG_CACHE_HOME?.startsWith('/')
        ? join(process.env.XDG_CACHE_HOME, 'topdown', 'data')
        : join(homedir(), '.cache', 'topdown', 'data');
      if (process.platform !== 'win32') expect(resolveDataDir()).toBe(expected);
    } finally {
      if (saved === undefined) delete process.env.TOPDOWN_DATA;
      else process.env.TOPDOWN_DATA = saved;
    }
  });
});

describe('listDatasets', () => {
  it('reports missing datasets for an empty or absent folder', () => {
    for (const dir of [fresh(), join(fresh(), 'absent')]) {
      const list = listDatasets(dir);
      expect(list.map((s) => s.name)).toEqual([...DATASET_NAMES]);
      for (const s of list) {
        expect(s.status).toBe('missing');
        expect(s.detail).toMatch(new RegExp(`topdown data download ${s.name}`));
        expect(s.files).toEqual([]);
        expect(s.where).toBe(join(dir, DATASETS[s.name].downloadFolder));
      }
    }
  });

  it('tells valid, verified and invalid datasets apart', () => {
    const dir = fresh();
    // mnist: gzipped files, not the official bytes -> valid
    const mnist = writeIdxDataset(join(dir, 'mnist'), { gzip: true });
    // fashion-mnist: corrupt -> invalid
    const fashion = writeIdxDataset(join(dir, 'fashion-mnist'), { gzip: false });
    put(fashion.paths[2]!, new Uint8Array(10));
    // cifar10: loose batches -> valid (no official checksums for extracted files)
    const c10 = fakeCifar10();
    writeFiles(join(dir, 'cifar-10-batches-bin'), cifar10Files(c10.train, c10.test), true);
    // cifar100: archive whose checksum we declare official -> verified
    const c100 = fakeCifar100();
    const archive = put(
      join(dir, 'cifar100', 'cifar-100-binary.tar.gz'),
      tarGz('cifar-100-binary', cifar100Files(c100.train, c100.test)),
    );
    const official100: OfficialFile[] = [
      { file: 'cifar-100-binary.tar.gz', sha256: sha256(readFileSync(archive)), urls: ['https://example/x'] },
    ];
    const checked: string[] = [];
    const list = listDatasets(dir, { official: { cifar100: official100 }, onCheck: (n) => checked.push(n) });
    expect(checked).toEqual([...DATASET_NAMES]);
    const byName = Object.fromEntries(list.map((s) => [s.name, s]));

    expect(byName.mnist!.status).toBe('valid');
    expect(byName.mnist!.detail).toMatch(
      /^30 train \/ 12 test \(official: 60000 \/ 10000\); format checks passed/,
    );
    expect(byName.mnist!.detail).toMatch(/SHA-256 differs from the official train-images-idx3-ubyte.gz/);
    expect(byName.mnist!.files).toEqual(mnist.paths);
    expect(byName.mnist!.where).toBe(join(dir, 'mnist'));

    expect(byName['fashion-mnist']!.status).toBe('invalid');
    expect(byName['fashion-mnist']!.detail).toMatch(/t10k-images-idx3-ubyte: wrong magic number/);

    expect(byName.cifar10!.status).toBe('valid');
    expect(byName.cifar10!.detail).toMatch(/not the official files/);
    expect(byName.cifar10!.files.length).toBe(6);

    expect(byName.cifar100!.status).toBe('verified');
    expect(byName.cifar100!.files).toEqual([archive]);
    expect(byName.cifar100!.detail).toMatch(/20 train \/ 6 test .*matches the official/);

    // with the checksums of the generated mnist files declared official, mnist is verified too
    const officialMnist = mnist.paths.map((p) => ({
      file: p.slice(p.lastIndexOf('/') + 1),
      sha256: sha256(readFileSync(p)),
      urls: ['https://example/x'],
    }));
    const [m] = listDatasets(dir, { names: ['mnist'], official: { mnist: officialMnist } });
    expect(m!.status).toBe('verified');
  });

  it('reports an incomplete folder as invalid', () => {
    const dir = fresh();
    const { paths } = writeIdxDataset(join(dir, 'mnist'));
    rmSync(paths[0]!);
    const [s] = listDatasets(dir, { names: ['mnist'] });
    expect(s!.status).toBe('invalid');
    expect(s!.detail).toMatch(/missing train-images-idx3-ubyte/);
  });
});
