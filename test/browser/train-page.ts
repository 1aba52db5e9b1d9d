// Bundled by test/wasm-browser.test.ts and run in Chromium: a seeded training session on the wasm engine,
// built from the same library modules the CLI trains with.
import { createBrowserWasmEngine } from '../../src/core/wasm-browser.js';
import { resolveTrainConfig } from '../../src/train/config.js';
import { TrainingSession } from '../../src/train/trainer.js';
import { syntheticDataset } from '../synthetic-data.js';

import { BROWSER_RUN } from './train-run.js';

async function run(): Promise<unknown[]> {
  const engine = await createBrowserWasmEngine({
    kernelsUrl: new URL('./wasm/', (globalThis as unknown as { location: { href: string } }).location.href),
    threads: 2,
  });
  await engine.whenThreadsReady(10000);
  const session = new TrainingSession(resolveTrainConfig(BROWSER_RUN), syntheticDataset(2), engine);
  return session.run().epochs.map((e) => ({ ...e, seconds: 0, samples_per_s: 0 }));
}

async function main(): Promise<{ epochs?: unknown[]; again?: unknown[]; error?: string }> {
  return { epochs: await run(), again: await run() };
}

const target = globalThis as unknown as { __result?: unknown };
main().then(
  (r) => (target.__result = r),
  (e: unknown) => (target.__result = { error: String((e as Error)?.stack ?? e) }),
);
