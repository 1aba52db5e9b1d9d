/**
 * The training loop: epochs of seeded, shuffled mini-batches (the last partial batch dropped, as in the
 * reference code), evaluation every epoch, callbacks in the TensorFlow.js style, a divergence guard,
 * per-epoch metrics and checkpoints. The library never prints; progress goes through callbacks.
 */
import type { Engine } from '../core/engine-base.js';
import { Rng, type RngState } from '../core/rng.js';
import { TopdownUsageError } from '../core/errors.js';
import { Matrix } from '../core/matrix.js';
import { channelStats, fillBatch, fillTargets, labelsAt, type PixelTransform } from '../data/batches.js';
import { datasetFingerprint } from '../data/fingerprint.js';
import type { Dataset, Split } from '../data/assemble.js';
import { argmaxRows } from '../metrics/accuracy.js';
import { goodnessDifferences, histogram, summary } from '../metrics/goodness.js';
import { matrixStats } from '../metrics/norms.js';
import { ForwardState, forward } from '../nn/forward.js';
import { stepDecayLr } from '../optim/schedule.js';
import type { UpdateAngles } from '../metrics/angles.js';
import { GradientProbe } from '../rules/gradient-alignment.js';
import { batchLoss } from '../rules/output-error.js';
import type { ExtraClassifier, MetricValue } from '../rules/rule.js';

import type { TrainConfig } from './config.js';
import { buildModel, restoreModel, snapshotModel, type Model, type ModelSnapshot } from './model.js';

/**
 * Metrics of one finished epoch (one line of metrics.jsonl): a documented core plus whatever the rule's
 * diagnostics and the callbacks name (angles, goodness per layer, extra classifiers' accuracies).
 */
export interface EpochLogs {
  /** 1-based training epoch; prelude epochs (pre-mirroring) count up to 0 (..., -1, 0). */
  epoch: number;
  /** Set on prelude epochs: their phase (e.g. `pre-mirror`). */
  phase?: string;
  lr: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  val_loss?: number;
  val_acc?: number;
  weight_norms: number[];
  seconds: number;
  samples_per_s: number;
  /** The rule's diagnostics (e.g. `angle_deg`, `layer_angles_deg`, `goodness_pos`) and callbacks' metrics. */
  [metric: string]: MetricValue | undefined;
}

/** Running numbers of the current epoch, passed to onBatchEnd. */
export interface BatchLogs {
  epoch: number;
  phase?: string;
  batch: number;
  batches: number;
  loss: number;
  acc: number;
  samples_per_s: number;
}

/**
 * TensorFlow.js-style hooks; any may set `session.stopTraining = true`. `onEpochEnd` hooks run in order and
 * may add metrics to `logs` for the ones after them (the run folder, last, writes the line).
 */
export interface TrainCallbacks {
  onTrainBegin?(session: TrainingSession): void;
  onEpochBegin?(epoch: number, session: TrainingSession): void;
  onBatchEnd?(logs: BatchLogs, session: TrainingSession): void;
  onEpochEnd?(logs: EpochLogs, session: TrainingSession): void;
  onTrainEnd?(history: History, session: TrainingSession): void;
  /** Training stopped inside an epoch (see {@link TrainingSession.requestStop}); the run folder checkpoints. */
  onInterrupt?(session: TrainingSession): void;
  /** A record for a side stream (e.g. `goodness-histograms`), emitted with {@link TrainingSession.record}. */
  onRecord?(
    stream: string,
    record: { epoch: number } & Record<string, unknown>,
    session: TrainingSession,
  ): void;
}

/** The result of training: one entry per completed epoch. */
export class History {
  constructor(readonly epochs: EpochLogs[] = []) {}

  get last(): EpochLogs | undefined {
    return this.epochs[this.epochs.length - 1];
  }
}

/** Thrown when the loss becomes NaN/Inf or explodes; names where, and the run stops. */
export class TrainingDivergedError extends TopdownUsageError {
  /**
   * @param batch - the batch where it was seen, or null for a collapse seen at the end of the epoch
   * @param reason - what was seen, e.g. `the loss is NaN`
   */
  constructor(
    readonly epoch: number,
    readonly batch: number | null,
    readonly reason: string,
  ) {
    super(
      `training diverged at epoch ${epoch}${batch === null ? '' : `, batch ${batch}`}: ${reason}; this state is not checkpointed, the last good checkpoint stays (a new run with a smaller --lr may learn)`,
    );
  }
}

