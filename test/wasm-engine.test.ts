import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { JsEngine, type AdamScalars, type Engine } from '../src/core/engine.js';
import { jsSgemm } from '../src/core/js-gemm.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { WasmEngine } from '../src/core/wasm-engine.js';
import { createWasmEngine, loadWasmKernels } from '../src/core/wasm-node.js';
import { WasmMemory } from '../src/core/wasm-memory.js';
import { resolveTrainConfig, type TrainConfigInput } from '../src/train/config.js';
import { TrainingSession } from '../src/train/trainer.js';

import { checkGemmCase, type GemmCase } from './gemm-check.js';
import { syntheticDataset } from './train-helpers.js';

const js = new JsEngine();
const root = join(import.meta.dirname, '..');
const small = (extra: TrainConfigInput = {}) =>
  resolveTrainConfig({
    hidden: [32],
    epochs: 3,
    batchSize: 16,
    lr: 0.05,
    decayEpochs: [],
    seed: 3,
    ...extra,
  });

/** A wasm engine with its helper threads ready (they start asynchronously). */
async function wasmEngine(threads: number): Promise<WasmEngine> {
  const made = createWasmEngine(threads);
  if ('reason' in made) throw new Error(made.reason);
  expect(await made.engine.whenThreadsReady()).toBe(true);
  return made.engine;
}

/** An array of n seeded normals in the engine's memory (or the heap for js). */
function floats(engine: Engine, rng: Rng, n: number): Float32Array {
  return rng.fillNormal(engine.floats(n));
}

const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

/** One product on the engine, operands in its memory, checked against the float64 reference. */
function checkGemm(engine: Engine, tA: boolean, tB: boolean, c: GemmCase, seed: number): Float32Array {
  return checkGemmCase(engine, tA, tB, c, Rng.fromSeed(seed));
}

describe('wasm kernels', () => {
  it('are built, validated and chosen for this runtime', () => {
    const load = loadWasmKernels(true);
    expect(load.ok).toBe(true);
    if (!load.ok) return;
    expect(['relaxed-simd', 'simd']).toContain(load.variant);
    if (load.variant === 'simd') expect(load.variantReason).toMatch(/relaxed SIMD is off/);
  });
});

