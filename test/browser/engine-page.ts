// Bundled by test/wasm-browser.test.ts and run in Chromium: the wasm engine as a page gets it.
import { jsSgemm } from '../../src/core/js-gemm.js';
import { createBrowserWasmEngine } from '../../src/core/wasm-browser.js';

interface PageResult {
  error?: string;
  isolated?: boolean;
  info?: unknown;
  allReady?: boolean;
  readyThreads?: number;
  maxDiff?: number;
  bitsEqualAcrossCalls?: boolean;
}

async function main(): Promise<PageResult> {
  const engine = await createBrowserWasmEngine({
    kernelsUrl: new URL('./wasm/', (globalThis as unknown as { location: { href: string } }).location.href),
    threads: 2,
    unsharedPages: 512,
  });
  const allReady = await engine.whenThreadsReady(10000);
  const [m, n, k] = [200, 300, 250];
  const a = engine.floats(m * k);
  const b = engine.floats(n * k);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37);
  for (let i = 0; i < b.length; i++) b[i] = Math.cos(i * 0.11);
  const c = engine.floats(m * n);
  engine.sgemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, c, 0, n);
  const again = engine.floats(m * n);
  engine.sgemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, again, 0, n);
  const expected = new Float32Array(m * n);
  jsSgemm(false, true, m, n, k, 1, a, 0, k, b, 0, k, 0, expected, 0, n);
  let maxDiff = 0;
  for (let i = 0; i < c.length; i++) maxDiff = Math.max(maxDiff, Math.abs(c[i]! - expected[i]!));
  return {
    isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    info: engine.info(),
    allReady,
    readyThreads: engine.readyThreads(),
    maxDiff,
    bitsEqualAcrossCalls: c.every((v, i) => v === again[i]),
  };
}

const target = globalThis as unknown as { __result?: PageResult };
main().then(
  (r) => (target.__result = r),
  (e: unknown) => (target.__result = { error: String(e) }),
);
