import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWasmEngine } from '../src/core/wasm-node.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { TrainingSession } from '../src/train/trainer.js';

import { BROWSER_RUN } from './browser/train-run.js';
import { syntheticDataset } from './synthetic-data.js';

const root = join(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';

/**
 * The page of test/browser/engine-page.ts, bundled, served on loopback: under /isolated/ with the headers
 * that make a page cross-origin isolated (threads), under /plain/ without them.
 */
async function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const [, mode, ...rest] = (req.url ?? '/').split('/');
    const [path = '', query = ''] = rest.join('/').split('?');
    const script = query === 'train' ? 'train.js' : 'page.js';
    const html = `<!doctype html><meta charset="utf-8"><script type="module" src="${script}"></script>`;
    if (mode === 'isolated') {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    if (path === '' || path === 'index.html') {
      res.setHeader('Content-Type', 'text/html');
      res.end(html);
    } else if (path === 'page.js' || path === 'train.js') {
      res.setHeader('Content-Type', 'text/javascript');
      res.end(readFileSync(join(dir, path)));
    } else if (/^wasm\/kernels-[a-z-]+\.wasm$/.test(path)) {
      res.setHeader('Content-Type', 'application/wasm');
      res.end(readFileSync(join(root, path)));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe.runIf(existsSync(CHROMIUM) || process.env.CI)('the wasm engine in Chromium', () => {
  let dir = '';
  let server: Server;
  let browser: Browser;
  let base = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'topdown-browser-'));
    // platform browser: a Node module anywhere in what the pages import fails the build
    for (const [entry, out] of [
      ['engine-page.ts', 'page.js'],
      ['train-page.ts', 'train.js'],
    ]) {
      await build({
        entryPoints: [join(root, 'test/browser', entry!)],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        outfile: join(dir, out!),
        logLevel: 'silent',
      });
    }
    server = await serve(dir);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function result(mode: string, query = ''): Promise<Record<string, unknown>> {
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/${mode}/${query}`);
      const handle = await page.waitForFunction(() => (globalThis as { __result?: unknown }).__result, null, {
        timeout: 60_000,
      });
      return (await handle.jsonValue()) as Record<string, unknown>;
    } finally {
      await page.close();
    }
  }

  it('a cross-origin isolated page gets a shared memory and 2 threads, and the GEMM is right', async () => {
    const r = await result('isolated');
    expect(r.error).toBeUndefined();
    expect(r.isolated).toBe(true);
    expect(r.info).toMatchObject({ name: 'wasm', threads: 2, wasmSharedMemory: true });
    expect(r.allReady).toBe(true);
    expect(r.readyThreads).toBe(2);
    expect(r.maxDiff as number).toBeLessThan(1e-3);
    expect(r.bitsEqualAcrossCalls).toBe(true);
  }, 90_000);

  it('a page that is not isolated runs one thread on an unshared memory, with the same results', async () => {
    const r = await result('plain');
    expect(r.error).toBeUndefined();
    expect(r.isolated).toBe(false);
    expect(r.info).toMatchObject({ name: 'wasm', threads: 1, wasmSharedMemory: false });
    expect(r.maxDiff as number).toBeLessThan(1e-3);
  }, 90_000);

  it('trains a seeded session in the page as Node trains it: the same numbers on every run', async () => {
    const r = await result('isolated', '?train');
    expect(r.error).toBeUndefined();
    const epochs = r.epochs as Record<string, number>[];
    expect(epochs).toHaveLength(2);
    expect(r.again).toEqual(epochs);
    expect(epochs[1]!.test_acc).toBeGreaterThan(0.5);
    // the same session in Node (wasm engine, same seed and data): the same training to within float32
    // rounding (the browser's kernels may fuse multiply-adds where Node 20's do not)
    const made = createWasmEngine(2);
    if ('reason' in made) throw new Error(made.reason);
    await made.engine.whenThreadsReady();
    const node = new TrainingSession(resolveTrainConfig(BROWSER_RUN), syntheticDataset(2), made.engine).run();
    node.epochs.forEach((e, i) => {
      expect(epochs[i]!.train_loss).toBeCloseTo(e.train_loss, 4);
      expect(epochs[i]!.test_acc).toBeCloseTo(e.test_acc, 2);
    });
  }, 120_000);
});