/** Loss above this many times the first batch's (and above 1e3) counts as exploding. */
const EXPLODE_FACTOR = 1e3;
/** A weight matrix whose norm grew this many times from the start of the session counts as exploding. */
const WEIGHT_EXPLODE_FACTOR = 1e3;

/**
 * Why an epoch's results show a collapsed network (null: they do not): weights exploding; test accuracy at
 * chance with a loss far worse than guessing uniformly (a saturated, confidently wrong softmax); or test
 * accuracy back at chance after having been well above it.
 */
export function collapseCause(
  logs: EpochLogs,
  classes: number,
  bestAccuracy: number,
  referenceNorms: readonly number[],
): string | null {
  const chance = 1 / classes;
  for (let l = 0; l < logs.weight_norms.length; l++) {
    const norm = logs.weight_norms[l]!;
    const ref = referenceNorms[l] ?? 0;
    if (!Number.isFinite(norm)) return `the weights of layer ${l + 1} are ${norm}`;
    if (ref > 0 && norm > WEIGHT_EXPLODE_FACTOR * ref)
      return `the weights of layer ${l + 1} exploded (norm ${norm.toExponential(2)}, ${(norm / ref).toExponential(1)} times their start)`;
  }
  const atChance = logs.test_acc <= 1.2 * chance;
  if (atChance && logs.test_loss > 3 * Math.log(classes))
    return `test accuracy ${(100 * logs.test_acc).toFixed(1)}% (chance) with a test loss of ${logs.test_loss.toFixed(2)}, far worse than guessing`;
  if (atChance && bestAccuracy >= 2 * chance)
    return `test accuracy fell to ${(100 * logs.test_acc).toFixed(1)}% (chance) from ${(100 * bestAccuracy).toFixed(1)}%`;
  return null;
}
const EVAL_BATCH = 1000;

/**
 * The distribution over the test set of ||h_1||^2 - ||h_1'||^2 between a rule's two passes (PEPITA: clean and
 * modulated, Fig. S2; FF: positive and negative), taken after `epoch` epochs (0: before training).
 */
export interface GoodnessHistogram {
  epoch: number;
  /** The names of the two passes (first minus second), e.g. ['clean', 'modulated']. */
  passes?: [string, string];
  edges: number[];
  counts: number[];
  mean: number;
  std: number;
  p05: number;
  median: number;
  p95: number;
  n: number;
}

/** Where an epoch's results go: the run folder implements it (as the last callback of the loop). */
export type EpochSink = TrainCallbacks;

/** An epoch stopped after some of its batches: what resuming it needs besides the model. */
export interface PartialEpoch {
  slot: number;
  epoch: number;
  batchesDone: number;
  /** The shuffle stream's state before the epoch's order was drawn (the order is drawn again from it). */
  orderStream: RngState;
  lossSum: number;
  correct: number;
  firstLoss: number;
}

/** What a run was computed with, recorded in its checkpoints. */
export interface RunEnvironment {
  engine: string;
  threads: number;
  /** `sha256:...` of the dataset's examples (see `datasetFingerprint`). */
  dataset: string;
}

/** A checkpoint: the config, epochs completed, the model and the history so far. */
export interface CheckpointContent {
  config: TrainConfig;
  /** Training epochs completed. */
  epochsDone: number;
  /** Prelude epochs completed (pre-mirroring). */
  preludeDone: number;
  /** Set when the checkpoint was taken inside an epoch. */
  partial?: PartialEpoch | null;
  /** Where the run was computed and on what (a resume elsewhere is warned about: results may differ). */
  environment?: RunEnvironment;
  model: ModelSnapshot;
  history: EpochLogs[];
}

export interface SessionOptions {
  callbacks?: TrainCallbacks[];
  /** The last callback (the run folder): writes each epoch's line and the checkpoints. */
  sink?: EpochSink | null;
  /** Resume from this checkpoint (its config must equal `config` in everything that shapes the run). */
  resume?: CheckpointContent | null;
}

