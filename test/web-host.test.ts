// The browser app's worker protocol, driven in Node: SessionHost with a real engine and real (synthetic MNIST) files.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import type { Engine } from '../src/core/engine-base.js';
import { JsEngine } from '../src/core/engine.js';
import { RULE_NAMES } from '../src/rules/registry.js';
import { createWasmEngine } from '../src/core/wasm-node.js';
import { assembleDataset, storedFromFiles } from '../src/data/assemble.js';
import { loadDataset } from '../src/data/load.js';
import { gunzipIfNeeded } from '../src/data/read.js';
import { checkpointContent, decodeCheckpoint } from '../src/train/checkpoint-codec.js';
import { resolveTrainConfig } from '../src/train/config.js';
import { TrainingSession } from '../src/train/trainer.js';
import { inflate } from '../web/src/inflate.js';
import { checkPageMessage, type PageMessage, type WorkerMessage } from '../web/src/protocol.js';
import { SessionHost } from '../web/src/session-host.js';

import { syntheticMnistFiles } from './web-helpers.js';

const FILES = syntheticMnistFiles();
const RUN = { hidden: [32], epochs: 2, batchSize: 50, decayEpochs: [], seed: 5 };

/** A host on `engine`, its messages collected; `until` waits for a message matching a predicate. */
function harness(engine: Engine = new JsEngine()) {
  const messages: WorkerMessage[] = [];
  const waiters: { test: (m: WorkerMessage) => boolean; resolve: (m: WorkerMessage) => void }[] = [];
  const host = new SessionHost(
    (m) => {
      messages.push(m);
      for (const w of [...waiters])
        if (w.test(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
    },
    {
      createEngine: async () => engine,
      inflate,
      later: (fn) => void setImmediate(fn),
      now: () => performance.now(),
    },
  );
  const until = (test: (m: WorkerMessage) => boolean, timeoutMs = 60_000): Promise<WorkerMessage> => {
    const seen = messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      waiters.push({ test, resolve });
      setTimeout(
        () =>
          reject(
            new Error(`no such message within ${timeoutMs} ms; got ${messages.map((m) => m.type).join(' ')}`),
          ),
        timeoutMs,
      );
    });
  };
  const send = (m: PageMessage) => host.receive(m);
  /** Starts the runs and waits until all are done. */
  const runToEnd = async () => {
    await send({ type: 'start' });
    await until((m) => m.type === 'status' && m.status === 'done');
  };
  const of = <T extends WorkerMessage['type']>(type: T) =>
    messages.filter((m): m is Extract<WorkerMessage, { type: T }> => m.type === type);
  return { host, messages, until, send, of, engine, runToEnd };
}

async function ready(h: ReturnType<typeof harness>) {
  await h.send({ type: 'init', kernelsUrl: '' });
  await h.send({ type: 'data', dataset: 'mnist', files: FILES });
}

/** The same run trained directly, as the command line does. */
function direct(input: Record<string, unknown>, engine: Engine = new JsEngine()) {
  const data = assembleDataset('mnist', storedFromFiles('mnist', FILES), {}, gunzipIfNeeded);
  const config = resolveTrainConfig({ ...input, data: 'mnist', engine: engine.name }, 'test');
  return new TrainingSession(config, data, engine).run().epochs;
}

const core = (e: Record<string, unknown>) => ({
  epoch: e.epoch,
  train_loss: e.train_loss,
  train_acc: e.train_acc,
  test_acc: e.test_acc,
  test_loss: e.test_loss,
});

