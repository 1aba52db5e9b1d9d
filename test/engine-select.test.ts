import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { loadBlasAddon } from '../src/core/blas-addon.js';
import type { BlasAddon } from '../src/core/blas-addon.js';
import {
  BlasEngine,
  createEngine,
  JsEngine,
  parseEngineChoice,
  parseThreads,
  SMALL_GEMM_MACS,
  SMALL_VECTOR_LENGTH,
} from '../src/core/engine.js';
import { Matrix } from '../src/core/matrix.js';
import { WasmEngine } from '../src/core/wasm-engine.js';
import { fallbackNotice } from '../src/cli/engine-flags.js';
import { TopdownUsageError } from '../src/core/errors.js';

const root = join(import.meta.dirname, '..');

describe('engine selection', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('auto picks blas when the addon loads, else wasm with a reason', () => {
    const load = loadBlasAddon();
    const selection = createEngine({ engine: 'auto' });
    if (load.ok) {
      expect(selection.engine).toBeInstanceOf(BlasEngine);
      expect(selection.fallbackReason).toBeUndefined();
    } else {
      expect(selection.engine).toBeInstanceOf(WasmEngine);
      expect(selection.fallbackReason).toBe(load.reason);
    }
  });

  it('--engine wasm and TOPDOWN_ENGINE=wasm force the wasm engine, with the thread count asked', () => {
    const forced = createEngine({ engine: 'wasm', threads: 2 }).engine;
    expect(forced).toBeInstanceOf(WasmEngine);
    expect(forced.info()).toMatchObject({ name: 'wasm', threads: 2, wasmSharedMemory: true });
    process.env.TOPDOWN_ENGINE = 'wasm';
    process.env.TOPDOWN_THREADS = '1';
    expect(createEngine().engine.info()).toMatchObject({ name: 'wasm', threads: 1 });
  });

  it('the fallback notice names every engine passed over and the one in use', () => {
    const wasm = createEngine({ engine: 'wasm', threads: 1 }).engine;
    expect(fallbackNotice({ engine: wasm, fallbackReason: 'not built at install: no OpenBLAS' })).toBe(
      'blas engine unavailable (not built at install: no OpenBLAS); using the wasm engine',
    );
    expect(
      fallbackNotice({
        engine: new JsEngine(),
        fallbackReason: 'x',
        wasmReason: 'this Node has no WebAssembly SIMD',
      }),
    ).toBe(
      'blas engine unavailable (x); wasm engine unavailable (this Node has no WebAssembly SIMD); using the js engine',
    );
    expect(fallbackNotice({ engine: wasm })).toBeNull();
  });

  it.runIf(Boolean(process.env.CI))('CI builds and uses the blas engine', () => {
    const load = loadBlasAddon();
    expect(load.ok ? 'loaded' : load.reason).toBe('loaded');
  });

  it('TOPDOWN_ENGINE chooses the engine and is validated', () => {
    process.env.TOPDOWN_ENGINE = 'js';
    expect(createEngine().engine.name).toBe('js');
    process.env.TOPDOWN_ENGINE = 'fast';
    expect(() => createEngine()).toThrow(/TOPDOWN_ENGINE must be one of auto, blas, wasm, js; got "fast"/);
    expect(createEngine({ engine: 'js' }).engine.name).toBe('js');
  });

  it.runIf(loadBlasAddon().ok)('sets the OpenBLAS thread count', () => {
    const engine = createEngine({ engine: 'blas', threads: 1 }).engine;
    expect(engine.info().threads).toBe(1);
    process.env.TOPDOWN_THREADS = '2';
    expect(createEngine({ engine: 'blas' }).engine.info().threads).toBe(2);
    process.env.TOPDOWN_THREADS = 'lots';
    expect(() => createEngine({ engine: 'blas' })).toThrow(/TOPDOWN_THREADS must be a positive integer/);
  });

  it.runIf(loadBlasAddon().ok)('the addon refuses views that run past their arrays', () => {
    const load = loadBlasAddon();
    if (!load.ok) return;
    const a = new Float32Array(12);
    const c = new Float32Array(9);
    expect(() => load.addon.sgemm(false, false, 3, 3, 4, 1, a, 1, 4, a, 0, 3, 0, c, 0, 3)).toThrow(
      RangeError,
    );
    expect(() => load.addon.sgemm(false, false, 3, 3, 4, 1, a, 0, 3, a, 0, 3, 0, c, 0, 3)).toThrow(
      /leading dimension/,
    );
    expect(() => load.addon.saxpy(10, 1, a, 5, a, 0)).toThrow(RangeError);
    expect(() => load.addon.sgemm(false, false, 1, 1, 1, 1, [1] as never, 0, 1, a, 0, 1, 0, c, 0, 1)).toThrow(
      TypeError,
    );
  });

  it('parses engine names and thread counts', () => {
    expect(parseEngineChoice('blas')).toBe('blas');
    expect(() => parseEngineChoice('gpu')).toThrow(TopdownUsageError);
    expect(parseThreads('4')).toBe(4);
    expect(() => parseThreads('0')).toThrow(TopdownUsageError);
    expect(() => parseThreads('1.5')).toThrow(TopdownUsageError);
  });
});