/** The first `n` examples of a split (all of them when n is undefined). */
function firstExamples(split: Split, features: number, n: number | undefined): Split {
  if (n === undefined || n >= split.count) return split;
  return {
    pixels: split.pixels.subarray(0, n * features),
    labels: split.labels.subarray(0, n),
    ...(split.coarseLabels ? { coarseLabels: split.coarseLabels.subarray(0, n) } : {}),
    count: n,
  };
}

/**
 * One training run: the model built from the config, its data (the config's `trainSubset` and `testSubset`
 * applied), the loop and its callbacks. `openTrainingSession` (train/open.ts, Node) loads the dataset and the engine the
 * config names; the constructor takes them ready.
 */
export class TrainingSession {
  /** Set to true (from a callback) to end training after the current epoch. */
  stopTraining = false;
  /** The last callback: where epochs and checkpoints go (from the options; may be set before {@link TrainingSession.run}). */
  sink: EpochSink | null;
  readonly model: Model;
  readonly history: History;
  private epochsDone = 0;
  /** Set by requestStop('batch'): stop after the current batch. */
  private stopNow = false;
  /** The epoch in progress when training stopped inside it (saved in checkpoints, resumed from). */
  private partial: PartialEpoch | null = null;
  private preludeDone = 0;
  private readonly preludeEpochs: number;
  private readonly trainIndices: Uint32Array;
  private readonly valIndices: Uint32Array;
  private readonly testIndices: Uint32Array;
  private readonly transform: PixelTransform | null;
  private readonly x: Matrix;
  private readonly targets: Matrix;
  private readonly labels: Uint8Array;
  private readonly evalState: ForwardState;
  private readonly evalX: Matrix;
  private readonly evalLabels: Uint8Array;
  private readonly evalTargets: Matrix;
  /** Argmax scratch for accuracy, sized for the larger of the training and evaluation batches. */
  private readonly predicted: Int32Array;
  private readonly builtIn: TrainCallbacks[];
  /** The weights' norms when the session started (what "exploding" is measured against). */
  private readonly referenceNorms: number[];
  private fingerprint: string | null = null;
  private probe: GradientProbe | null = null;

  readonly data: Dataset;

  constructor(
    readonly config: TrainConfig,
    data: Dataset,
    readonly engine: Engine,
    private readonly options: SessionOptions = {},
  ) {
    if (data.name !== config.data) {
      throw new TopdownUsageError(
        `the config trains on ${config.data} but the dataset given is ${data.name}`,
      );
    }
    this.data = {
      ...data,
      train: firstExamples(data.train, data.features, config.trainSubset),
      test: firstExamples(data.test, data.features, config.testSubset),
    };
    data = this.data;
    const features = data.features;
    const classes = data.classes;
    this.model = buildModel(config, features, classes, engine, data.shape);
    this.preludeEpochs = this.model.rule.prelude?.epochs ?? 0;
    const valCount = config.valSplit;
    if (valCount >= data.train.count) {
      throw new TopdownUsageError(
        `valSplit ${valCount} leaves no training samples (train set has ${data.train.count})`,
      );
    }
    // The validation split is drawn once from its own stream, independent of the per-epoch shuffles.
    const order = this.model.streams.shuffle.derive('validation').permutation(data.train.count);
    this.valIndices = order.slice(0, valCount);
    this.trainIndices = valCount > 0 ? order.slice(valCount).sort() : order.sort();
    if (this.trainIndices.length < config.batchSize) {
      throw new TopdownUsageError(
        `batch size ${config.batchSize} is larger than the ${this.trainIndices.length} training samples`,
      );
    }
    this.testIndices = Uint32Array.from({ length: data.test.count }, (_, i) => i);
    this.transform = config.standardize
      ? { standardize: true, ...channelStats(data.train, data.shape) }
      : null;
    this.x = Matrix.zeros(config.batchSize, features, engine);
    this.targets = Matrix.zeros(config.batchSize, classes, engine);
    this.labels = new Uint8Array(config.batchSize);
    const evalBatch = Math.min(EVAL_BATCH, Math.max(data.test.count, valCount, 1));
    this.evalState = new ForwardState(this.model.net, evalBatch, engine, false);
    this.evalX = Matrix.zeros(evalBatch, features, engine);
    this.evalTargets = Matrix.zeros(evalBatch, classes, engine);
    this.evalLabels = new Uint8Array(evalBatch);
    this.predicted = new Int32Array(Math.max(evalBatch, config.batchSize));
    this.history = new History();
    this.sink = options.sink ?? null;
    this.builtIn = [classifierCallback()];
    if (config.goodnessHistogramEpochs.length)
      this.builtIn.push(goodnessHistogramCallback(config.goodnessHistogramEpochs));
    const resume = options.resume;
    this.referenceNorms = this.model.net.weights.map((w) => matrixStats(w).frobenius);
    if (resume) {
      checkResumable(resume.config, config);
      restoreModel(this.model, resume.model, 'resume');
      this.epochsDone = resume.epochsDone;
      this.preludeDone = resume.preludeDone;
      this.partial = resume.partial ?? null;
      this.history.epochs.push(...resume.history);
    }
  }

