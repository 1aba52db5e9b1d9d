// The browser app end to end: `topdown web` serves the built app and a data folder; Debian's Chromium, driven
// headless by playwright-core, trains in the page, follows a shared link, reads a dropped corrupt file, exports
// a checkpoint that `topdown eval` accepts, and runs the theory panel. Screenshots go to test-output/.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { syntheticMnistFiles } from './web-helpers.js';

const root = join(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';
const CLI = join(root, 'dist/cli/main.js');
const SHARED = join(root, '..', 'shared', 'data');
const OUTPUT = join(root, 'test-output');
/** Real MNIST when the shared copy is beside the checkout, else a learnable synthetic task in MNIST's files. */
const REAL =
  !process.env.TOPDOWN_TEST_SYNTHETIC && existsSync(join(SHARED, 'mnist', 't10k-labels-idx1-ubyte.gz'));
const RUN = REAL
  ? 'data=mnist&rule=pepita&hidden=256&epochs=1&train-subset=10000&test-subset=2000'
  : 'data=mnist&rule=pepita&hidden=64&epochs=1&train-subset=2000&test-subset=500';

/** The page's globals as the functions evaluated in it use them (this file is type-checked without the DOM). */
interface PageGlobals {
  document: {
    getElementById(id: string): { textContent: string | null } | null;
    querySelector(selector: string): unknown;
    documentElement: { scrollWidth: number };
  };
  __topdown: {
    status: string;
    runs: PageRun[];
    charts: { drawn: Map<string, { series: string; y: number }[]> };
    theory: { last: { curves: { kind: string; rule: string }[] } };
  };
}

interface PageRun {
  epochs: { epoch: number; test_acc: number; train_loss: number }[];
  label: string;
}

/** Waits until the page has its engine and the dataset (its status asks for Train). */
async function dataLoaded(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      (globalThis as unknown as PageGlobals).document
        .getElementById('status')
        ?.textContent?.includes('Press Train'),
    null,
    { timeout: 60_000 },
  );
}

async function trainedRuns(page: Page): Promise<PageRun[]> {
  await dataLoaded(page);
  await page.click('#train');
  await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__topdown.status === 'done', null, {
    timeout: 120_000,
  });
  return page.evaluate(() => (globalThis as unknown as PageGlobals).__topdown.runs);
}

