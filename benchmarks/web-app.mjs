/* global document, window -- the functions handed to page.evaluate run in the page */
// The browser app measured and pictured: `topdown web` serves it, Debian's Chromium (headless, through
// playwright-core) trains in the page, and the command line's wasm engine trains the same run in the same
// session (alternating, best of the rounds), so the two speeds are compared on one machine at one time.
//   node benchmarks/web-app.mjs [--data-dir DIR] [--rounds N] [--screenshots DIR]
// Screenshots (trainer with two rules side by side, theory panel) are written when --screenshots is given.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '../shared/data' },
    rounds: { type: 'string', default: '2' },
    screenshots: { type: 'string' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist/cli/main.js');
const dataDir = values['data-dir'];
const RUN = ['--rule', 'pepita', '--data', 'mnist', '--hidden', '1024', '--epochs', '1'];
const QUERY = 'data=mnist&rule=pepita&hidden=1024&epochs=1';

const server = spawn(process.execPath, [cli, 'web', '--data-dir', dataDir, '--port', '0'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /^(http:\S+)\n/m.exec(out);
    if (m) resolve(m[1]);
  });
});
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});

async function trainInPage(query, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  await page.goto(`${url}?${query}`);
  await page.waitForFunction(
    () => document.getElementById('status')?.textContent?.includes('Press Train'),
    null,
    { timeout: 120000 },
  );
  await page.click('#train');
  await page.waitForFunction(() => window.__topdown.status === 'done', null, { timeout: 1800000 });
  const runs = await page.evaluate(() => window.__topdown.runs);
  const engine = await page.textContent('#status');
  return { page, runs, engine };
}

function trainInCli() {
  const out = mkdtempSync(join(tmpdir(), 'topdown-web-bench-'));
  const r = spawnSync(
    process.execPath,
    [cli, 'train', ...RUN, '--engine', 'wasm', '--data-dir', dataDir, '--out', out],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]);
}

const rows = [];
for (let i = 0; i < Number(values.rounds); i++) {
  const { page, runs, engine } = await trainInPage(QUERY);
  await page.close();
  const web = runs[0].epochs[0];
  const node = trainInCli();
  rows.push({
    web: web.samples_per_s,
    cli: node.samples_per_s,
    webAcc: web.test_acc,
    cliAcc: node.test_acc,
    engine,
  });
  console.log(
    `round ${i + 1}: page ${web.samples_per_s.toFixed(0)} samples/s (test ${(100 * web.test_acc).toFixed(2)}%), CLI wasm ${node.samples_per_s.toFixed(0)} samples/s (test ${(100 * node.test_acc).toFixed(2)}%)`,
  );
}
const best = (k) => Math.max(...rows.map((r) => r[k]));
console.log(`\n${rows[0].engine.split('.')[0]}`);
console.log(`| run | page (samples/s) | CLI --engine wasm (samples/s) | page / CLI |\n|---|---|---|---|`);
console.log(
  `| \`train ${RUN.join(' ')}\`, best of ${rows.length} | ${best('web').toFixed(0)} | ${best('cli').toFixed(0)} | ${(best('web') / best('cli')).toFixed(2)} |`,
);

if (values.screenshots) {
  const { page } = await trainInPage(
    'data=mnist&rule=pepita,bp&hidden=256&epochs=3&train-subset=10000&test-subset=2000',
  );
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(values.screenshots, 'web-trainer.png'), fullPage: true });
  await page.close();
  const theory = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await theory.goto(`${url}?tab=theory`);
  await theory.waitForFunction(
    () => document.getElementById('theory-status')?.textContent?.includes('overlaid'),
    null,
    { timeout: 300000 },
  );
  await theory.waitForTimeout(1000);
  await theory.screenshot({ path: join(values.screenshots, 'web-theory.png'), fullPage: true });
  console.log(`screenshots in ${values.screenshots}`);
}
await browser.close();
server.kill('SIGINT');