  /** The engine, threads and dataset fingerprint of this session (the fingerprint computed once). */
  environment(): RunEnvironment {
    this.fingerprint ??= datasetFingerprint(this.data);
    return { engine: this.engine.name, threads: this.engine.info().threads, dataset: this.fingerprint };
  }

  /** The best test accuracy logged so far. */
  private bestAccuracy(): number {
    return this.history.epochs.reduce((best, e) => Math.max(best, e.test_acc), 0);
  }

  /** Training epochs completed so far (prelude epochs not counted). */
  get completedEpochs(): number {
    return this.epochsDone;
  }

  /** Prelude epochs completed so far. */
  get completedPreludeEpochs(): number {
    return this.preludeDone;
  }

  /** The callbacks of the loop in order: built-in metrics, the caller's, then the sink. */
  private callbacks(): TrainCallbacks[] {
    return [...this.builtIn, ...(this.options.callbacks ?? []), ...(this.sink ? [this.sink] : [])];
  }

  /** Sends `record` to every callback's `onRecord` (the run folder appends it to `<stream>.jsonl`). */
  record(stream: string, record: { epoch: number } & Record<string, unknown>): void {
    for (const c of this.callbacks()) c.onRecord?.(stream, record, this);
  }

  /**
   * True when the epoch just finished should be checkpointed: every prelude epoch, every `checkpointEvery`
   * training epochs, the last one, and when training stops early.
   */
  get checkpointDue(): boolean {
    return (
      this.epochsDone === 0 ||
      this.epochsDone === this.config.epochs ||
      this.epochsDone % this.config.checkpointEvery === 0 ||
      this.stopTraining
    );
  }

  /** Trains until `config.epochs` or `stopTraining`; returns the history. */
  run(): History {
    const steps = this.steps();
    while (!steps.next().done);
    return this.history;
  }

  /**
   * As {@link TrainingSession.run}, but yields to the event loop after every batch, so that signal handlers
   * and timers run during training (a handler may then call {@link TrainingSession.requestStop}).
   */
  async runAsync(): Promise<History> {
    const steps = this.steps();
    while (!steps.next().done) await nextTurn();
    return this.history;
  }

  /**
   * Asks training to stop: `epoch` after the current epoch (as `stopTraining = true`), `batch` after the
   * current batch, with a checkpoint of the epoch so far when there is a sink (resuming continues from the next
   * batch, bit for bit).
   */
  requestStop(when: 'epoch' | 'batch' = 'epoch'): void {
    this.stopTraining = true;
    if (when === 'batch') this.stopNow = true;
  }

  /** Where training stopped inside an epoch (after {@link TrainingSession.requestStop} of `batch`), or null. */
  get interruptedAt(): { epoch: number; batch: number } | null {
    return this.partial ? { epoch: this.partial.epoch, batch: this.partial.batchesDone } : null;
  }