describe('blas engine dispatch', () => {
  /** A stand-in addon that records which native entry points were called. */
  function recordingAddon(): { addon: BlasAddon; calls: string[] } {
    const calls: string[] = [];
    const addon: BlasAddon = {
      sgemm: () => void calls.push('sgemm'),
      saxpy: () => void calls.push('saxpy'),
      sscal: () => void calls.push('sscal'),
      sger: () => void calls.push('sger'),
      im2colRows: () => void calls.push('im2colRows'),
      maxPool2Rows: () => void calls.push('maxPool2Rows'),
      sgdUpdate: () => void calls.push('sgdUpdate'),
      adamUpdate: () => void calls.push('adamUpdate'),
      reluNormalizeRows: () => void calls.push('reluNormalizeRows'),
      reluDifference: () => void calls.push('reluDifference'),
      setThreads: () => void calls.push('setThreads'),
      info: () => ({ corename: 'Fake', config: 'fake', threads: 1 }),
    };
    return { addon, calls };
  }

  it('runs tiny products in TypeScript and larger ones natively', () => {
    const { addon, calls } = recordingAddon();
    const engine = new BlasEngine(addon, undefined);
    const big = new Float32Array(SMALL_GEMM_MACS);
    const c = new Float32Array(SMALL_GEMM_MACS);
    const a = Float32Array.from([1, 2, 3]);
    const b = Float32Array.from([4, 5, 6]);
    engine.sgemm(false, false, 1, 1, 3, 1, a, 0, 3, b, 0, 1, 0, c, 0, 1);
    expect(calls).toEqual([]);
    expect(c[0]).toBe(32); // computed by the TypeScript kernel
    engine.sgemm(false, false, 1, 1, SMALL_GEMM_MACS, 1, big, 0, SMALL_GEMM_MACS, big, 0, 1, 0, c, 0, 1);
    expect(calls).toEqual(['sgemm']);
  });

  it('runs short vector operations in TypeScript, long ones natively, and scal(0) always clears', () => {
    const { addon, calls } = recordingAddon();
    const engine = new BlasEngine(addon, undefined);
    const short = new Float32Array(SMALL_VECTOR_LENGTH - 1).fill(1);
    const long = new Float32Array(SMALL_VECTOR_LENGTH).fill(NaN);
    engine.axpy(2, short, short);
    engine.scal(2, short);
    expect(short[0]).toBe(6);
    expect(calls).toEqual([]);
    engine.reluDifference(short.length, short, 0, short, 0, short, 0);
    expect(calls).toEqual([]);
    engine.axpy(1, long, long);
    engine.scal(3, long);
    engine.ger(1, long, Float32Array.of(1), new Matrix(SMALL_VECTOR_LENGTH, 1));
    engine.reluDifference(long.length, long, 0, long, 0, long, 0);
    expect(calls).toEqual(['saxpy', 'sscal', 'sger', 'reluDifference']);
    engine.scal(0, long);
    expect(calls).toHaveLength(4);
    expect(long.every((v) => v === 0)).toBe(true);
  });

  it('reports OpenBLAS facts and a forced core type', () => {
    const engine = new BlasEngine(recordingAddon().addon, 'SkylakeX');
    expect(engine.info()).toEqual({
      name: 'blas',
      threads: 1,
      openblasCore: 'Fake',
      openblasConfig: 'fake',
      openblasCoreForced: 'SkylakeX',
    });
  });
});

describe('install-time addon build script', () => {
  it('never fails the install: without the addon it prints one notice line and records why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'topdown-install-'));
    try {
      mkdirSync(join(dir, 'scripts'));
      cpSync(join(root, 'scripts', 'build-addon.mjs'), join(dir, 'scripts', 'build-addon.mjs'));
      const run = (args: string[]) =>
        spawnSync(process.execPath, [join(dir, 'scripts', 'build-addon.mjs'), ...args], {
          encoding: 'utf8',
          env: { ...process.env, TOPDOWN_SKIP_ADDON: '1' },
        });
      const soft = run([]);
      expect(soft.status).toBe(0);
      expect(soft.stderr.trim().split('\n')).toHaveLength(1);
      expect(soft.stderr).toMatch(/using the portable wasm engine/);
      const status = JSON.parse(readFileSync(join(dir, 'build', 'addon-status.json'), 'utf8'));
      expect(status).toMatchObject({ built: false, reason: 'TOPDOWN_SKIP_ADDON=1' });
      expect(run(['--strict']).status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
