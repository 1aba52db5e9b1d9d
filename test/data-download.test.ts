import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { TopdownUnavailableError } from '../src/core/errors.js';
import {
  DataFormatError,
  downloadDataset,
  loadDataset,
  type DownloadProgress,
  type FetchLike,
  type OfficialFile,
} from '../src/data/index.js';

import { idxFiles, fakeSplit, patternBytes, sha256, freshDirs } from './data-fixtures.js';
import { gzipSync } from 'node:zlib';

const fresh = freshDirs();

/** A fetch that serves `files` (url -> bytes) in chunks, and fails like an offline machine otherwise. */
function fakeFetch(files: Record<string, Uint8Array>, calls: string[] = []): FetchLike {
  return async (url) => {
    calls.push(url);
    const bytes = files[url];
    if (bytes === undefined) {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }),
      });
    }
    if (bytes.length === 0) return new Response('not here', { status: 404 });
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(at, at + 1000));
        at += 1000;
      },
    });
    return new Response(body, { headers: { 'content-length': String(bytes.length) } });
  };
}

describe('downloadDataset', () => {
  it('downloads every file, trying mirrors in order, and the result loads', async () => {
    const dir = fresh();
    const generated = idxFiles(fakeSplit(6, 784, 10, 1), fakeSplit(3, 784, 10, 2));
    const served: Record<string, Uint8Array> = {};
    const official: OfficialFile[] = Object.entries(generated).map(([name, bytes]) => {
      const gz = gzipSync(bytes);
      served[`https://mirror2/${name}.gz`] = gz;
      return {
        file: `${name}.gz`,
        sha256: sha256(gz),
        urls: [`https://mirror1/${name}.gz`, `https://mirror2/${name}.gz`],
      };
    });
    const calls: string[] = [];
    const progress: DownloadProgress[] = [];
    const result = await downloadDataset('mnist', dir, {
      fetchImpl: fakeFetch(served, calls),
      files: official,
      onProgress: (p) => progress.push(p),
    });
    expect(result.folder).toBe(join(dir, 'mnist'));
    expect(result.files.map((f) => f.url)).toEqual(official.map((f) => f.urls[1]));
    expect(calls.slice(0, 2)).toEqual(official[0]!.urls);
    expect(readdirSync(join(dir, 'mnist')).sort()).toEqual(official.map((f) => f.file).sort());
    for (const f of official) expect(sha256(readFileSync(join(dir, 'mnist', f.file)))).toBe(f.sha256);
    const last = progress.filter((p) => p.index === 0).at(-1)!;
    expect(last.received).toBe(last.total);
    expect(last.files).toBe(4);
    expect(loadDataset('mnist', { dataDir: dir }).train.count).toBe(6);

    // a second run keeps the files already in place without fetching
    const again: string[] = [];
    const second = await downloadDataset('mnist', dir, { fetchImpl: fakeFetch({}, again), files: official });
    expect(again).toEqual([]);
    expect(second.files.every((f) => f.url === null)).toBe(true);
  });

  it('rejects a file with the wrong checksum and leaves nothing behind', async () => {
    const dir = fresh();
    const bytes = patternBytes(5000, 1);
    const files: OfficialFile[] = [
      { file: 'cifar-10-binary.tar.gz', sha256: sha256(patternBytes(5000, 2)), urls: ['https://a/x'] },
    ];
    const error = await downloadDataset('cifar10', dir, {
      fetchImpl: fakeFetch({ 'https://a/x': bytes }),
      files,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toMatch(
      /downloaded cifar-10-binary.tar.gz has SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}; nothing was kept/,
    );
    expect(error.message).not.toMatch(/\n/);
    expect(existsSync(join(dir, 'cifar10'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);

    // an existing folder is kept, but still holds nothing new; a stale wrong file is replaced only on success
    const folder = join(dir, 'cifar10');
    const stale = join(folder, 'cifar-10-binary.tar.gz');
    await downloadDataset('cifar10', dir, {
      fetchImpl: fakeFetch({ 'https://a/x': bytes }),
      files: [{ ...files[0]!, sha256: sha256(bytes) }],
    });
    writeFileSync(stale, 'stale');
    await expect(
      downloadDataset('cifar10', dir, { fetchImpl: fakeFetch({ 'https://a/x': bytes }), files }),
    ).rejects.toThrow(DataFormatError);
    expect(readdirSync(folder)).toEqual(['cifar-10-binary.tar.gz']);
    expect(readFileSync(stale, 'utf8')).toBe('stale');
  });

  it('says the machine is offline and how to place files manually', async () => {
    const dir = fresh();
    const error = await downloadDataset('fashion-mnist', dir, { fetchImpl: fakeFetch({}) }).catch((e) => e);
    expect(error).toBeInstanceOf(TopdownUnavailableError);
    expect(error.message).not.toMatch(/\n/);
    expect(error.message).toMatch(
      /cannot download fashion-mnist: this machine has no internet access \(.*ENOTFOUND\)/,
    );
    expect(error.message).toContain(join(dir, 'fashion-mnist'));
    expect(error.message).toContain(
      'train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz from http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    );
    expect(error.message).toMatch(/--data-dir/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports HTTP errors from every mirror', async () => {
    const dir = fresh();
    const files: OfficialFile[] = [
      { file: 'a.gz', sha256: '0'.repeat(64), urls: ['https://m1/a.gz', 'https://m2/a.gz'] },
    ];
    const fetchImpl = fakeFetch({ 'https://m1/a.gz': new Uint8Array(0) });
    await expect(downloadDataset('mnist', dir, { fetchImpl, files })).rejects.toThrow(
      /cannot download a.gz for mnist: https:\/\/m1\/a.gz: HTTP 404; m2: ENOTFOUND/,
    );
  });

  it('gives up on a mirror that stops sending data', async () => {
    const dir = fresh();
    const files: OfficialFile[] = [{ file: 'a.gz', sha256: '0'.repeat(64), urls: ['https://slow/a.gz'] }];
    const fetchImpl: FetchLike = async (_url, init) =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new Uint8Array(10));
            init.signal.addEventListener('abort', () => controller.error(init.signal.reason));
          },
        }),
      );
    const error = await downloadDataset('mnist', dir, { fetchImpl, files, idleTimeoutMs: 50 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(TopdownUnavailableError);
    expect(error.message).toMatch(/interrupted \(no data for 50 ms\)/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