  /**
   * The loop as a generator, one batch per step: what {@link TrainingSession.run} drives to the end, and what
   * a caller drives at its own pace (the browser app's worker pauses, steps one batch, resumes). Start one at
   * a time; a new one continues where the last one stopped only at an epoch's end.
   */
  *steps(): Generator<void, void> {
    const { config } = this;
    const callbacks = this.callbacks();
    for (const c of callbacks) c.onTrainBegin?.(this);
    while (this.epochsDone < config.epochs && !this.stopTraining) {
      const prelude = this.preludeDone < this.preludeEpochs;
      const slot = this.preludeDone + this.epochsDone;
      const epoch = prelude ? this.preludeDone - this.preludeEpochs + 1 : this.epochsDone + 1;
      for (const c of callbacks) c.onEpochBegin?.(epoch, this);
      const logs = yield* this.trainEpoch(slot, epoch, prelude, callbacks);
      if (!logs) {
        for (const c of callbacks) c.onInterrupt?.(this);
        return;
      }
      // a collapsed network is never logged as an epoch nor checkpointed over the last good state
      const cause = collapseCause(logs, this.data.classes, this.bestAccuracy(), this.referenceNorms);
      if (cause) throw new TrainingDivergedError(epoch, null, cause);
      if (prelude) this.preludeDone++;
      else this.epochsDone++;
      this.history.epochs.push(logs);
      for (const c of callbacks) c.onEpochEnd?.(logs, this);
    }
    for (const c of callbacks) c.onTrainEnd?.(this.history, this);
  }

  /** The current state as checkpoint content. */
  checkpoint(): CheckpointContent {
    return {
      config: this.config,
      epochsDone: this.epochsDone,
      preludeDone: this.preludeDone,
      ...(this.partial ? { partial: { ...this.partial } } : {}),
      environment: this.environment(),
      model: snapshotModel(this.model),
      history: [...this.history.epochs],
    };
  }

  /** One epoch, yielding after each batch; returns its metrics, or null when stopped after a batch. */
  private *trainEpoch(
    slot: number,
    epoch: number,
    prelude: boolean,
    callbacks: TrainCallbacks[],
  ): Generator<void, EpochLogs | null> {
    const { config, model, data } = this;
    const schedule = {
      milestones: config.decayEpochs,
      gamma: config.decayFactor,
      timing: config.decayTiming,
    };
    const index = Math.max(0, epoch - 1); // the schedule counts training epochs only
    for (const o of model.optimizers)
      if (o.scheduled) o.optimizer.lr = stepDecayLr(o.baseLr, index, schedule);
    const lr = model.optimizer.lr;
    model.rule.beginEpoch?.(slot);
    // an epoch resumed from inside: the same order (from the stream's state before it was drawn), its sums
    const resumed = this.partial?.epoch === epoch && this.partial.slot === slot ? this.partial : null;
    if (resumed) model.streams.shuffle = Rng.fromState(resumed.orderStream);
    const orderStream = model.streams.shuffle.state();
    const order = model.streams.shuffle.shuffle(this.trainIndices.slice());
    const b = config.batchSize;
    const batches = Math.floor(order.length / b);
    const start = performance.now();
    let lossSum = resumed?.lossSum ?? 0;
    let correct = resumed?.correct ?? 0;
    let firstLoss = resumed?.firstLoss ?? NaN;
    if (resumed) this.partial = null;
    const batch = { x: this.x, targets: this.targets };
    const phase = prelude ? model.rule.prelude!.phase : undefined;
    for (let i = resumed?.batchesDone ?? 0; i < batches; i++) {
      fillBatch(data.train, data.features, order, i * b, b, this.x.data, this.transform);
      fillTargets(data.train, order, i * b, b, data.classes, this.targets.data);
      labelsAt(data.train, order, i * b, b, this.labels);
      model.masks?.draw(model.streams.dropout);
      const state = model.rule.train(batch, model.optimizer, model.masks);
      const loss = batchLoss(state, this.targets);
      if (i === 0) firstLoss = loss;
      if (!Number.isFinite(loss) || (loss > EXPLODE_FACTOR * Math.max(1, firstLoss) && slot + i > 0)) {
        const cause = Number.isFinite(loss)
          ? `the loss is ${loss.toExponential(3)} (exploding)`
          : `the loss is ${loss}`;
        throw new TrainingDivergedError(epoch, i + 1, cause);
      }
      lossSum += loss;
      correct += countCorrect(state.output, this.labels, this.predicted);
      if (callbacks.length) {
        const elapsed = (performance.now() - start) / 1000;
        const logs: BatchLogs = {
          epoch,
          ...(phase ? { phase } : {}),
          batch: i + 1,
          batches,
          loss: lossSum / (i + 1),
          acc: correct / ((i + 1) * b),
          samples_per_s: ((i + 1) * b) / elapsed,
        };
        for (const c of callbacks) c.onBatchEnd?.(logs, this);
      }
      yield;
      if (this.stopNow && i + 1 < batches) {
        this.partial = { slot, epoch, batchesDone: i + 1, orderStream, lossSum, correct, firstLoss };
        return null;
      }
    }
    const seconds = (performance.now() - start) / 1000;
    const test = this.evaluate(data.test, this.testIndices);
    const logs: EpochLogs = {
      epoch,
      ...(phase ? { phase } : {}),
      lr,
      train_loss: lossSum / batches,
      train_acc: correct / (batches * b),
      test_loss: test.loss,
      test_acc: test.accuracy,
      weight_norms: model.net.weights.map((w) => matrixStats(w).frobenius),
      seconds,
      samples_per_s: (batches * b) / seconds,
    };
    if (this.valIndices.length > 0) {
      const val = this.evaluate(data.train, this.valIndices);
      logs.val_loss = val.loss;
      logs.val_acc = val.accuracy;
    }
    Object.assign(logs, model.rule.diagnostics?.() ?? {});
    return logs;
  }

