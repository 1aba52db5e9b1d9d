/**
 * Property tests and fuzzing, at a CI-sized budget (FUZZ_RUNS raises it; `npm run reliability` runs it large
 * and writes docs/reliability.md from the counts). Every parser gets mutated real files (byte flips, sets,
 * truncations, insertions, appended junk) and must either load cleanly or refuse in one line with a topdown
 * error, within a time bound, never crash; a mutated checkpoint must never load.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { TopdownUnavailableError, TopdownUsageError } from '../src/core/errors.js';
import { DataFormatError, DataMissingError, loadDataset } from '../src/data/index.js';
import { readCheckpointFile } from '../src/train/checkpoint-file.js';
import { readConfigFile } from '../src/train/config-file.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { RunFolder } from '../src/train/run-folder.js';
import { TrainingSession } from '../src/train/trainer.js';

import { cifar10Files, fakeCifar10, idxFiles, fakeSplit, tarGz } from './data-fixtures.js';
import { availableEngines, randomArray, referenceGemm } from './helpers.js';
import { Rng } from '../src/core/rng.js';
import { gzipSync } from 'node:zlib';
import { syntheticDataset } from './train-helpers.js';
import { unsafeNameReason } from '../src/core/untrusted.js';
import { parseManifest, parseMetricsText, parseTheoryOutput } from '../src/reports/inputs.js';
import type { Manifest } from '../src/reports/manifest.js';
import { runFolder } from '../src/runner/executor.js';
import { jobFor, RUN_ID_PATTERN, runId } from '../src/runner/job.js';
import { parseQueuedRun, PROTOCOL } from '../src/runner/payload.js';
import { parsePageUrl, stateProblem } from '../web/src/page-state.js';
import { SLIDERS, sliderBounds } from '../web/src/theory-state.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
/** A case that takes longer than this counts as a hang. */
const CASE_MS = 5000;
const tmp = mkdtempSync(join(tmpdir(), 'topdown-fuzz-'));
const report: { category: string; cases: number; clean: number; refused: number; mishandled: number }[] = [];
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  if (process.env.RELIABILITY_REPORT)
    writeFileSync(process.env.RELIABILITY_REPORT, JSON.stringify(report, null, 2));
});

// nothing may print beside the one error line (a library's warnings, a stray log)
beforeEach(() => {
  vi.spyOn(console, 'warn');
  vi.spyOn(console, 'error');
  vi.spyOn(console, 'log');
  vi.spyOn(process, 'emitWarning');
});
afterEach(() => {
  if (!process.env.FUZZ_DEBUG) {
    expect(console.warn).not.toHaveBeenCalled();
    expect(console.error).not.toHaveBeenCalled();
    expect(console.log).not.toHaveBeenCalled();
    expect(process.emitWarning).not.toHaveBeenCalled();
  }
  vi.restoreAllMocks();
});

