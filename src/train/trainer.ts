/**
 * The training loop: epochs of seeded, shuffled mini-batches (the last partial batch dropped, as in the
 * reference code), evaluation every epoch, callbacks in the TensorFlow.js style, a divergence guard,
 * per-epoch metrics and checkpoints. The library never prints; progress goes through callbacks.
 */
import type { Engine } from '../core/engine.js';
import { TopdownUsageError } from '../core/errors.js';
import { Matrix } from '../core/matrix.js';
import {
  channelStats,
  fillBatch,
  fillTargets,
  labelsAt,
  type Dataset,
  type PixelTransform,
  type Split,
} from '../data/index.js';
import { argmaxRows } from '../metrics/accuracy.js';
import { goodnessDifferences, histogram, summary } from '../metrics/goodness.js';
import { angleDegrees, feedbackAlignmentAngle, layerAlignmentAngles } from '../metrics/angles.js';
import { matrixStats } from '../metrics/norms.js';
import { ForwardState, forward } from '../nn/forward.js';
import { stepDecayLr } from '../optim/schedule.js';
import { batchLoss } from '../rules/output-error.js';
import { pepitaStepWithMirroring } from '../rules/pepita-mirroring.js';
import { PepitaRule } from '../rules/pepita.js';

import type { TrainConfig } from './config.js';
import { buildModel, restoreModel, snapshotModel, type Model, type ModelSnapshot } from './model.js';

/** Metrics of one finished epoch (one line of metrics.jsonl). */
export interface EpochLogs {
  /** 1-based epoch number. */
  epoch: number;
  lr: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  val_loss?: number;
  val_acc?: number;
  /** Angle between F and (W_L ... W_1)^T (PEPITA, AFA). */
  angle_deg?: number;
  /** Angles between W_l^T and F's factors (factorised F), or between FA's feedback and the W it replaces. */
  layer_angles_deg?: number[];
  weight_norms: number[];
  feedback_std?: number;
  /** Forward-Forward's goodness classifier on the test set (every ffGoodnessEvalEvery epochs). */
  test_acc_goodness?: number;
  /** Forward-Forward: mean goodness of positive and negative passes, and the loss, per hidden layer. */
  goodness_pos?: number[];
  goodness_neg?: number[];
  ff_loss?: number[];
  /** PEPITA: mean ||h_l||^2 of the clean and modulated passes per hidden layer (FF's two phases). */
  goodness_clean?: number[];
  goodness_modulated?: number[];
  seconds: number;
  samples_per_s: number;
}

/** Running numbers of the current epoch, passed to onBatchEnd. */
export interface BatchLogs {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  acc: number;
  samples_per_s: number;
}

/** TensorFlow.js-style hooks; any may set `session.stopTraining = true`. */
export interface TrainCallbacks {
  onTrainBegin?(session: TrainingSession): void;
  onEpochBegin?(epoch: number, session: TrainingSession): void;
  onBatchEnd?(logs: BatchLogs, session: TrainingSession): void;
  onEpochEnd?(logs: EpochLogs, session: TrainingSession): void;
  onTrainEnd?(history: History, session: TrainingSession): void;
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
  constructor(
    readonly epoch: number,
    readonly batch: number,
    readonly loss: number,
  ) {
    super(
      `training diverged at epoch ${epoch}, batch ${batch}: the loss is ${Number.isFinite(loss) ? `${loss.toExponential(3)} (exploding)` : String(loss)}; try a smaller learning rate`,
    );
  }
}

/** Loss above this many times the first batch's (and above 1e3) counts as exploding. */
const EXPLODE_FACTOR = 1e3;
const EVAL_BATCH = 1000;

/**
 * The distribution over the test set of ||h_1||^2 - ||h_1'||^2 between a rule's two passes (PEPITA: clean and
 * modulated, Fig. S2; FF: positive and negative), taken after `epoch` epochs (0: before training).
 */
export interface GoodnessHistogram {
  epoch: number;
  edges: number[];
  counts: number[];
  mean: number;
  std: number;
  p05: number;
  median: number;
  p95: number;
  n: number;
}

/** Where an epoch's results go: the run folder implements it; tests may collect in memory. */
export interface EpochSink {
  /** Called after every epoch, before the checkpoint. */
  writeEpoch(logs: EpochLogs): void;
  /** Called at the epochs listed in config.goodnessHistogramEpochs. */
  writeHistogram?(record: GoodnessHistogram): void;
  /** Called every `checkpointEvery` epochs and after the last one. */
  writeCheckpoint(snapshot: CheckpointContent): void;
}