  /**
   * The angle between the rule's update and backprop's gradient on the first `n` training samples (a fixed
   * batch, no dropout), the run left exactly as it was: model, optimiser state and random streams are restored,
   * so measuring changes nothing that follows. Its buffers are allocated on the first call only.
   */
  gradientAngles(n = this.config.batchSize): UpdateAngles {
    const { data } = this;
    const rows = Math.max(1, Math.min(n, this.config.batchSize, this.trainIndices.length));
    if (!this.probe || this.probe.maxBatch < rows)
      this.probe = new GradientProbe(this.engine, this.model.net, rows);
    fillBatch(data.train, data.features, this.trainIndices, 0, rows, this.x.data, this.transform);
    fillTargets(data.train, this.trainIndices, 0, rows, data.classes, this.targets.data);
    const batch = {
      x: this.x.view(0, 0, rows, data.features),
      targets: this.targets.view(0, 0, rows, data.classes),
    };
    const saved = snapshotModel(this.model);
    try {
      return this.probe.angles(this.model.rule, batch, null);
    } finally {
      restoreModel(this.model, saved, 'the gradient probe');
    }
  }

  /** The ||h_1||^2 - ||h_1'||^2 distribution of the rule's two passes over the test set (60 bins). */
  goodnessHistogram(): Omit<GoodnessHistogram, 'epoch'> {
    const { data, config } = this;
    const rule = this.model.rule;
    if (!rule.twoPasses) throw new TopdownUsageError(`rule ${rule.name} has no second pass to compare`);
    const values = new Float64Array(this.testIndices.length);
    const b = config.batchSize;
    for (let from = 0; from < values.length; from += b) {
      const n = Math.min(b, values.length - from);
      const x = this.x.view(0, 0, n, data.features);
      const targets = this.targets.view(0, 0, n, data.classes);
      fillBatch(data.test, data.features, this.testIndices, from, n, x.data, this.transform);
      fillTargets(data.test, this.testIndices, from, n, data.classes, targets.data);
      const { first, second } = rule.twoPasses({ x, targets });
      const raw = (s: ForwardState) => {
        const m = s.unnormalized[0] ?? s.post[0]!;
        return m.view(0, 0, n, m.cols);
      };
      goodnessDifferences(raw(first), raw(second), values.subarray(from, from + n));
    }
    const h = histogram(values, { bins: 60 });
    const s = summary(values);
    return {
      edges: Array.from(h.edges),
      counts: Array.from(h.counts),
      mean: s.mean,
      std: s.std,
      p05: s.p05,
      median: s.median,
      p95: s.p95,
      n: s.n,
    };
  }

  /** Accuracy of one of the rule's extra classifiers on `indices` of `split` (default: the test set). */
  classifierAccuracy(
    classifier: ExtraClassifier,
    split: Split = this.data.test,
    indices: Uint32Array = this.testIndices,
  ): number {
    const { data } = this;
    const cap = this.evalState.maxBatch;
    let correct = 0;
    for (let from = 0; from < indices.length; from += cap) {
      const n = Math.min(cap, indices.length - from);
      fillBatch(split, data.features, indices, from, n, this.evalX.data, this.transform);
      labelsAt(split, indices, from, n, this.evalLabels);
      classifier.predict(this.evalX.view(0, 0, n, data.features), this.predicted);
      for (let i = 0; i < n; i++) if (this.predicted[i] === this.evalLabels[i]) correct++;
    }
    return correct / indices.length;
  }

