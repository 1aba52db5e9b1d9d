/**
 * The training worker's logic: the dataset, one {@link TrainingSession} per run (side by side: the same data
 * and seed, one rule each), driven batch by batch so that pause, step and reset answer at once, and every
 * result posted as a {@link WorkerMessage}. Nothing here touches the DOM or `self`: `worker.ts` connects it to
 * the page, the tests drive it in Node.
 */
import type { Engine } from '../../src/core/engine-base.js';
import { Matrix } from '../../src/core/matrix.js';
import { assembleDataset, storedFromFiles, type Inflate } from '../../src/data/assemble.js';
import { fillBatch, fillTargets, labelsAt } from '../../src/data/batches.js';
import { parseDatasetName } from '../../src/data/datasets.js';
import { datasetFingerprint } from '../../src/data/fingerprint.js';
import type { Dataset } from '../../src/data/assemble.js';
import { ruleLabel } from '../../src/rules/registry.js';
import { checkpointBytes, checkpointContent, decodeCheckpoint } from '../../src/train/checkpoint-codec.js';
import { resolveTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { restoreModel, snapshotModel } from '../../src/train/model.js';
import {
  TrainingSession,
  type CheckpointContent,
  type EpochLogs,
  type TrainCallbacks,
} from '../../src/train/trainer.js';

import {
  PROGRESS_MS,
  checkPageMessage,
  type HostStatus,
  type ImageRow,
  type PageMessage,
  type RunInput,
  type WorkerMessage,
} from './protocol.js';

/** What the host needs from where it runs. */
export interface HostEnvironment {
  /** The engine (the browser's wasm engine, or any engine in tests). */
  createEngine(init: { kernelsUrl: string; threads?: number }): Promise<Engine>;
  /** Inflates gzipped bytes (returns others unchanged), with the loaders' bound and messages. */
  inflate: Inflate;
  /** Runs `fn` after the messages already queued (a worker's `setTimeout(fn, 0)`). */
  later(fn: () => void): void;
  /** Milliseconds, monotonic. */
  now(): number;
}

/** Test samples shown in the image strip. */
export const STRIP_SAMPLES = 6;
/** Training time per slice before the host looks at its messages again. */
const SLICE_MS = 30;

interface Run {
  input: RunInput;
  config: TrainConfig;
  session: TrainingSession;
  steps: Generator<void, void>;
  done: boolean;
  /** Batches trained (all epochs). */
  step: number;
  lastProgress: number;
}

export class SessionHost {
  private engine: Engine | null = null;
  private engineMark = 0;
  private data: Dataset | null = null;
  private fingerprint = '';
  private runs: Run[] = [];
  private inputs: RunInput[] = [];
  private resume: CheckpointContent | null = null;
  private status: HostStatus = 'empty';
  private scheduled = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly post: (message: WorkerMessage) => void,
    private readonly env: HostEnvironment,
  ) {}

  /** Handles one message from the page (in order: each waits for the one before). */
  receive(raw: unknown): Promise<void> {
    this.queue = this.queue.then(() => this.handle(raw));
    return this.queue;
  }

  private async handle(raw: unknown): Promise<void> {
    const message = checkPageMessage(raw);
    if (typeof message === 'string') {
      this.post({ type: 'error', during: 'init', message });
      return;
    }
    try {
      await this.dispatch(message);
    } catch (error) {
      this.fail(message.type, error);
    }
  }

  private async dispatch(m: PageMessage): Promise<void> {
    switch (m.type) {
      case 'init': {
        this.engine = await this.env.createEngine(m);
        this.engineMark = this.engine.storageMark();
        const info = this.engine.info();
        this.post({
          type: 'ready',
          engine: info.name,
          threads: info.threads,
          shared: info.wasmSharedMemory ?? false,
          variant: info.wasmKernels ?? '',
        });
        return;
      }
      case 'data': {
        const name = parseDatasetName(m.dataset);
        const data = assembleDataset(name, storedFromFiles(name, m.files), {}, this.env.inflate);
        this.drop();
        this.data = data;
        this.fingerprint = datasetFingerprint(data);
        this.post({
          type: 'data',
          dataset: name,
          train: data.train.count,
          test: data.test.count,
          source: data.source,
          fingerprint: this.fingerprint,
        });
        this.setStatus('empty'); // the runs on the last dataset are gone
        return;
      }
      case 'configure':
        this.resume = null;
        this.build(m.runs);
        return;
      case 'import': {
        const content = checkpointContent(decodeCheckpoint(m.bytes, m.name), m.name);
        const epochs = m.epochs ?? content.config.epochs;
        this.resume = content;
        const { dataDir, ...config } = content.config;
        void dataDir;
        this.build([{ ...config, epochs }]);
        if (content.environment && content.environment.dataset !== this.fingerprint)
          this.post({
            type: 'notice',
            message: `${m.name} was trained on other data (${content.environment.dataset.slice(0, 19)}...) than the dataset loaded here: results may differ`,
          });
        return;
      }
      case 'reset':
        this.build(this.inputs);
        return;
      case 'start':
        if (this.status !== 'ready' && this.status !== 'paused') return;
        this.setStatus('running');
        this.schedule();
        return;
      case 'pause':
        if (this.status === 'running') this.setStatus('paused');
        return;
      case 'step':
        if (this.status === 'ready' || this.status === 'paused') {
          this.setStatus('paused');
          this.advance(true);
        }
        return;
      case 'export': {
        const run = this.runs[m.run];
        if (!run) throw new Error(`there is no run ${m.run}`);
        const content = run.session.checkpoint();
        const bytes = checkpointBytes(content);
        this.post({
          type: 'exported',
          run: m.run,
          name: `${run.config.rule}-${run.config.data}-seed${run.config.seed}`,
          checkpoint: bytes,
          metrics: content.history.map((e) => JSON.stringify(e) + '\n').join(''),
          config: JSON.stringify(run.config, null, 2) + '\n',
        });
        return;
      }
    }
  }

  /** Drops the sessions and gives their engine memory back. */
  private drop(): void {
    this.runs = [];
    this.engine?.releaseStorage(this.engineMark);
    this.status = 'empty';
  }

  private build(inputs: RunInput[]): void {
    if (!this.engine) throw new Error('the engine is not ready yet');
    if (!this.data) throw new Error('load a dataset first');
    const data = this.data;
    // every run is checked before any is built: a bad option leaves the last runs as they were
    const configs = inputs.map((input, i) =>
      resolveTrainConfig(
        { ...input, data: data.name, engine: this.engine!.name },
        inputs.length > 1 ? `run ${i + 1}` : 'the options',
      ),
    );
    this.drop();
    this.inputs = inputs;
    this.runs = configs.map((config, i) => {
      const session = new TrainingSession(config, data, this.engine!, {
        callbacks: [this.callbacks(i)],
        resume: this.resume,
      });
      return {
        input: inputs[i]!,
        config,
        session,
        steps: session.steps(),
        done: false,
        step: 0,
        lastProgress: 0,
      };
    });
    this.post({
      type: 'configured',
      runs: this.runs.map((r) => ({
        label: ruleLabel(r.config),
        config: r.config,
        history: [...r.session.history.epochs],
      })),
    });
    this.runs.forEach((_, i) => this.postViews(i, this.runs[i]!.session.completedEpochs));
    this.setStatus(this.runs.every((r) => r.session.completedEpochs >= r.config.epochs) ? 'done' : 'ready');
  }

  private callbacks(index: number): TrainCallbacks {
    return {
      onBatchEnd: (logs) => {
        const run = this.runs[index];
        if (!run) return;
        run.step++;
        const now = this.env.now();
        if (now - run.lastProgress >= PROGRESS_MS || this.status !== 'running') {
          run.lastProgress = now;
          this.post({ type: 'progress', run: index, logs, step: run.step });
        }
      },
      onEpochEnd: (logs, session) => {
        if (logs.phase === undefined) this.addUpdateAngles(logs, session);
        this.post({ type: 'epoch', run: index, logs });
        this.postViews(index, logs.epoch);
        if (session.model.rule.twoPasses)
          this.post({
            type: 'histogram',
            run: index,
            histogram: { epoch: logs.epoch, ...session.goodnessHistogram() },
          });
      },
    };
  }

  /** The angle between the update and backprop's gradient, merged into the epoch's metrics. */
  private addUpdateAngles(logs: EpochLogs, session: TrainingSession): void {
    try {
      const angles = session.gradientAngles();
      logs.update_angle_deg = angles.total;
      logs.update_layer_angles_deg = angles.perLayer;
    } catch {
      // a network backprop cannot differentiate (none today) simply has no such angle
    }
  }

  /** The image strip of a run: the inputs x and what the rule feeds its passes, for a few test samples. */
  private postViews(index: number, epoch: number): void {
    const run = this.runs[index];
    const data = this.data;
    if (!run || !data) return;
    const n = Math.min(STRIP_SAMPLES, data.test.count);
    const indices = Uint32Array.from({ length: n }, (_, i) => i);
    const x = new Matrix(n, data.features);
    const targets = new Matrix(n, data.classes);
    const labels = new Uint8Array(n);
    fillBatch(data.test, data.features, indices, 0, n, x.data, null);
    fillTargets(data.test, indices, 0, n, data.classes, targets.data);
    labelsAt(data.test, indices, 0, n, labels);
    const rows: ImageRow[] = [
      {
        label: 'input x',
        pixels: x.data.slice(),
        count: n,
        signed: false,
        perImage: false,
        captions: Array.from(labels, (l) => `label ${l}`),
      },
    ];
    const model = run.session.model;
    if (model.rule.inputViews && n <= run.config.batchSize) {
      const saved = snapshotModel(model); // a view must not change the run (some rules draw from a stream)
      try {
        for (const view of model.rule.inputViews({ x, targets })) {
          rows.push({
            label: view.label.replace(/\n/g, ' '),
            pixels: view.images.toFloat32Array(),
            count: n,
            signed: view.signed ?? false,
            perImage: view.perImage ?? false,
            captions: view.captions,
          });
        }
      } finally {
        restoreModel(model, saved, 'the image strip');
      }
    }
    this.post({ type: 'views', run: index, epoch, rows });
  }

  private setStatus(status: HostStatus): void {
    this.status = status;
    const running = this.runs.filter((r) => !r.done);
    const last = running.map((r) => r.session.history.last?.samples_per_s ?? 0);
    this.post({
      type: 'status',
      status,
      memoryBytes: (this.engine as unknown as { memoryBytes?: number })?.memoryBytes ?? 0,
      samplesPerS: last.reduce((a, b) => a + b, 0),
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.env.later(() => {
      this.scheduled = false;
      if (this.status !== 'running') return;
      const end = this.env.now() + SLICE_MS;
      try {
        while (this.status === 'running' && this.env.now() < end) if (!this.advance(false)) break;
      } catch (error) {
        this.fail('training', error);
        return;
      }
      if (this.status === 'running') this.schedule();
    });
  }

  /** One batch of every unfinished run; false when all are done. */
  private advance(single: boolean): boolean {
    let any = false;
    for (const run of this.runs) {
      if (run.done) continue;
      if (run.steps.next().done) run.done = true;
      else any = true;
    }
    if (!any) {
      this.setStatus('done');
      return false;
    }
    if (single) this.setStatus('paused');
    return true;
  }

  private fail(during: PageMessage['type'] | 'training', error: unknown): void {
    if (during === 'training') {
      this.status = 'paused';
      for (const r of this.runs) r.done = true;
    }
    const message = error instanceof Error ? error.message : String(error);
    this.post({ type: 'error', during, message: message.split('\n')[0]! });
    if (during === 'training') this.setStatus('done');
  }
}