/** A checkpoint: the config, epochs completed, the model and the history so far. */
export interface CheckpointContent {
  config: TrainConfig;
  epochsDone: number;
  model: ModelSnapshot;
  history: EpochLogs[];
}

export interface SessionOptions {
  callbacks?: TrainCallbacks[];
  sink?: EpochSink | null;
  /** Resume from this checkpoint (its config must equal `config` in everything that shapes the run). */
  resume?: CheckpointContent | null;
}

export class TrainingSession {
  /** Set to true (from a callback) to end training after the current epoch. */
  stopTraining = false;
  /** Where epochs and checkpoints go (from the options; may be set before {@link TrainingSession.run}). */
  sink: EpochSink | null;
  readonly model: Model;
  readonly history: History;
  private epochsDone: number;
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

  constructor(
    readonly config: TrainConfig,
    readonly data: Dataset,
    readonly engine: Engine,
    private readonly options: SessionOptions = {},
  ) {
    const features = data.features;
    const classes = data.classes;
    this.model = buildModel(config, features, classes, engine);
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
    this.x = new Matrix(config.batchSize, features);
    this.targets = new Matrix(config.batchSize, classes);
    this.labels = new Uint8Array(config.batchSize);
    const evalBatch = Math.min(EVAL_BATCH, Math.max(data.test.count, valCount, 1));
    this.evalState = new ForwardState(this.model.net, evalBatch);
    this.evalX = new Matrix(evalBatch, features);
    this.evalTargets = new Matrix(evalBatch, classes);
    this.evalLabels = new Uint8Array(evalBatch);
    this.predicted = new Int32Array(Math.max(evalBatch, config.batchSize));
    this.history = new History();
    this.epochsDone = 0;
    this.sink = options.sink ?? null;
    const resume = options.resume;
    if (resume) {
      restoreModel(this.model, resume.model, 'resume');
      this.epochsDone = resume.epochsDone;
      this.history.epochs.push(...resume.history);
    }
  }

  /** Epochs completed so far. */
  get completedEpochs(): number {
    return this.epochsDone;
  }

  /** Trains until `config.epochs` or `stopTraining`; returns the history. */
  run(): History {
    const { config } = this;
    const callbacks = this.options.callbacks ?? [];
    for (const c of callbacks) c.onTrainBegin?.(this);
    if (this.epochsDone === 0) this.maybeHistogram(0);
    while (this.epochsDone < config.epochs && !this.stopTraining) {
      const epoch = this.epochsDone; // 0-based
      for (const c of callbacks) c.onEpochBegin?.(epoch + 1, this);
      const logs = this.trainEpoch(epoch, callbacks);
      this.epochsDone++;
      this.history.epochs.push(logs);
      this.sink?.writeEpoch(logs);
      this.maybeHistogram(this.epochsDone);
      const last = this.epochsDone === config.epochs;
      if (this.sink && (last || this.epochsDone % config.checkpointEvery === 0 || this.stopTraining)) {
        this.sink.writeCheckpoint(this.checkpoint());
      }
      for (const c of callbacks) c.onEpochEnd?.(logs, this);
    }
    for (const c of callbacks) c.onTrainEnd?.(this.history, this);
    return this.history;
  }

  /** The current state as checkpoint content. */
  checkpoint(): CheckpointContent {
    return {
      config: this.config,
      epochsDone: this.epochsDone,
      model: snapshotModel(this.model),
      history: [...this.history.epochs],
    };
  }

