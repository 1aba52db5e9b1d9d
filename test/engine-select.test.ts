import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { elfProblem, loadBlasAddon } from '../src/core/blas-addon.js';
import type { BlasAddon } from '../src/core/blas-addon.js';
import {
  BlasEngine,
  createEngine,
  JsEngine,
  MAX_THREADS,
  parseEngineChoice,
  parseThreads,
  SMALL_GEMM_MACS,
  SMALL_VECTOR_LENGTH,
} from '../src/core/engine.js';
import { Matrix } from '../src/core/matrix.js';
import { WasmEngine } from '../src/core/wasm-engine.js';
import { configEngine, enginesToMeasure, fallbackNotice } from '../src/cli/engine-flags.js';
import { TopdownUsageError } from '../src/core/errors.js';
import { resolveTrainConfig } from '../src/train/config.js';

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
    // refused even where an option overrides it: a typo there should not lie in wait
    expect(() => createEngine({ engine: 'js' })).toThrow(/TOPDOWN_ENGINE must be one of/);
    process.env.TOPDOWN_ENGINE = '';
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
    // a bound rather than the core count, the same in a config (whose schema cannot import it) as on a flag
    expect(parseThreads(String(MAX_THREADS))).toBe(MAX_THREADS);
    expect(() => parseThreads(String(MAX_THREADS + 1), '--threads')).toThrow(
      /--threads must be at most 1024/,
    );
    expect(resolveTrainConfig({ threads: MAX_THREADS }).threads).toBe(MAX_THREADS);
    expect(() => resolveTrainConfig({ threads: MAX_THREADS + 1 })).toThrow(TopdownUsageError);
  });

  it("TOPDOWN_ENGINE stands in for a config's auto unless --engine is given, and picks what bench measures", () => {
    process.env.TOPDOWN_ENGINE = 'js';
    expect(configEngine('auto', false)).toBe('js');
    expect(configEngine('auto', true)).toBe('auto');
    expect(configEngine('wasm', false)).toBe('wasm');
    const io = { out: () => undefined, err: () => undefined, errIsTTY: false };
    expect(enginesToMeasure({}, io).map((e) => e.name)).toEqual(['js']);
    expect(enginesToMeasure({ engine: 'auto' }, io).at(-1)?.name).toBe('js');
    process.env.TOPDOWN_ENGINE = 'garbage';
    expect(() => configEngine('blas', true)).toThrow(/TOPDOWN_ENGINE must be one of/);
    process.env.TOPDOWN_ENGINE = '';
    process.env.TOPDOWN_THREADS = '2000';
    expect(() => configEngine('auto', false)).toThrow(/TOPDOWN_THREADS must be at most 1024; got "2000"/);
  });
});

describe('addon file checks', () => {
  const built = join(root, 'build', 'Release', 'topdown_blas.node');
  const elf = [built, '/bin/sh'].find(
    (p) => existsSync(p) && readFileSync(p).subarray(0, 4).toString('latin1') === '\x7fELF',
  );

  it.runIf(elf !== undefined)(
    'a complete ELF file passes; every truncation of it is named, not loaded',
    () => {
      const bytes = readFileSync(elf!);
      // /bin/sh is an executable (ET_EXEC or a PIE, ET_DYN): only the truncations are asserted on it
      if (elf === built) expect(elfProblem(bytes)).toBeNull();
      for (const cut of [bytes.length - 1, Math.floor(bytes.length / 2), 4096, 100, 63]) {
        expect(elfProblem(bytes.subarray(0, cut)), String(cut)).toMatch(/truncated|ELF type/);
      }
      expect(elfProblem(new Uint8Array(10))).toBe('not a shared library (no ELF header)');
      expect(elfProblem(Buffer.from('#!/bin/sh\necho not a library\n'.repeat(10)))).toMatch(/no ELF header/);
    },
  );

  it.runIf(Boolean(process.env.CI))(
    "CI's build records the addon's size and SHA-256, and they match the file",
    () => {
      const status = JSON.parse(readFileSync(join(root, 'build', 'addon-status.json'), 'utf8'));
      const bytes = readFileSync(built);
      expect(status).toMatchObject({ built: true, size: bytes.length });
      expect(status.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    },
  );
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
      regroupMaps: () => void calls.push('regroupMaps'),
      maxPool2Backward: () => void calls.push('maxPool2Backward'),
      setThreads: () => void calls.push('setThreads'),
      info: () => ({ corename: 'Fake', config: 'fake', threads: 1 }),
      abiVersion: () => 4,
      gemmSetup: () => ({ dnnl: null, why: 'fake' }),
      fmaPeak: () => ({ gflops: 1, path: 'fake', lanes: 1 }),
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
    engine.run('axpy', { alpha: 2, x: short, y: short });
    engine.run('scal', { alpha: 2, x: short });
    expect(short[0]).toBe(6);
    expect(calls).toEqual([]);
    engine.run('reluDifference', {
      n: short.length,
      a: short,
      aOff: 0,
      b: short,
      bOff: 0,
      out: short,
      outOff: 0,
    });
    expect(calls).toEqual([]);
    engine.run('axpy', { alpha: 1, x: long, y: long });
    engine.run('scal', { alpha: 3, x: long });
    engine.run('ger', { alpha: 1, x: long, y: Float32Array.of(1), a: new Matrix(SMALL_VECTOR_LENGTH, 1) });
    engine.run('reluDifference', {
      n: long.length,
      a: long,
      aOff: 0,
      b: long,
      bOff: 0,
      out: long,
      outOff: 0,
    });
    expect(calls).toEqual(['saxpy', 'sscal', 'sger', 'reluDifference']);
    engine.run('scal', { alpha: 0, x: long });
    expect(calls).toHaveLength(4);
    expect(long.every((v) => v === 0)).toBe(true);
  });

  it('reports OpenBLAS facts, a forced core type and whether oneDNN is in use', () => {
    const engine = new BlasEngine(recordingAddon().addon, 'SkylakeX', { dnnl: null, why: 'not found' });
    expect(engine.info()).toEqual({
      name: 'blas',
      threads: 1,
      openblasCore: 'Fake',
      openblasConfig: 'fake',
      openblasCoreForced: 'SkylakeX',
      dnnlUnavailableReason: 'not found',
    });
    const withDnnl = new BlasEngine(recordingAddon().addon, undefined, { dnnl: 'oneDNN 2.6.3', why: '' });
    expect(withDnnl.info()).toMatchObject({ dnnl: 'oneDNN 2.6.3' });
    expect(withDnnl.info()).not.toHaveProperty('dnnlUnavailableReason');
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