describe.each([1, 2])('wasm engine with %i thread(s)', (threads) => {
  it('gemm matches the float64 reference on random shapes, all transposes, alpha/beta, strides', async () => {
    const engine = await wasmEngine(threads);
    const rng = Rng.fromSeed(10 + threads);
    const sizes = [1, 2, 3, 5, 7, 8, 9, 13, 17, 31, 33, 64, 65, 100];
    const alphas = [1, -0.5, 2.25, 0];
    const betas = [0, 1, -1.5, 0.9];
    let trial = 0;
    for (const [tA, tB] of TRANSPOSES) {
      for (let t = 0; t < 30; t++, trial++) {
        const pick = (): number => sizes[rng.int(0, sizes.length - 1)]!;
        const c = {
          m: pick(),
          n: pick(),
          k: pick(),
          alpha: alphas[t % 4]!,
          beta: betas[Math.floor(t / 4) % 4]!,
          pad: t % 3,
          offset: t % 5,
        };
        checkGemm(engine, tA, tB, c, trial);
      }
    }
  });

  it('gemm crosses every blocking boundary (MC = 128, KC = 256, NC = 1024) and big products go threaded', async () => {
    const engine = await wasmEngine(threads);
    for (const [tA, tB] of TRANSPOSES) {
      checkGemm(engine, tA, tB, { m: 133, n: 1031, k: 517, alpha: 0.75, beta: 0, pad: 3, offset: 7 }, 1);
      checkGemm(engine, tA, tB, { m: 1030, n: 70, k: 300, alpha: 1, beta: 1, pad: 1, offset: 2 }, 2);
    }
  });

  it('gemm: beta = 0 ignores NaN and Inf in C; k = 0 or alpha = 0 only scales C', async () => {
    const engine = await wasmEngine(threads);
    for (const [m, n, k] of [
      [3, 5, 4],
      [130, 140, 150],
    ] as const) {
      const a = engine.floats(m * k).fill(1);
      const b = engine.floats(k * n).fill(2);
      const c = engine.floats(m * n).fill(NaN);
      c[0] = Infinity;
      engine.sgemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, c, 0, n);
      expect(c.every((v) => v === 2 * k)).toBe(true);
      const d = engine.floats(m * n).fill(3);
      engine.sgemm(false, false, m, n, 0, 1, a, 0, 1, b, 0, n, 0.5, d, 0, n);
      expect(d.every((v) => v === 1.5)).toBe(true);
      engine.sgemm(false, false, m, n, k, 0, a, 0, k, b, 0, n, 2, d, 0, n);
      expect(d.every((v) => v === 3)).toBe(true);
      d.fill(NaN);
      engine.sgemm(false, false, m, n, k, 0, a, 0, k, b, 0, n, 0, d, 0, n);
      expect(d.every((v) => v === 0)).toBe(true);
    }
  });

  it('gemm on arrays outside its memory (copied in and out) equals gemm on its own arrays', async () => {
    const engine = await wasmEngine(threads);
    const rng = Rng.fromSeed(5);
    const [m, n, k] = [70, 90, 110];
    const a = rng.fillNormal(new Float32Array(m * k + 3));
    const b = rng.fillNormal(new Float32Array(k * n));
    const c = rng.fillNormal(new Float32Array(m * n + 5));
    const own = { a: engine.floats(a.length), b: engine.floats(b.length), c: engine.floats(c.length) };
    own.a.set(a);
    own.b.set(b);
    own.c.set(c);
    engine.sgemm(false, true, m, n, k, 1.5, a, 3, k, b, 0, k, 0.5, c, 5, n);
    engine.sgemm(false, true, m, n, k, 1.5, own.a, 3, k, own.b, 0, k, 0.5, own.c, 5, n);
    expect(Array.from(c)).toEqual(Array.from(own.c));
  });

  it('elementwise and optimiser sweeps equal the js engine bit for bit', async () => {
    const engine = await wasmEngine(threads);
    for (const n of [1, 3, 4, 7, 1001]) {
      const rng = Rng.fromSeed(n);
      const x = floats(engine, rng, n);
      const y = floats(engine, rng, n);
      x[0] = -0;
      if (n > 2) {
        x[1] = NaN;
        x[2] = 0;
      }
      const pairs: [string, (e: Engine, a: Float32Array, b: Float32Array) => void][] = [
        ['axpy', (e, a, b) => e.run('axpy', { alpha: 0.3, x: a, y: b })],
        ['scal', (e, a) => e.run('scal', { alpha: -1.7, x: a })],
        ['scal 0', (e, a) => e.run('scal', { alpha: 0, x: a })],
        ['sgdUpdate', (e, a, b) => e.run('sgdUpdate', { w: a, v: b, lr: 0.05, weightDecay: 1e-4 })],
        ['relu', (e, a, b) => e.run('relu', { x: a, out: b })],
        ['reluMask', (e, a, b) => e.run('reluMask', { x: a, out: b })],
        ['multiply', (e, a, b) => e.run('multiply', { a, b, out: b })],
        ['subtract', (e, a, b) => e.run('subtract', { a, b, out: a })],
      ];
      for (const [what, op] of pairs) {
        const wx = engine.floats(n);
        const wy = engine.floats(n);
        wx.set(x);
        wy.set(y);
        const jx = x.slice();
        const jy = y.slice();
        op(engine, wx, wy);
        op(js, jx, jy);
        expect(Object.is(wx[0], jx[0]), `${what} keeps the sign of -0 as js does`).toBe(true);
        expect(Array.from(wx), `${what} n=${n}`).toEqual(Array.from(jx));
        expect(Array.from(wy), `${what} n=${n}`).toEqual(Array.from(jy));
      }
    }
  });

  it('the relu + per-row normalisation (with its norms) equals the js engine bit for bit', async () => {
    const engine = await wasmEngine(threads);
    const [rows, d] = [9, 37];
    const rng = Rng.fromSeed(8);
    const a = floats(engine, rng, rows * d);
    a.fill(0, 2 * d, 3 * d); // an all-zero row: its norm is floored
    const run = (e: Engine, x: Float32Array) => {
      const out = {
        g: e.floats(rows * d),
        h: e.floats(rows * d),
        norms: new Float64Array(rows),
        squares: new Float64Array(rows),
      };
      e.run('reluNormalizeRows', {
        a: x,
        g: out.g,
        h: out.h,
        rows,
        d,
        target: 3.5,
        floor: 1e-6,
        norms: out.norms,
        squares: out.squares,
      });
      return out;
    };
    const w = run(engine, a);
    const j = run(js, a.slice());
    expect(Array.from(w.g)).toEqual(Array.from(j.g));
    expect(Array.from(w.h)).toEqual(Array.from(j.h));
    expect(Array.from(w.norms)).toEqual(Array.from(j.norms));
    expect(Array.from(w.squares)).toEqual(Array.from(j.squares));
    expect(w.norms[2]).toBe(0);
  });

  it('ger and Adam (strided parameters) equal the js engine bit for bit', async () => {
    const engine = await wasmEngine(threads);
    const [rows, cols, stride] = [37, 53, 60];
    const s: AdamScalars = {
      beta1: 0.9,
      beta2: 0.999,
      weightDecay: 0.01,
      eps: 1e-8,
      stepSize: 0.003,
      invBc2Sqrt: 3.2,
    };
    const make = (e: Engine): Record<'p' | 'g' | 'm' | 'v' | 'x' | 'y', Float32Array> => {
      const r = Rng.fromSeed(9);
      return {
        p: floats(e, r, rows * stride + 2),
        g: floats(e, r, rows * cols),
        m: floats(e, r, rows * cols),
        v: floats(e, r, rows * cols).map(Math.abs),
        x: floats(e, r, rows),
        y: floats(e, r, cols),
      };
    };
    const w = make(engine);
    const j = make(js);
    engine.run('adamUpdate', {
      p: w.p,
      pOff: 1,
      pStride: stride,
      rows,
      cols,
      g: w.g,
      m: w.m,
      v: w.v,
      scalars: s,
    });
    js.run('adamUpdate', {
      p: j.p,
      pOff: 1,
      pStride: stride,
      rows,
      cols,
      g: j.g,
      m: j.m,
      v: j.v,
      scalars: s,
    });
    expect(Array.from(w.p)).toEqual(Array.from(j.p));
    expect(Array.from(w.m)).toEqual(Array.from(j.m));
    expect(Array.from(w.v)).toEqual(Array.from(j.v));
    engine.run('ger', { alpha: -0.7, x: w.x, y: w.y, a: new Matrix(rows, cols, w.p, 1, stride) });
    js.run('ger', { alpha: -0.7, x: j.x, y: j.y, a: new Matrix(rows, cols, j.p, 1, stride) });
    expect(Array.from(w.p)).toEqual(Array.from(j.p));
  });
});

