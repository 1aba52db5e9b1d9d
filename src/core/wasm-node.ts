/**
 * The `wasm` engine in Node: reads the kernels built by `npm run build` (wasm/*.wasm), picks the best build
 * this runtime validates (relaxed SIMD, else plain SIMD) and starts helper threads with worker_threads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import type {} from './wasm-globals.js';
import { WasmEngine, type WasmKernelVariant } from './wasm-engine.js';
import { threadSource, type ThreadInit } from './wasm-threads.js';

/** The built kernels, next to dist/ and src/ alike. */
const WASM_DIR = new URL('../../wasm/', import.meta.url);

/** The kernels chosen for this runtime, or why there are none. */
export type WasmLoad =
  | { ok: true; module: WebAssembly.Module; variant: WasmKernelVariant; variantReason?: string }
  | { ok: false; reason: string };

const cache = new Map<boolean, WasmLoad>();

function read(name: string): Uint8Array | null {
  const url = new URL(`kernels-${name}.wasm`, WASM_DIR);
  return existsSync(fileURLToPath(url)) ? readFileSync(url) : null;
}

/** Loads the kernels for a shared (threads) or unshared memory; cached per process. */
export function loadWasmKernels(shared = true): WasmLoad {
  const hit = cache.get(shared);
  if (hit) return hit;
  const suffix = shared ? '-shared' : '';
  const relaxed = read(`relaxed${suffix}`);
  const simd = read(`simd${suffix}`);
  let load: WasmLoad;
  if (!relaxed || !simd) {
    load = { ok: false, reason: `its kernels are not built (wasm/kernels-*.wasm; run npm run build)` };
  } else if (WebAssembly.validate(relaxed)) {
    load = { ok: true, module: new WebAssembly.Module(relaxed), variant: 'relaxed-simd' };
  } else if (WebAssembly.validate(simd)) {
    load = {
      ok: true,
      module: new WebAssembly.Module(simd),
      variant: 'simd',
      variantReason: `relaxed SIMD is off in Node ${process.version} (node --experimental-wasm-relaxed-simd turns it on)`,
    };
  } else {
    load = { ok: false, reason: `this Node (${process.version}) has no WebAssembly SIMD` };
  }
  cache.set(shared, load);
  return load;
}

/** Starts a helper thread of the engine; unreferenced, so it never keeps the process alive. */
function spawnNodeThread(init: ThreadInit): void {
  const worker = new Worker(threadSource(`require('node:worker_threads').workerData`), {
    eval: true,
    workerData: init,
  });
  // a helper that fails to start never says it is ready, and the other threads do its share
  worker.on('error', () => undefined);
  worker.unref();
}

/** A `wasm` engine with `threads` threads, or why it cannot be made. */
export function createWasmEngine(threads: number): { engine: WasmEngine } | { reason: string } {
  const load = loadWasmKernels(true);
  if (!load.ok) return { reason: load.reason };
  const setup = {
    module: load.module,
    variant: load.variant,
    shared: true,
    threads,
    spawn: spawnNodeThread,
    ...(load.variantReason ? { variantReason: load.variantReason } : {}),
  };
  return { engine: new WasmEngine(setup) };
}
