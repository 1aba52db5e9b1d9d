/**
 * The `wasm` engine in a browser: fetches the kernels (wasm/*.wasm, served beside the app), picks the best
 * build the browser validates, and runs threads when the page is cross-origin isolated (a shared memory needs
 * it), as Web Workers started from the same protocol source as Node's helpers; one thread otherwise.
 * Training runs in a Web Worker, where waiting on a shared memory is allowed.
 */
import type {} from './wasm-globals.js';
import { WasmEngine, type WasmKernelVariant } from './wasm-engine.js';
import { threadSource, type ThreadInit } from './wasm-threads.js';

/** Options for {@link createBrowserWasmEngine}. */
export interface BrowserWasmOptions {
  /** The folder the kernels are served from (ends with `/`), e.g. `new URL('./wasm/', location.href)`. */
  kernelsUrl: URL | string;
  /** Threads in all when the page is isolated; default navigator.hardwareConcurrency. */
  threads?: number;
  /** Pages an unshared memory reserves up front (it cannot grow); default 4096 (256 MiB). */
  unsharedPages?: number;
}

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  fetch(url: string | URL): Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;
  Worker: new (url: string) => { postMessage(message: unknown): void };
  Blob: new (parts: string[], options: { type: string }) => unknown;
  URL: { createObjectURL(blob: unknown): string };
}

/** Creates the engine; rejects with a one-line message when the kernels cannot be fetched or run. */
export async function createBrowserWasmEngine(options: BrowserWasmOptions): Promise<WasmEngine> {
  const g = globalThis as unknown as BrowserGlobals;
  const shared = g.crossOriginIsolated === true;
  const suffix = shared ? '-shared' : '';
  const fetchKernels = async (name: string): Promise<Uint8Array> => {
    const url = new URL(`kernels-${name}${suffix}.wasm`, options.kernelsUrl);
    const response = await g.fetch(url);
    if (!response.ok) throw new Error(`cannot fetch the wasm kernels ${url.href} (HTTP ${response.status})`);
    return new Uint8Array(await response.arrayBuffer());
  };
  const relaxed = await fetchKernels('relaxed');
  let variant: WasmKernelVariant = 'relaxed-simd';
  let bytes = relaxed;
  if (!WebAssembly.validate(relaxed)) {
    variant = 'simd';
    bytes = await fetchKernels('simd');
    if (!WebAssembly.validate(bytes)) throw new Error('this browser has no WebAssembly SIMD');
  }
  const module = await WebAssembly.compile(bytes);
  const threads = shared ? (options.threads ?? g.navigator?.hardwareConcurrency ?? 1) : 1;
  const source = `self.onmessage = (event) => { ${threadSource('event.data')} };`;
  const spawn = (init: ThreadInit): void => {
    const worker = new g.Worker(g.URL.createObjectURL(new g.Blob([source], { type: 'text/javascript' })));
    worker.postMessage(init);
  };
  return new WasmEngine({
    module,
    variant,
    ...(variant === 'simd' ? { variantReason: 'this browser has no relaxed SIMD' } : {}),
    shared,
    threads,
    spawn,
    initialPages: shared ? 256 : (options.unsharedPages ?? 4096),
  });
}