describe.runIf(existsSync(CHROMIUM) || process.env.CI)('the browser app, served by topdown web', () => {
  let server: ChildProcess;
  let url = '';
  let browser: Browser;
  let dataDir = '';

  beforeAll(async () => {
    if (REAL) dataDir = SHARED;
    else {
      dataDir = mkdtempSync(join(tmpdir(), 'topdown-web-data-'));
      mkdirSync(join(dataDir, 'mnist'));
      for (const f of syntheticMnistFiles(3, 2000, 500))
        writeFileSync(join(dataDir, 'mnist', f.name), f.bytes);
    }
    mkdirSync(OUTPUT, { recursive: true });
    server = spawn(process.execPath, [CLI, 'web', '--data-dir', dataDir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = /^(http:\/\/127\.0\.0\.1:\d+\/)\n/m.exec(out);
        if (line) resolve(line[1]!);
      });
      server.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      server.on('close', (code) => reject(new Error(`topdown web exited (${code}): ${err}`)));
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const closed = new Promise((resolve) => server.on('close', resolve));
      server.kill('SIGINT'); // Ctrl-C stops it
      await closed;
    }
  });

  it('serves the app cross-origin isolated, with the data folder indexed', async () => {
    const response = await fetch(url);
    expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const index = (await (await fetch(`${url}data/index.json`)).json()) as { datasets: { name: string }[] };
    expect(index.datasets.map((d) => d.name)).toContain('mnist');
    expect((await fetch(`${url}data/../package.json`)).status).toBe(404);
    expect((await fetch(`${url}data/mnist/../../etc/passwd`)).status).toBe(404);
  });

  it('trains one epoch live, above 80% on the chart, and a shared link reproduces it', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}?${RUN}`);
    const runs = await trainedRuns(page);
    const acc = runs[0]!.epochs[0]!.test_acc;
    expect(acc).toBeGreaterThan(0.8);
    // the accuracy chart holds the point and drew it
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageGlobals).document.querySelector(
          '#chart-accuracy svg .mark-symbol path, #chart-accuracy svg .mark-line path',
        ),
      null,
      { timeout: 10_000 },
    );
    // the chart is redrawn at most every 0.7 s: the epoch's point arrives with a redraw
    const testPointAbove80 = () =>
      page.evaluate(() =>
        ((globalThis as unknown as PageGlobals).__topdown.charts.drawn.get('accuracy') ?? []).some(
          (p) => p.series === 'pepita: test' && p.y > 80,
        ),
      );
    await expect.poll(testPointAbove80, { timeout: 10_000 }).toBe(true);
    await expect
      .poll(() => page.textContent('#figures'))
      .toContain(`test accuracy ${(100 * acc).toFixed(1)}%`);
    // the engine ran threads: the page is cross-origin isolated
    expect(await page.textContent('#status')).toMatch(/wasm engine, 2 threads \(shared memory\)/);
    await page.screenshot({ path: join(OUTPUT, 'web-trainer.png'), fullPage: true });
    // on a phone-sized viewport nothing runs off the side
    await page.setViewportSize({ width: 390, height: 844 });
    await expect
      .poll(() =>
        page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth),
      )
      .toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(OUTPUT, 'web-trainer-phone.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    // the link the page shares reproduces the run exactly
    await page.click('#share');
    const link = /Link to these settings \(copied\): (\S+)/.exec(
      (await page.textContent('#status')) ?? '',
    )![1]!;
    expect(link).toContain('train-subset=');
    const again = await browser.newPage();
    await again.goto(link);
    const rerun = await trainedRuns(again);
    expect(rerun[0]!.epochs).toHaveLength(1);
    expect(rerun[0]!.epochs[0]!.test_acc).toBe(acc);
    expect(rerun[0]!.epochs[0]!.train_loss).toBe(runs[0]!.epochs[0]!.train_loss);
    // and equals the command line's run of the same settings
    if (REAL) {
      const cli = spawnSync(
        process.execPath,
        [
          CLI,
          'train',
          '--rule',
          'pepita',
          '--hidden',
          '256',
          '--epochs',
          '1',
          '--train-subset',
          '10000',
          '--test-subset',
          '2000',
          '--data-dir',
          dataDir,
          '--engine',
          'wasm',
          '--out',
          mkdtempSync(join(tmpdir(), 'topdown-web-cli-')),
          '--overwrite',
        ],
        { encoding: 'utf8' },
      );
      expect(cli.status).toBe(0);
      expect(cli.stderr + cli.stdout).toContain(`test accuracy ${(100 * acc).toFixed(2)}%`);
    }
    expect(errors).toEqual([]);
    await again.close();

    // export: checkpoint.bin, metrics.jsonl and config.json make a run folder `topdown eval` reads
    const folder = mkdtempSync(join(tmpdir(), 'topdown-web-export-'));
    const downloads: Promise<void>[] = [];
    page.on('download', (d) => downloads.push(d.saveAs(join(folder, d.suggestedFilename()))));
    await page.click('#export');
    await expect.poll(() => downloads.length, { timeout: 20_000 }).toBe(3);
    await Promise.all(downloads);
    const evaluated = spawnSync(process.execPath, [CLI, 'eval', folder, '--data-dir', dataDir, '--json'], {
      encoding: 'utf8',
    });
    expect(evaluated.stderr).toBe('');
    expect(evaluated.status).toBe(0);
    const result = JSON.parse(evaluated.stdout) as { test_acc: number; epochs: number };
    expect(result.epochs).toBe(1);
    expect(result.test_acc).toBeCloseTo(acc, 6);
    const exportedCheckpoint = join(mkdtempSync(join(tmpdir(), 'topdown-web-ckpt-')), 'checkpoint.bin');
    copyFileSync(join(folder, 'checkpoint.bin'), exportedCheckpoint);
    // ... and `topdown train --resume` continues it
    const resumed = spawnSync(
      process.execPath,
      [CLI, 'train', '--resume', folder, '--epochs', '2', '--data-dir', dataDir],
      {
        encoding: 'utf8',
      },
    );
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/epoch 2\/2/);
    // the page continues a run folder's checkpoint: its history shown, trained on to the form's epochs
    const cont = await browser.newPage();
    await cont.goto(`${url}?${RUN.replace('epochs=1', 'epochs=2')}`);
    await dataLoaded(cont);
    await cont.setInputFiles('#import-files', exportedCheckpoint);
    await cont.waitForFunction(
      () => (globalThis as unknown as PageGlobals).__topdown.runs[0]?.epochs.length === 1,
      null,
      { timeout: 20_000 },
    );
    await cont.click('#pause'); // Resume: the run goes on from its checkpoint
    await cont.waitForFunction(
      () => (globalThis as unknown as PageGlobals).__topdown.status === 'done',
      null,
      { timeout: 120_000 },
    );
    const continued = await cont.evaluate(() =>
      (globalThis as unknown as PageGlobals).__topdown.runs[0]!.epochs.map((e) => e.epoch),
    );
    expect(continued).toEqual([1, 2]);
    // a run folder's metrics.jsonl alone is shown (here the command line's resumed run: 2 epochs)
    await cont.setInputFiles('#import-files', join(folder, 'metrics.jsonl'));
    await cont.waitForFunction(
      () => (globalThis as unknown as PageGlobals).__topdown.runs[0]?.label === 'metrics.jsonl (viewed)',
    );
    expect(
      await cont.evaluate(() => (globalThis as unknown as PageGlobals).__topdown.runs[0]!.epochs.length),
    ).toBe(2);
    await cont.close();
    await page.close();
  });

  it("shows the loader's message for a dropped corrupt file", async () => {
    const page = await browser.newPage();
    await page.goto(`${url}?data=mnist`);
    await dataLoaded(page);
    const files = syntheticMnistFiles(3, 100, 50);
    // the test images replaced by a labels file under the images' name
    const dropped = files.map((f) => ({
      name: f.name,
      mimeType: 'application/gzip',
      buffer: Buffer.from(f.name.startsWith('t10k-images') ? files[3]!.bytes : f.bytes),
    }));
    await page.setInputFiles('#data-files', dropped);
    await expect
      .poll(() => page.textContent('#message'), { timeout: 20_000 })
      .toBe(
        't10k-images-idx3-ubyte.gz: wrong magic number 0x00000801, expected 0x00000803 (IDX images: unsigned bytes, 3 dimensions)',
      );
    // the same bytes on disk: the command line says the same about the file
    const dir = mkdtempSync(join(tmpdir(), 'topdown-web-bad-'));
    mkdirSync(join(dir, 'mnist'));
    for (const f of dropped) writeFileSync(join(dir, 'mnist', f.name), f.buffer);
    const cli = spawnSync(process.execPath, [CLI, 'train', '--data-dir', dir, '--epochs', '1'], {
      encoding: 'utf8',
    });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain(
      `t10k-images-idx3-ubyte.gz: wrong magic number 0x00000801, expected 0x00000803`,
    );
    await page.close();
  });

  it('draws the theory panel: ODE curves and the simulations overlaid', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${url}?tab=theory&theory-D=100&theory-tMax=300`);
    await expect
      .poll(() => page.textContent('#theory-status'), { timeout: 90_000 })
      .toMatch(/simulations overlaid/);
    const kinds = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).__topdown.theory.last.curves.map((c) => `${c.kind}:${c.rule}`),
    );
    expect(kinds.sort()).toEqual(['ode:bp', 'ode:dfa', 'ode:pepita', 'sim:bp', 'sim:dfa', 'sim:pepita']);
    // moving a slider recomputes the ODEs at once (the simulations follow)
    await page.focus('#theory-lr');
    await page.keyboard.press('ArrowRight');
    await expect
      .poll(() => page.textContent('#theory-status'))
      .toMatch(/ODEs of pepita, dfa, bp in \d+ ms|simulating/);
    expect(page.url()).toContain('theory-lr=');
    await page.screenshot({ path: join(OUTPUT, 'web-theory.png'), fullPage: true });
    await page.close();
  });

  it("holds a link's theory values to the sliders: the tab stays responsive", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // D = 10^9 once sampled a 10^9-wide teacher on the page's thread, and the tab froze
    await page.goto(`${url}?tab=theory&theory-D=1e9&theory-tMax=1e15`);
    await expect
      .poll(() => page.textContent('#theory-status'), { timeout: 60_000 })
      .toMatch(/ODEs of|simulating/);
    expect(await page.inputValue('#theory-D')).toBe('1000');
    expect(await page.textContent('output[for="theory-D"]')).toBe('1000');
    expect(await page.inputValue('#theory-tMax')).toBe('4000');
    expect(await page.textContent('#url-notice')).toContain(
      'theory-D=1e9 is outside the slider (50 to 1000): 1000 used',
    );
    expect(page.url()).toContain('theory-D=1000&theory-tMax=4000');
    // the page answers at once, and its controls work
    const started = Date.now();
    await page.evaluate(() => 1);
    expect(Date.now() - started).toBeLessThan(5_000);
    await page.focus('#theory-D');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => page.textContent('output[for="theory-D"]')).toBe('950');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('stops on Ctrl-C', async () => {
    const child = spawn(process.execPath, [CLI, 'web', '--data-dir', dataDir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    const closed = new Promise<string>((resolve) =>
      child.on('close', (code, signal) => resolve(`${code} ${signal}`)),
    );
    child.kill('SIGINT');
    expect(`${await closed} ${err}`).toMatch(/^0 null /);
    expect(err).toContain('topdown web: stopped');
  });
});
