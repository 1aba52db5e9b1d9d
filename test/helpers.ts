import type { CliIO } from '../src/cli/io.js';
import { runCli } from '../src/cli/program.js';
import { createEngine, JsEngine, type Engine } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { createWasmEngine } from '../src/core/wasm-node.js';

/** The engines available here: blas when the addon is built, wasm (2 threads) when its kernels are, and js. */
export function availableEngines(): Engine[] {
  const engines: Engine[] = [];
  const { engine } = createEngine({ engine: 'auto' });
  if (engine.name === 'blas') engines.push(engine);
  const wasm = createWasmEngine(2);
  if ('engine' in wasm) engines.push(wasm.engine);
  engines.push(new JsEngine());
  return engines;
}

/** A float32 array of seeded normals. */
export function randomArray(rng: Rng, n: number): Float32Array {
  return rng.fillNormal(new Float32Array(n));
}

/**
 * Float64 reference for C = alpha op(A) op(B) + beta C (BLAS semantics: beta == 0 ignores C).
 * Returns the expected m x n block and, per element, the scale sum |alpha| * sum|a||b| + |beta c| that bounds
 * the rounding error.
 */
export function referenceGemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  b: Float32Array,
  bOff: number,
  ldb: number,
  beta: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
): { value: Float64Array; scale: Float64Array } {
  const value = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let abs = 0;
      if (alpha !== 0) {
        for (let p = 0; p < k; p++) {
          const av = transA ? a[aOff + p * lda + i]! : a[aOff + i * lda + p]!;
          const bv = transB ? b[bOff + j * ldb + p]! : b[bOff + p * ldb + j]!;
          sum += av * bv;
          abs += Math.abs(av * bv);
        }
      }
      const cv = beta === 0 ? 0 : beta * c[cOff + i * ldc + j]!;
      value[i * n + j] = alpha * sum + cv;
      scale[i * n + j] = Math.abs(alpha) * abs + Math.abs(cv);
    }
  }
  return { value, scale };
}

/** Runs the CLI in-process, capturing its output. */
export async function runCliCaptured(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (s) => void (out += s), err: (s) => void (err += s), errIsTTY: false };
  const code = await runCli(args, io);
  return { code, out, err };
}