type Edit = { kind: 'flip' | 'set' | 'truncate' | 'insert' | 'append'; at: number; byte: number };
const edits = fc.array(
  fc.record({
    kind: fc.constantFrom<Edit['kind']>('flip', 'set', 'truncate', 'insert', 'append'),
    // positions spread evenly over the file (fast-check's doubles favour values near 0: the magic numbers)
    at: fc.integer({ min: 0, max: 2 ** 20 - 1 }).map((v) => v / 2 ** 20),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  { minLength: 1, maxLength: 4 },
);

/** `bytes` with the edits applied (positions as fractions of the length). */
function mutate(bytes: Uint8Array, list: Edit[]): Uint8Array {
  let out = Buffer.from(bytes);
  for (const e of list) {
    const at = Math.min(out.length - 1, Math.floor(e.at * out.length));
    if (out.length === 0) out = Buffer.from([e.byte]);
    else if (e.kind === 'flip') out[at] = out[at]! ^ (1 << (e.byte % 8));
    else if (e.kind === 'set') out[at] = e.byte;
    else if (e.kind === 'truncate') out = out.subarray(0, at);
    else if (e.kind === 'insert')
      out = Buffer.concat([out.subarray(0, at), Buffer.from([e.byte]), out.subarray(at)]);
    else out = Buffer.concat([out, Buffer.alloc(1 + (e.byte % 64), e.byte)]);
  }
  return out;
}

/** Runs `load` on each case: a clean result or one topdown error line within the time bound. */
function fuzz<T>(category: string, arbitrary: fc.Arbitrary<T>, load: (value: T) => void): void {
  const tally = { category, cases: 0, clean: 0, refused: 0, mishandled: 0 };
  report.push(tally);
  fc.assert(
    fc.property(arbitrary, (list) => {
      tally.cases++;
      const start = performance.now();
      try {
        load(list);
        tally.clean++;
      } catch (error) {
        const known =
          error instanceof TopdownUsageError ||
          error instanceof TopdownUnavailableError ||
          error instanceof DataFormatError ||
          error instanceof DataMissingError;
        const message = (error as Error).message ?? '';
        if (!known || message.includes('\n') || message.length === 0) {
          tally.mishandled++;
          throw error;
        }
        tally.refused++;
        if (process.env.FUZZ_DEBUG && tally.refused < 6) console.log(category, JSON.stringify(list), message);
      }
      const ms = performance.now() - start;
      if (ms > CASE_MS) {
        tally.mishandled++;
        throw new Error(`${category}: a case took ${ms.toFixed(0)} ms`);
      }
    }),
    { numRuns: RUNS, seed: 7 },
  );
}

describe('fuzzing the loaders with mutated real-format files', () => {
  const mnist = idxFiles(fakeSplit(40, 784, 10, 1), fakeSplit(12, 784, 10, 2));
  it.each(Object.keys(mnist).map((name) => [name] as const))('MNIST IDX %s (plain and gzipped)', (name) => {
    let n = 0;
    fuzz(
      `MNIST IDX ${name}`,
      fc.tuple(edits, fc.boolean()).map(([e, gz]) => Object.assign(e, { gz })),
      (list) => {
        const dir = join(tmp, `mnist-${name}-${n++}`);
        mkdirSync(join(dir, 'mnist'), { recursive: true });
        const gz = (list as Edit[] & { gz?: boolean }).gz === true;
        for (const [file, bytes] of Object.entries(mnist)) {
          const content = file === name ? mutate(gz ? gzipSync(bytes) : bytes, list) : bytes;
          writeFileSync(join(dir, 'mnist', file === name && gz ? `${file}.gz` : file), content);
        }
        try {
          loadDataset('mnist', { dataDir: dir });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  });

  it('the CIFAR-10 .tar.gz archive', () => {
    const { train, test } = fakeCifar10(20, 6);
    const archive = tarGz('cifar-10-batches-bin', cifar10Files(train, test));
    let n = 0;
    fuzz('CIFAR-10 tar.gz archive', edits, (list) => {
      const dir = join(tmp, `cifar-${n++}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'cifar-10-binary.tar.gz'), mutate(archive, list));
      try {
        loadDataset('cifar10', { dataDir: dir });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('CIFAR-10 batch files', () => {
    const { train, test } = fakeCifar10(20, 6);
    const files = cifar10Files(train, test);
    let n = 0;
    fuzz('CIFAR-10 batch file', edits, (list) => {
      const dir = join(tmp, `cifar-bin-${n++}`, 'cifar10');
      mkdirSync(dir, { recursive: true });
      for (const [file, bytes] of Object.entries(files))
        writeFileSync(join(dir, file), file === 'data_batch_2.bin' ? mutate(bytes, list) : bytes);
      try {
        loadDataset('cifar10', { dataDir: join(dir, '..') });
      } finally {
        rmSync(join(dir, '..'), { recursive: true, force: true });
      }
    });
  });
});

describe('fuzzing configs', () => {
  const yaml = Buffer.from(
    'rule: ff\nhidden: [40, 30]\nepochs: 3\nff:\n  negatives: all\n  threshold: 5\nff-label-value: 0.5\nlr: 0.001\n',
  );
  const json = Buffer.from(
    JSON.stringify({ rule: 'pepita', mode: 'hebbian', feedback: { init: 'normal' }, mirror: {}, seed: 3 }),
  );
  it.each([
    ['YAML', yaml, 'c.yaml'],
    ['JSON', json, 'c.json'],
  ] as const)('mutated %s config files', (kind, base, file) => {
    let n = 0;
    fuzz(`${kind} config file`, edits, (list) => {
      const path = join(tmp, `${n++}-${file}`);
      writeFileSync(path, mutate(base, list));
      resolveTrainConfig(readConfigFile(path), `config file ${path}`);
    });
  });

  it('random option objects resolve to a config that resolves to itself, or are refused in one line', () => {
    const key = fc.constantFrom(
      'rule',
      'lr',
      'hidden',
      'mode',
      'ff',
      'mirror',
      'ffThreshold',
      'dropout',
      'epochs',
      'sign',
      '__proto__',
      'feedback',
      'x',
    );
    const value = fc.oneof(
      fc.constantFrom('ff', 'pepita', 'bp', 'hebbian', 'minus'),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.array(fc.integer({ min: -2, max: 2000 })),
      fc.constant({}),
      fc.constant(null),
    );
    const tally = { category: 'random option objects', cases: 0, clean: 0, refused: 0, mishandled: 0 };
    report.push(tally);
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 5 }), (input) => {
        tally.cases++;
        try {
          const c = resolveTrainConfig(input);
          expect(resolveTrainConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
          tally.clean++;
        } catch (error) {
          if (!(error instanceof TopdownUsageError) || (error as Error).message.includes('\n')) {
            tally.mishandled++;
            throw error;
          }
          tally.refused++;
        }
      }),
      { numRuns: RUNS * 5, seed: 11 },
    );
  });
});

describe('fuzzing checkpoints', () => {
  it('no mutated checkpoint loads: every change is refused in one line', () => {
    const engine = availableEngines()[0]!;
    const folder = new RunFolder(join(tmp, 'ck'));
    const config = resolveTrainConfig({
      rule: 'fa',
      kolenPollack: true,
      hidden: [8],
      epochs: 1,
      batchSize: 16,
    });
    new TrainingSession(config, syntheticDataset(2, 100, 20, 8, 4), engine, { sink: folder }).run();
    const original = readFileSync(folder.checkpointPath);
    const path = join(tmp, 'mutated.bin');
    const tally = { category: 'checkpoint files', cases: 0, clean: 0, refused: 0, mishandled: 0 };
    report.push(tally);
    fc.assert(
      fc.property(edits, (list) => {
        const bytes = mutate(original, list);
        if (Buffer.compare(bytes, original) === 0) return;
        tally.cases++;
        writeFileSync(path, bytes);
        try {
          readCheckpointFile(path);
        } catch (error) {
          if (error instanceof TopdownUsageError && !error.message.includes('\n')) {
            tally.refused++;
            return;
          }
          tally.mishandled++;
          throw error;
        }
        tally.mishandled++;
        throw new Error('a mutated checkpoint loaded');
      }),
      { numRuns: RUNS * 2, seed: 13 },
    );
  });
});

describe('properties of the engine kernels', () => {
  it.each(availableEngines().map((e) => [e.name, e] as const))(
    '%s gemm matches a float64 reference',
    (_n, engine) => {
      const tally = {
        category: `${engine.name} gemm vs float64`,
        cases: 0,
        clean: 0,
        refused: 0,
        mishandled: 0,
      };
      report.push(tally);
      fc.assert(
        fc.property(
          fc.record({
            m: fc.integer({ min: 1, max: 40 }),
            n: fc.integer({ min: 1, max: 40 }),
            k: fc.integer({ min: 1, max: 300 }),
            transA: fc.boolean(),
            transB: fc.boolean(),
            alpha: fc.constantFrom(1, -0.5, 2),
            beta: fc.constantFrom(0, 1, 0.25),
            seed: fc.integer({ min: 0, max: 1e6 }),
          }),
          ({ m, n, k, transA, transB, alpha, beta, seed }) => {
            tally.cases++;
            const rng = Rng.fromSeed(seed);
            const a = randomArray(rng, m * k);
            const b = randomArray(rng, k * n);
            const c = randomArray(rng, m * n);
            const lda = transA ? m : k;
            const ldb = transB ? k : n;
            const ref = referenceGemm(transA, transB, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, n);
            const out = c.slice();
            engine.sgemm(transA, transB, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, out, 0, n);
            for (let i = 0; i < m * n; i++) {
              const bound = (k + 2) * 1.2e-7 * ref.scale[i]! + 1e-6;
              if (!(Math.abs(out[i]! - ref.value[i]!) <= bound)) {
                tally.mishandled++;
                throw new Error(`element ${i}: ${out[i]} vs ${ref.value[i]}`);
              }
            }
            tally.clean++;
          },
        ),
        { numRuns: RUNS * 2, seed: 17 },
      );
    },
  );
});

describe('properties of the optimiser sweeps and vector kernels', () => {
  const engines = availableEngines();
  const arrays = fc.record({
    n: fc.integer({ min: 1, max: 3000 }),
    seed: fc.integer({ min: 0, max: 1e6 }),
    lr: fc.constantFrom(0, 1e-3, 0.1, 1),
    wd: fc.constantFrom(0, 1e-4, 0.5),
  });

  it('the SGD sweep follows its float32 formula on every engine, and the engines agree bit for bit', () => {
    const tally = {
      category: 'SGD sweep, engines vs formula',
      cases: 0,
      clean: 0,
      refused: 0,
      mishandled: 0,
    };
    report.push(tally);
    fc.assert(
      fc.property(arrays, ({ n, seed, lr, wd }) => {
        tally.cases++;
        const rng = Rng.fromSeed(seed);
        const w0 = randomArray(rng, n);
        const v0 = randomArray(rng, n);
        const results = engines.map((engine) => {
          const w = w0.slice();
          const v = v0.slice();
          engine.run('sgdUpdate', { w, v, lr, weightDecay: wd });
          return { w, v };
        });
        const f = Math.fround;
        for (let i = 0; i < n; i++) {
          const vi = f(v0[i]! + f(f(wd) * w0[i]!));
          expect(results[0]!.v[i]).toBe(vi);
          const step = f(f(lr) * vi);
          // one float32 rounding of w - step (a fused multiply-add may skip the product's own rounding)
          expect(Math.abs(results[0]!.w[i]! - (w0[i]! - step))).toBeLessThanOrEqual(
            1.2e-7 * (Math.abs(w0[i]!) + Math.abs(step)) + 1e-30,
          );
        }
        for (const r of results.slice(1)) {
          expect(r.v).toEqual(results[0]!.v);
          expect(r.w).toEqual(results[0]!.w);
        }
        tally.clean++;
      }),
      { numRuns: RUNS, seed: 19 },
    );
  }, 600_000);

  it('the Adam sweep gives the same bits on every engine, strided or not', () => {
    const tally = { category: 'Adam sweep, engines agree', cases: 0, clean: 0, refused: 0, mishandled: 0 };
    report.push(tally);
    fc.assert(
      fc.property(
        arrays,
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 50 }),
        ({ n, seed, lr, wd }, extra, t) => {
          tally.cases++;
          const rng = Rng.fromSeed(seed);
          const cols = Math.max(1, Math.floor(Math.sqrt(n)));
          const rows = Math.max(1, Math.floor(n / cols));
          const stride = cols + extra;
          const p0 = randomArray(rng, rows * stride);
          const g = randomArray(rng, rows * cols);
          const m0 = randomArray(rng, rows * cols);
          const v0 = randomArray(rng, rows * cols).map(Math.abs);
          const s = {
            beta1: 0.9,
            beta2: 0.999,
            weightDecay: wd,
            eps: 1e-8,
            stepSize: lr / (1 - 0.9 ** t),
            invBc2Sqrt: 1 / Math.sqrt(1 - 0.999 ** t),
          };
          const results = engines.map((engine) => {
            const p = p0.slice();
            const m = m0.slice();
            const v = v0.slice();
            engine.run('adamUpdate', { p, pOff: 0, pStride: stride, rows, cols, g, m, v, scalars: s });
            return { p, m, v };
          });
          for (const r of results) {
            for (let i = 0; i < rows; i++)
              for (let j = cols; j < stride; j++) expect(r.p[i * stride + j]).toBe(p0[i * stride + j]);
            expect(r.p.every(Number.isFinite)).toBe(true);
          }
          for (const r of results.slice(1)) expect(r).toEqual(results[0]);
          tally.clean++;
        },
      ),
      { numRuns: RUNS, seed: 23 },
    );
  }, 600_000);
});

describe('fuzzing the trust boundaries: what comes from a queue, a results folder or a link', () => {
  const results = join(import.meta.dirname, '..', 'docs', 'results');
  const textOf = (path: string) => readFileSync(join(results, path), 'utf8');
  const mutatedText = (text: string, list: Edit[]) =>
    Buffer.from(mutate(Buffer.from(text, 'utf8'), list)).toString('utf8');
  /** A JSON value with one field (a path of keys, from `paths`) replaced by `value`. */
  const withField = (base: unknown, path: readonly string[], value: unknown): unknown => {
    if (path.length === 0) return value;
    const copy = structuredClone(base) as Record<string, unknown>;
    let at: Record<string, unknown> = copy;
    for (const key of path.slice(0, -1)) {
      const next = at[key];
      if (typeof next !== 'object' || next === null) return copy;
      at = next as Record<string, unknown>;
    }
    at[path.at(-1)!] = value;
    return copy;
  };
  /** Values an attacker or a damaged file would put in a field. */
  const hostile = fc.oneof(
    fc.jsonValue(),
    fc.string(),
    fc.constantFrom(
      '../../victim',
      '../x',
      '',
      '.',
      '..',
      '/etc/passwd',
      'a/b',
      'a\\b',
      '\u001b[2J',
      'x\nforged',
      '__proto__',
      -5,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      null,
      [],
      {},
      { __proto__: null, constructor: 1 },
    ),
  );

  it("queue payloads: refused in one line, or a run whose id is its config's and whose folder is inside", () => {
    const config = resolveTrainConfig({ rule: 'pepita', data: 'mnist', hidden: [8], epochs: 2 });
    const payload = { job: jobFor(config, 1, 'fuzz'), topdown: '1.0.0', protocol: PROTOCOL };
    const text = JSON.stringify(payload);
    const check = (data: unknown) => {
      const { job } = parseQueuedRun(data, 'queued run fuzz');
      expect(job.id).toMatch(RUN_ID_PATTERN);
      if (job.kind === 'train') expect(job.id).toBe(runId(job.config));
      expect(dirname(runFolder('/out', job))).toBe('/out/runs');
    };
    fuzz('queue payloads (bytes)', edits, (list) => {
      const mutated = mutatedText(text, list);
      let data: unknown;
      try {
        data = JSON.parse(mutated);
      } catch {
        data = mutated; // what the worker's job reader makes of a payload that is not JSON
      }
      check(data);
    });
    const paths = [
      ['job'],
      ['job', 'id'],
      ['job', 'kind'],
      ['job', 'label'],
      ['job', 'seed'],
      ['job', 'config'],
      ['job', 'config', 'seed'],
      ['job', 'config', 'lr'],
      ['job', 'config', 'hidden'],
      ['job', 'config', 'rule'],
      ['job', 'config', '__proto__'],
      ['topdown'],
      ['protocol'],
      [],
    ];
    fuzz('queue payloads (fields)', fc.tuple(fc.constantFrom(...paths), hostile), ([path, value]) =>
      check(withField(payload, path, value)),
    );
  });

  it('manifests: refused in one line, or every experiment, cell and run name is one plain folder name', () => {
    const text = textOf('experiments/fig-s2.json');
    const base = JSON.parse(text) as unknown;
    const check = (manifest: Manifest) => {
      for (const name of [manifest.experiment, ...manifest.cells.flatMap((c) => [c.id, ...c.runs])]) {
        expect(unsafeNameReason(name)).toBeNull();
      }
    };
    fuzz('manifests (bytes)', edits, (list) => check(parseManifest(mutatedText(text, list), 'fuzz.json')));
    const paths = [
      [],
      ['experiment'],
      ['kind'],
      ['budget'],
      ['budget', 'seeds'],
      ['cells'],
      ['cells', '0'],
      ['cells', '0', 'id'],
      ['cells', '0', 'runs'],
      ['cells', '0', 'runs', '0'],
      ['cells', '0', 'published'],
    ];
    fuzz('manifests (fields)', fc.tuple(fc.constantFrom(...paths), hostile), ([path, value]) =>
      check(parseManifest(JSON.stringify(withField(base, path, value)) ?? 'undefined', 'fuzz.json')),
    );
  });

  it('metrics files: refused in one line, or accuracies in [0, 1] and finite losses', () => {
    const text = textOf('runs/c90dd8659d8fcec0/metrics.jsonl');
    const lines = text.trimEnd().split('\n');
    const check = (records: Record<string, unknown>[]) => {
      for (const r of records) {
        for (const [key, value] of Object.entries(r)) {
          // a metric is one number, or one per layer
          const values = Array.isArray(value) ? (value as unknown[]) : [value];
          if (/(^|_)acc(_|$)/.test(key)) {
            for (const v of values) expect(typeof v === 'number' && v >= 0 && v <= 1).toBe(true);
          }
          if (/(^|_)loss(_|$)/.test(key)) for (const v of values) expect(Number.isFinite(v)).toBe(true);
        }
      }
    };
    fuzz('metrics files (bytes)', edits, (list) =>
      check(parseMetricsText(mutatedText(text, list), 'fuzz/metrics.jsonl') as Record<string, unknown>[]),
    );
    const fields = ['epoch', 'test_acc', 'train_acc', 'test_loss', 'train_loss', 'phase', 'x'];
    fuzz(
      'metrics files (fields)',
      fc.tuple(fc.nat(lines.length - 1), fc.constantFrom(...fields), hostile),
      ([line, field, value]) => {
        const edited = [...lines];
        edited[line] = JSON.stringify(withField(JSON.parse(lines[line]!), [field], value));
        check(parseMetricsText(edited.join('\n') + '\n', 'fuzz/metrics.jsonl') as Record<string, unknown>[]);
      },
    );
  });

  it('theory outputs: refused in one line, or one error value per time in every curve', () => {
    const text = textOf('runs/688fd98ccbe1604b/theory.json');
    const base = JSON.parse(text) as unknown;
    const check = (result: ReturnType<typeof parseTheoryOutput>) => {
      for (const curve of result.curves) {
        expect(curve.eg).toHaveLength(curve.t.length);
        if (curve.eg_std) expect(curve.eg_std).toHaveLength(curve.t.length);
      }
    };
    fuzz('theory outputs (bytes)', edits, (list) =>
      check(parseTheoryOutput(mutatedText(text, list), 'fuzz')),
    );
    const paths = [
      [],
      ['t'],
      ['curves'],
      ['curves', '0'],
      ['curves', '0', 'rule'],
      ['problem'],
      ['problem', 'D'],
    ];
    fuzz('theory outputs (fields)', fc.tuple(fc.constantFrom(...paths), hostile), ([path, value]) =>
      check(parseTheoryOutput(JSON.stringify(withField(base, path, value)) ?? 'null', 'fuzz')),
    );
  });

  it('browser-app links: never throws; every value held to its control, each change noted in one line', () => {
    const keys = ['tab', 'data', 'rule', 'epochs', 'lr', 'hidden', 'batch-size', 'seed', 'dropout'];
    const theoryKeys = SLIDERS.map((s) => `theory-${s.key}`).concat('theory-rules');
    const value = fc.oneof(
      fc.string(),
      fc.double().map(String),
      fc.constantFrom('1e9', '1e15', '-1', 'NaN', 'Infinity', '', '0x10', '1,2,3', '%00', 'theory', '1e-320'),
    );
    const tally = { category: 'browser-app links', cases: 0, clean: 0, refused: 0, mishandled: 0 };
    report.push(tally);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...keys, ...theoryKeys, 'x'), value), { maxLength: 8 }),
        (pairs) => {
          tally.cases++;
          const query = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
          const start = performance.now();
          let parsed: ReturnType<typeof parsePageUrl>;
          try {
            parsed = parsePageUrl(query);
            expect(stateProblem(parsed.state)).toBeNull();
            for (const slider of SLIDERS) {
              const { low, high } = sliderBounds(slider);
              const v = parsed.theory.values[slider.key]!;
              expect(v).toBeGreaterThanOrEqual(low);
              expect(v).toBeLessThanOrEqual(high);
            }
            for (const note of parsed.notes) expect(note).not.toMatch(/\n/);
          } catch (error) {
            tally.mishandled++;
            throw error;
          }
          if (performance.now() - start > CASE_MS) {
            tally.mishandled++;
            throw new Error('a link took over 5 s');
          }
          if (parsed.notes.length) tally.refused++;
          else tally.clean++;
        },
      ),
      { numRuns: RUNS, seed: 7 },
    );
  });
});