  /** Accuracy and mean loss on `indices` of `split`, without dropout. */
  evaluate(split: Split, indices: Uint32Array): { accuracy: number; loss: number } {
    const { data } = this;
    const cap = this.evalState.maxBatch;
    let correct = 0;
    let loss = 0;
    for (let from = 0; from < indices.length; from += cap) {
      const n = Math.min(cap, indices.length - from);
      fillBatch(split, data.features, indices, from, n, this.evalX.data, this.transform);
      fillTargets(split, indices, from, n, data.classes, this.evalTargets.data);
      labelsAt(split, indices, from, n, this.evalLabels);
      const x = this.evalX.view(0, 0, n, data.features);
      this.model.rule.prepareInput?.(x);
      const y = forward(this.engine, this.evalState, x, null);
      correct += countCorrect(y, this.evalLabels, this.predicted);
      loss += batchLoss(this.evalState, this.evalTargets.view(0, 0, n, data.classes)) * n;
    }
    return { accuracy: correct / indices.length, loss: loss / indices.length };
  }
}

/** Resolves after the event loop has run what is pending (Node's setImmediate; a macrotask elsewhere). */
function nextTurn(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => void }).setImmediate;
  return new Promise<void>((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

/** Rows of `y` whose argmax (metrics' argmaxRows: ties to the lowest index, NaN rows wrong) equals the label. */
function countCorrect(y: Matrix, labels: Uint8Array, predicted: Int32Array): number {
  argmaxRows(y, predicted);
  let correct = 0;
  for (let r = 0; r < y.rows; r++) if (predicted[r] === labels[r]) correct++;
  return correct;
}

/** What a resumed run may change: where the data are, how it computes, how long it trains, what it logs. */
export const RESUMABLE_CHANGES: readonly string[] = [
  'dataDir',
  'engine',
  'threads',
  'epochs',
  'maxMemory',
  'tensorboard',
];

/** JSON with mapping keys sorted, so that equal values compare equal whatever their key order. */
export function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  );
}

/** Throws unless `config` equals the checkpoint's in everything that shapes the run. */
function checkResumable(saved: TrainConfig, config: TrainConfig): void {
  for (const key of new Set([...Object.keys(saved), ...Object.keys(config)])) {
    if (RESUMABLE_CHANGES.includes(key)) continue;
    const [a, b] = [canonicalJson(saved[key]), canonicalJson(config[key])];
    if (a !== b)
      throw new TopdownUsageError(`cannot resume: the checkpoint was trained with ${key} ${a}, not ${b}`);
  }
}

/** The side stream goodness histograms are recorded in (the run folder's `goodness-histograms.jsonl`). */
export const GOODNESS_HISTOGRAMS = 'goodness-histograms';

/** Evaluates the rule's extra classifiers (FF's goodness classifier) when due, adding their accuracies. */
function classifierCallback(): TrainCallbacks {
  return {
    onEpochEnd(logs, session) {
      if (logs.phase !== undefined) return;
      const last = logs.epoch === session.config.epochs;
      for (const c of session.model.rule.classifiers ?? []) {
        if (logs.epoch % c.every === 0 || last) logs[c.metric] = session.classifierAccuracy(c);
      }
    },
  };
}

/**
 * Records the distribution of ||h_1||^2 - ||h_1'||^2 between the rule's two passes at the listed epochs
 * (0: before training, after any prelude) as `goodness-histograms` records.
 */
function goodnessHistogramCallback(epochs: readonly number[]): TrainCallbacks {
  const take = (session: TrainingSession, epoch: number): void => {
    const passes = session.model.definition.passes;
    session.record(GOODNESS_HISTOGRAMS, {
      epoch,
      ...(passes ? { passes: [passes.first, passes.second] } : {}),
      ...session.goodnessHistogram(),
    });
  };
  return {
    onTrainBegin(session) {
      const fresh = session.completedEpochs === 0 && session.completedPreludeEpochs === 0;
      if (fresh && !session.model.rule.prelude && epochs.includes(0)) take(session, 0);
    },
    onEpochEnd(logs, session) {
      if (epochs.includes(logs.epoch) && (logs.phase === undefined || logs.epoch === 0))
        take(session, logs.epoch);
    },
  };
}