  private trainEpoch(epoch: number, callbacks: TrainCallbacks[]): EpochLogs {
    const { config, model, engine, data } = this;
    const lr = stepDecayLr(config.lr, epoch, {
      milestones: config.decayEpochs,
      gamma: config.decayFactor,
      timing: config.decayTiming,
    });
    model.optimizer.lr = lr;
    if (model.feedbackSgd) model.feedbackSgd.lr = lr;
    const order = model.streams.shuffle.shuffle(this.trainIndices.slice());
    const b = config.batchSize;
    const batches = Math.floor(order.length / b);
    const start = performance.now();
    let lossSum = 0;
    let correct = 0;
    let firstLoss = NaN;
    const batch = { x: this.x, targets: this.targets };
    for (let i = 0; i < batches; i++) {
      fillBatch(data.train, data.features, order, i * b, b, this.x.data, this.transform);
      fillTargets(data.train, order, i * b, b, data.classes, this.targets.data);
      labelsAt(data.train, order, i * b, b, this.labels);
      model.masks?.draw(model.streams.dropout);
      const state =
        model.mirror && model.setup.rule instanceof PepitaRule
          ? pepitaStepWithMirroring(
              engine,
              model.setup.rule,
              model.mirror,
              epoch,
              batch,
              model.optimizer,
              model.masks,
              model.streams.mirror,
            )
          : model.setup.rule.train(batch, model.optimizer, model.masks);
      const loss = batchLoss(state, this.targets);
      if (i === 0) firstLoss = loss;
      if (!Number.isFinite(loss) || (loss > EXPLODE_FACTOR * Math.max(1, firstLoss) && epoch + i > 0)) {
        throw new TrainingDivergedError(epoch + 1, i + 1, loss);
      }
      lossSum += loss;
      correct += countCorrect(state.output, this.labels, this.predicted);
      if (callbacks.length) {
        const elapsed = (performance.now() - start) / 1000;
        const logs: BatchLogs = {
          epoch: epoch + 1,
          batch: i + 1,
          batches,
          loss: lossSum / (i + 1),
          acc: correct / ((i + 1) * b),
          samples_per_s: ((i + 1) * b) / elapsed,
        };
        for (const c of callbacks) c.onBatchEnd?.(logs, this);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    const test = this.evaluate(data.test, this.testIndices);
    const logs: EpochLogs = {
      epoch: epoch + 1,
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
    Object.assign(logs, this.alignment(), model.setup.rule.takeEpochMetrics?.() ?? {});
    const every = config.ffGoodnessEvalEvery;
    if (model.setup.rule.predictByGoodness && ((epoch + 1) % every === 0 || epoch + 1 === config.epochs)) {
      logs.test_acc_goodness = this.goodnessAccuracy(data.test, this.testIndices);
    }
    return logs;
  }

  private alignment(): Pick<EpochLogs, 'angle_deg' | 'layer_angles_deg' | 'feedback_std'> {
    const { setup, net } = this.model;
    if (setup.topDown) {
      const f = setup.topDown;
      const out: Pick<EpochLogs, 'angle_deg' | 'layer_angles_deg' | 'feedback_std'> = {
        angle_deg: feedbackAlignmentAngle(this.engine, net.weights, f.matrix),
        feedback_std: matrixStats(f.matrix).std,
      };
      if (f.factors) out.layer_angles_deg = layerAlignmentAngles(net.weights, f.factors);
      return out;
    }
    if (setup.rule.name === 'fa' && setup.backward) {
      return { layer_angles_deg: setup.backward.map((r, l) => angleDegrees(r, net.weights[l + 1]!)) };
    }
    return {};
  }

  private maybeHistogram(epoch: number): void {
    if (!this.config.goodnessHistogramEpochs.includes(epoch) || !this.sink?.writeHistogram) return;
    this.sink.writeHistogram({ epoch, ...this.goodnessHistogram() });
  }

  /** The ||h_1||^2 - ||h_1'||^2 distribution of the rule's two passes over the test set (60 bins). */
  goodnessHistogram(): Omit<GoodnessHistogram, 'epoch'> {
    const { data, config } = this;
    const rule = this.model.setup.rule;
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

  /** Accuracy of the rule's goodness classifier on `indices` of `split`. */
  goodnessAccuracy(split: Split, indices: Uint32Array): number {
    const { data } = this;
    const rule = this.model.setup.rule;
    const cap = this.evalState.maxBatch;
    let correct = 0;
    for (let from = 0; from < indices.length; from += cap) {
      const n = Math.min(cap, indices.length - from);
      fillBatch(split, data.features, indices, from, n, this.evalX.data, this.transform);
      labelsAt(split, indices, from, n, this.evalLabels);
      rule.predictByGoodness!(this.evalX.view(0, 0, n, data.features), this.predicted);
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
      this.model.setup.rule.prepareInput?.(x);
      const y = forward(this.engine, this.evalState, x, null);
      correct += countCorrect(y, this.evalLabels, this.predicted);
      loss += batchLoss(this.evalState, this.evalTargets.view(0, 0, n, data.classes)) * n;
    }
    return { accuracy: correct / indices.length, loss: loss / indices.length };
  }
}

/** Rows of `y` whose argmax (metrics' argmaxRows: ties to the lowest index, NaN rows wrong) equals the label. */
function countCorrect(y: Matrix, labels: Uint8Array, predicted: Int32Array): number {
  argmaxRows(y, predicted);
  let correct = 0;
  for (let r = 0; r < y.rows; r++) if (predicted[r] === labels[r]) correct++;
  return correct;
}
