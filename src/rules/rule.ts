/**
 * The learning-rule contract. A rule module exports one {@link RuleDefinition}: its options (zod sections with
 * their defaults), the training settings it learns with, how to build it, its cost model; the rule it builds
 * ({@link LearningRule}) is the update maths plus the state, diagnostics and optional phases it owns. The
 * trainer, model assembly, checkpoints and `eval` only ever see these two interfaces.
 *
 * A rule writes its update G = Delta W / b for each layer into a {@link GradientSink} and calls `sink.step()`
 * each time its algorithm applies them (once per batch; twice for PEPITA's time-local mode). It knows nothing
 * of epochs, data order, logging or files, and preallocates its buffers for batches of up to `maxBatch` rows.
 */
import type { Engine } from '../core/engine-base.js';
import type { Matrix } from '../core/matrix.js';
import type { OptionSection } from '../core/options.js';
import type { Rng } from '../core/rng.js';
import type { Stateful } from '../core/state.js';
import type { DropoutMasks, ForwardState } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { OptimizerSettings } from '../optim/factory.js';
import type { GradientSink, ParameterSet } from '../optim/sink.js';

import type { CostShape, StepCost } from './step-cost.js';

/** One training batch: inputs (b x d_0) and targets (b x d_L, one-hot for classification). */
export interface Batch {
  x: Matrix;
  targets: Matrix;
}

/** A per-epoch measurement: a number, one per layer, or a label. */
export type MetricValue = number | number[] | string;

/** A classifier besides the network's output (Forward-Forward's goodness over every label). */
export interface ExtraClassifier {
  /** Metrics key of its test accuracy, e.g. `test_acc_goodness`. */
  metric: string;
  /** Words for summaries, e.g. `goodness classifier`. */
  label: string;
  /** Evaluate every this many epochs (and after the last). */
  every: number;
  /** Predicted labels of raw inputs `x` into `out`. */
  predict(x: Matrix, out: Int32Array): void;
}

/** A row of images for `show-samples`: what the rule feeds the network for a few samples. */
export interface InputView {
  label: string;
  /** rows x d_0, pixels in [0, 1] (or signed, with `signed`). */
  images: Matrix;
  captions: string[];
  /** Values centred on 0 (grey = 0). */
  signed?: boolean;
  /** With `signed`: each image scaled by its own max |value| (else one scale for the row). */
  perImage?: boolean;
}

export interface LearningRule {
  /** Registry name, e.g. `pepita`. */
  readonly name: string;
  /**
   * Trains on one batch: computes the updates, passes them to `sink`, and calls `sink.step()` when the
   * algorithm applies them. `masks` (null: no dropout) must already be drawn for this step; every pass of the
   * step uses them. Returns the clean pass (its output is the prediction used for loss and accuracy).
   */
  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState;
  /** Feedback matrices, running statistics and random streams the rule owns, for checkpoints. */
  readonly state?: Stateful;
  /**
   * Turns raw inputs (in place) into what the network sees at evaluation (Forward-Forward: a neutral label and
   * length normalisation). Absent: inputs are used as they are.
   */
  prepareInput?(x: Matrix): void;
  /**
   * Runs the rule's two passes on a batch without updating anything (PEPITA: clean and modulated; FF: positive
   * and negative), for diagnostics such as the distribution of ||h_1||^2 - ||h_1^mod||^2.
   */
  twoPasses?(batch: Batch): { first: ForwardState; second: ForwardState };
  /** Named measurements of the epoch (angles, goodness averaged over its steps); sums reset when taken. */
  diagnostics?(): Record<string, MetricValue>;
  /** Classifiers besides the output layer, evaluated on the test set. */
  readonly classifiers?: readonly ExtraClassifier[];
  /** Epochs run before training proper and not counted in `epochs` (pre-mirroring), logged as `phase`. */
  readonly prelude?: { phase: string; epochs: number };
  /** Called before every epoch with the number of epochs of any phase already done (prelude included). */
  beginEpoch?(slot: number): void;
  /** What the rule feeds the network for `batch` (for show-samples), beside the plain input. */
  inputViews?(batch: Batch): InputView[];
}

/** What a rule is built with. */
export interface RuleContext {
  net: Network;
  engine: Engine;
  maxBatch: number;
  /** The rule's own random stream (feedback draws, negatives, noise). */
  rng: Rng;
  /**
   * An optimiser for parameters the rule learns itself (Kolen-Pollack feedback, mirrored factors), built like
   * the run's optimiser except for `overrides`, saved in checkpoints under `name` and following the run's
   * learning-rate schedule unless `scheduled` is false. Absent when the caller offers none.
   */
  optimizer?(
    name: string,
    params: ParameterSet,
    overrides?: Partial<OptimizerSettings> & { scheduled?: boolean },
  ): Optimizer;
}

/** The training settings a rule may give defaults for (only where the user set nothing). */
export interface TrainingDefaults {
  optimizer?: 'sgd' | 'adam';
  lr?: number;
  /** Multiplies the dataset's default SGD learning rate (when neither `lr` nor the user sets one). */
  lrFactor?: number;
  activation?: 'relu' | 'tanh' | 'sigmoid' | 'erf' | 'identity';
  momentum?: number;
  dropout?: number;
  normalization?: 'none' | 'sample-l2' | 'sample-rms' | 'batch-frobenius';
  batchSize?: number;
  weightDecay?: number;
}

/** The parts of the run a rule's checks and defaults may look at. */
export interface RunShape {
  /** Hidden-layer widths. */
  hidden: readonly number[];
  dropout: number;
  normalization: string;
}

/** A rule's options: one object per section key. */
export type SectionValues = Record<string, Record<string, unknown> | undefined>;

/**
 * Declares a rule module's definition (an identity that keeps the name's literal type, from which the
 * registry derives the type of rule names).
 */
export function defineRule<const N extends string>(
  def: RuleDefinition & { name: N },
): RuleDefinition & { name: N } {
  return def;
}

/** Everything a rule module exports about itself. */
export interface RuleDefinition {
  /** Registry name and `--rule` value. */
  name: string;
  /** One line for help and listings. */
  description: string;
  /** The option sections it reads: its own and shared components' (F, mirroring, feedback scale). */
  sections: readonly OptionSection[];
  /** Trains networks with convolution layers (`--arch conv...`); absent: fully connected networks only. */
  convolutional?: boolean;
  /** Configurations worth listing and testing separately (PEPITA's modes). */
  variants?: readonly { label: string; options: SectionValues }[];
  /** Training settings that make the rule learn, used where the user set nothing. */
  trainingDefaults?(options: SectionValues, data: string): TrainingDefaults;
  /** Fills option values that depend on the run (FF's per-layer threshold); returns the sections. */
  finalize?(options: SectionValues, run: RunShape): SectionValues;
  /** Cross-field checks: a one-line problem, or null. */
  validate?(options: SectionValues, run: RunShape): string | null;
  /** Diagnostics worth repeating in the run's summary (`--json`), e.g. `angle_deg`. */
  summary?: readonly string[];
  /** The names of the rule's two passes when it has two to compare (goodness histograms), e.g. clean/modulated. */
  passes?: { first: string; second: string };
  /** Builds the rule for a network. `options` hold every section, defaults filled. */
  create(ctx: RuleContext, options: SectionValues): LearningRule;
  /** Multiply-accumulates and peak activation memory of one step. */
  cost(shape: CostShape, options: SectionValues): StepCost;
}