describe('the relaxed-SIMD kernels', () => {
  it('are picked when the runtime has relaxed SIMD, and their fused GEMM is right', () => {
    // Node 20 has relaxed SIMD behind a flag (Node 22 on by default): a child with it on
    const script = `
      import { createWasmEngine, JsEngine } from './dist/core/index.js';
      const made = createWasmEngine(2);
      const e = made.engine;
      const [m, n, k] = [150, 170, 190];
      const a = e.floats(m * k), b = e.floats(k * n), c = e.floats(m * n), d = new Float32Array(m * n);
      for (let i = 0; i < a.length; i++) a[i] = Math.sin(i);
      for (let i = 0; i < b.length; i++) b[i] = Math.cos(i * 0.3);
      e.sgemm(true, false, m, n, k, 1, a, 0, m, b, 0, n, 0, c, 0, n);
      new JsEngine().sgemm(true, false, m, n, k, 1, a, 0, m, b, 0, n, 0, d, 0, n);
      let max = 0;
      for (let i = 0; i < c.length; i++) max = Math.max(max, Math.abs(c[i] - d[i]));
      console.log(JSON.stringify({ info: e.info(), max }));`;
    const r = spawnSync(
      process.execPath,
      ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script],
      { cwd: root, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.info).toMatchObject({ name: 'wasm', wasmKernels: 'relaxed-simd' });
    expect(out.info.wasmKernelsReason).toBeUndefined();
    expect(out.max).toBeLessThan(1e-3);
  });
});

