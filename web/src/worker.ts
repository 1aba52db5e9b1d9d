/**
 * The training worker: a {@link SessionHost} on the browser's wasm engine (helper threads when the page is
 * cross-origin isolated), fed by the page's messages.
 */
import { createBrowserWasmEngine } from '../../src/core/wasm-browser.js';

import { inflate } from './inflate.js';
import type { WorkerMessage } from './protocol.js';
import { SessionHost } from './session-host.js';

interface WorkerScope {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  setTimeout(fn: () => void, ms: number): unknown;
}
const scope = globalThis as unknown as WorkerScope;

/** Large byte arrays travel without a copy. */
function transferables(m: WorkerMessage): ArrayBuffer[] {
  if (m.type === 'exported') return [m.checkpoint.buffer as ArrayBuffer];
  return [];
}

const host = new SessionHost((m) => scope.postMessage(m, transferables(m)), {
  createEngine: async ({ kernelsUrl, threads }) => {
    const engine = await createBrowserWasmEngine({ kernelsUrl, ...(threads ? { threads } : {}) });
    await engine.whenThreadsReady(10000);
    return engine;
  },
  inflate,
  later: (fn) => void scope.setTimeout(fn, 0),
  now: () => performance.now(),
});

scope.onmessage = (event) => void host.receive(event.data);