describe('the worker protocol', () => {
  it('refuses what is not a message, in one line', async () => {
    expect(checkPageMessage(null)).toBe('a message must be an object');
    expect(checkPageMessage({ type: 'fly' })).toBe('unknown message type "fly"');
    expect(checkPageMessage({ type: 'configure', runs: [] })).toBe(
      'a configure message needs at least one run',
    );
    const h = harness();
    await h.host.receive({ type: 'export' });
    expect(h.of('error')[0]?.message).toBe('an export message needs a run index');
  });

  it('loads the official files and reports what the command line loads', async () => {
    const h = harness();
    await ready(h);
    const data = h.of('data')[0]!;
    expect(data).toMatchObject({ dataset: 'mnist', train: 2000, test: 500 });
    expect(data.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(h.of('ready')[0]).toMatchObject({ engine: 'js', threads: 1 });
  });

  it("gives a corrupt or missing file the loader's message", async () => {
    // the command line's message for the same bytes on disk
    const dir = join(mkdtempSync(join(tmpdir(), 'topdown-web-')), 'mnist');
    mkdirSync(dir);
    const broken = FILES.map((f) =>
      f.name.startsWith('train-images') ? { ...f, bytes: f.bytes.subarray(0, 5000) } : f,
    );
    for (const f of broken) writeFileSync(join(dir, f.name), f.bytes);
    let cli = '';
    try {
      loadDataset('mnist', { dataDir: join(dir, '..') });
    } catch (error) {
      cli = (error as Error).message;
    }
    expect(cli).toMatch(new RegExp(`^${join(dir, 'train-images-idx3-ubyte.gz')}: unreadable gzip data \\(`));
    const h = harness();
    await h.send({ type: 'init', kernelsUrl: '' });
    await h.send({ type: 'data', dataset: 'mnist', files: broken });
    const error = h.of('error')[0]!;
    expect(error.during).toBe('data');
    expect(error.message).toMatch(/^train-images-idx3-ubyte.gz: unreadable gzip data \(/);
    await h.send({ type: 'data', dataset: 'mnist', files: FILES.slice(0, 3) });
    expect(h.of('error')[1]!.message).toContain('missing t10k-labels-idx1-ubyte(.gz)');
    const notImages = FILES.map((f) => (f.name.startsWith('t10k-images') ? FILES[1]! : f));
    await h.send({
      type: 'data',
      dataset: 'mnist',
      files: notImages.map((f, i) => (i === 2 ? { ...f, name: 't10k-images-idx3-ubyte.gz' } : f)),
    });
    expect(h.of('error')[2]!.message).toMatch(
      /^t10k-images-idx3-ubyte.gz: wrong magic number 0x00000801, expected 0x00000803/,
    );
  });

  it('trains two rules side by side, each exactly as the command line trains it alone', async () => {
    const h = harness();
    await ready(h);
    await h.send({
      type: 'configure',
      runs: [
        { ...RUN, rule: 'pepita' },
        { ...RUN, rule: 'bp' },
      ],
    });
    expect(h.of('configured')[0]!.runs.map((r) => r.label)).toEqual(['pepita', 'bp']);
    await h.runToEnd();
    const epochs = h.of('epoch');
    expect(epochs).toHaveLength(4);
    for (const [run, rule] of [
      [0, 'pepita'],
      [1, 'bp'],
    ] as const) {
      const mine = epochs.filter((e) => e.run === run).map((e) => e.logs);
      expect(mine.map(core)).toEqual(direct({ ...RUN, rule }).map(core));
      // the diagnostics the page adds: the update's angle to backprop's gradient (0 for backprop itself)
      expect(typeof mine[1]!.update_angle_deg).toBe('number');
      if (rule === 'bp') expect(mine[1]!.update_angle_deg).toBeLessThan(1e-3);
      else expect(mine[1]!.update_angle_deg).toBeGreaterThan(1);
    }
    expect(h.of('histogram').filter((m) => m.run === 0)).toHaveLength(2); // PEPITA's two passes, every epoch
    expect(h.of('histogram').filter((m) => m.run === 1)).toHaveLength(0);
    const views = h
      .of('views')
      .filter((v) => v.run === 0)
      .at(-1)!;
    expect(views.rows.map((r) => r.label)[0]).toBe('input x');
    expect(views.rows.length).toBeGreaterThanOrEqual(3); // x, x - F e, F e
    expect(views.rows[0]!.pixels).toHaveLength(6 * 784);
  });

  it('steps one batch, pauses and resumes to the same numbers', async () => {
    const h = harness();
    await ready(h);
    await h.send({ type: 'configure', runs: [{ ...RUN, rule: 'fa' }] });
    await h.send({ type: 'step' });
    await h.send({ type: 'step' });
    const steps = h.of('progress').map((p) => p.logs.batch);
    expect(steps).toEqual([1, 2]);
    expect(h.of('status').at(-1)!.status).toBe('paused');
    await h.send({ type: 'start' });
    await h.send({ type: 'pause' });
    const paused = h.of('status').at(-1)!.status;
    expect(['paused', 'done']).toContain(paused);
    await h.runToEnd();
    expect(h.of('epoch').map((e) => core(e.logs))).toEqual(direct({ ...RUN, rule: 'fa' }).map(core));
  });

  it('resets without growing the engine memory, and repeats the run from its seed', async () => {
    const made = createWasmEngine(1);
    if (!('engine' in made)) throw new Error(made.reason);
    const h = harness(made.engine);
    await ready(h);
    await h.send({ type: 'configure', runs: [{ ...RUN, epochs: 1, rule: 'pepita' }] });
    const first = made.engine.storageMark();
    await h.runToEnd();
    const afterRun = made.engine.storageMark();
    for (let i = 0; i < 3; i++) {
      await h.send({ type: 'reset' });
      await h.send({ type: 'start' });
      await h.until((m) => m.type === 'status' && m.status === 'done' && h.of('epoch').length === i + 2);
      expect(made.engine.storageMark()).toBe(afterRun);
    }
    expect(first).toBeLessThanOrEqual(afterRun);
    const results = h.of('epoch').map((e) => core(e.logs));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    // and within a long run: nothing is allocated per epoch (the probe's buffers come with the first epoch)
    const marks: number[] = [];
    const watch = h.of('epoch').length;
    await h.send({
      type: 'configure',
      runs: [
        { ...RUN, epochs: 5, rule: 'pepita' },
        { ...RUN, epochs: 5, rule: 'ff' },
      ],
    });
    await h.send({ type: 'start' });
    while (h.of('epoch').length < watch + 10) {
      await h.until((m) => m.type === 'epoch' && h.of('epoch').length > watch + marks.length);
      marks.push(made.engine.storageMark());
    }
    expect(new Set(marks.slice(2)).size).toBe(1);
  });

  it('exports a checkpoint the command line reads, and continues an imported one to the same numbers', async () => {
    const h = harness();
    await ready(h);
    await h.send({ type: 'configure', runs: [{ ...RUN, epochs: 1, rule: 'pepita' }] });
    await h.runToEnd();
    await h.send({ type: 'export', run: 0 });
    const exported = h.of('exported')[0]!;
    const content = checkpointContent(
      decodeCheckpoint(exported.checkpoint, 'checkpoint.bin'),
      'checkpoint.bin',
    );
    expect(content.epochsDone).toBe(1);
    expect(JSON.parse(exported.config)).toMatchObject({ rule: 'pepita', hidden: [32], epochs: 1 });
    expect(exported.metrics.trim().split('\n')).toHaveLength(1);
    // continue to 2 epochs: the same as 2 epochs straight
    const h2 = harness();
    await ready(h2);
    await h2.send({ type: 'import', name: 'checkpoint.bin', bytes: exported.checkpoint, epochs: 2 });
    expect(h2.of('configured')[0]!.runs[0]!.history).toHaveLength(1);
    await h2.runToEnd();
    expect(h2.of('epoch').map((e) => core(e.logs))).toEqual(
      direct({ ...RUN, epochs: 2, rule: 'pepita' })
        .slice(1)
        .map(core),
    );
    const damaged = exported.checkpoint.slice();
    damaged[damaged.length - 3]! ^= 1;
    await h2.send({ type: 'import', name: 'checkpoint.bin', bytes: damaged });
    expect(h2.of('error')[0]!.message).toMatch(
      /^checkpoint checkpoint.bin is damaged or not a topdown checkpoint: tensor .* fails its checksum$/,
    );
  });

  it('trains every registered rule with its defaults, all side by side', async () => {
    const h = harness();
    await ready(h);
    await h.send({
      type: 'configure',
      runs: RULE_NAMES.map((rule) => ({
        rule,
        hidden: [16],
        epochs: 1,
        trainSubset: 400,
        testSubset: 100,
        seed: 1,
      })),
    });
    expect(h.of('configured')[0]!.runs).toHaveLength(RULE_NAMES.length);
    await h.runToEnd();
    expect(h.of('error')).toEqual([]);
    expect(
      h
        .of('epoch')
        .map((e) => e.run)
        .sort((a, b) => a - b),
    ).toEqual(RULE_NAMES.map((_, i) => i));
  });

  it('says which option is wrong, in one line, and keeps the runs it had', async () => {
    const h = harness();
    await ready(h);
    await h.send({
      type: 'configure',
      runs: [
        { ...RUN, rule: 'pepita' },
        { ...RUN, rule: 'bp', batchSize: 0 },
      ],
    });
    expect(h.of('error')[0]!.message).toMatch(/^run 2: batchSize: /);
    await h.send({ type: 'configure', runs: [{ ...RUN, rule: 'bp', mode: 'hebbian' }] });
    expect(h.of('error')[1]!.message).toMatch(/mode/);
  });
});