describe('wasm engine threads', () => {
  it('give the same bits as one thread (each element is computed by one chunk, in one order)', async () => {
    const one = await wasmEngine(1);
    const two = await wasmEngine(2);
    for (const [tA, tB] of TRANSPOSES) {
      const c = { m: 200, n: 700, k: 300, alpha: 1, beta: 0.5, pad: 0, offset: 0 };
      const r1 = checkGemm(one, tA, tB, c, 4);
      const r2 = checkGemm(two, tA, tB, c, 4);
      expect(Array.from(r2)).toEqual(Array.from(r1));
    }
  });

  it('a product runs on the caller alone until helpers are ready', () => {
    const made = createWasmEngine(2);
    if ('reason' in made) throw new Error(made.reason);
    const rng = Rng.fromSeed(1);
    const [m, n, k] = [256, 256, 256];
    const a = floats(made.engine, rng, m * k);
    const b = floats(made.engine, rng, k * n);
    const c = made.engine.floats(m * n);
    made.engine.sgemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, c, 0, n);
    const expected = new Float32Array(m * n);
    jsSgemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 0, expected, 0, n);
    for (let i = 0; i < c.length; i++) expect(Math.abs(c[i]! - expected[i]!)).toBeLessThan(1e-3);
  });
});

describe('wasm memory', () => {
  it('a shared memory grows in place: arrays handed out before stay valid and in the memory', () => {
    const memory = new WasmMemory({ shared: true, initialPages: 1, maximumPages: 65536 });
    const first = memory.floats(1000).fill(3);
    const big = memory.floats(5_000_000); // 20 MB: several grows
    expect(memory.owns(first)).toBe(true);
    expect(memory.owns(big)).toBe(true);
    expect(first.every((v) => v === 3)).toBe(true);
    expect(big.every((v) => v === 0)).toBe(true);
    first[999] = 4;
    expect(new Float32Array(memory.memory.buffer, first.byteOffset, 1000)[999]).toBe(4);
    expect(memory.owns(new Float32Array(10))).toBe(false);
  });

  it('an unshared memory never grows: past its reservation arrays come from the heap', () => {
    const memory = new WasmMemory({ shared: false, initialPages: 2, maximumPages: 2 });
    const inside = memory.floats(1000);
    const outside = memory.floats(100_000);
    expect(memory.owns(inside)).toBe(true);
    expect(memory.owns(outside)).toBe(false);
    expect(inside.length).toBe(1000);
  });

  it('a training run allocates its buffers once: the engine memory stays flat over epochs', async () => {
    const engine = await wasmEngine(2);
    const sizes: number[] = [];
    const callbacks = [{ onEpochEnd: () => void sizes.push(engine.memoryBytes) }];
    const session = new TrainingSession(small({ epochs: 5 }), syntheticDataset(1), engine, { callbacks });
    expect(engine.memoryBytes).toBeGreaterThan(32 * 64 * 4); // the weights and buffers are in it
    session.run();
    // the first epoch may add the staging area the per-epoch diagnostics use once; nothing grows after it
    expect(sizes).toHaveLength(5);
    expect(new Set(sizes).size).toBe(1);
  });
});

describe('training on the wasm engine', () => {
  async function run(threads: number, rule: 'pepita' | 'bp' = 'pepita'): Promise<string> {
    const engine = await wasmEngine(threads);
    const session = new TrainingSession(small({ rule, hidden: [300] }), syntheticDataset(2), engine);
    const epochs = session.run().epochs.map((e) => ({ ...e, seconds: 0, samples_per_s: 0 }));
    return JSON.stringify(epochs);
  }

  it('is deterministic: the same seed gives the same numbers on every run and thread count', async () => {
    const a = await run(2);
    const b = await run(2);
    const c = await run(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it('learns as the js engine does (same metrics to within float32 rounding)', async () => {
    const wasm = JSON.parse(await run(2, 'bp')) as Record<string, number>[];
    const session = new TrainingSession(small({ rule: 'bp', hidden: [300] }), syntheticDataset(2), js);
    const ref = session.run().epochs as unknown as Record<string, number>[];
    for (let e = 0; e < ref.length; e++) {
      expect(wasm[e]!.train_loss).toBeCloseTo(ref[e]!.train_loss!, 4);
      expect(wasm[e]!.test_acc).toBeCloseTo(ref[e]!.test_acc!, 2);
    }
  });
});
