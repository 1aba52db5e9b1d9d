/**
 * The learning-rule contract. A rule is the update maths only: given a batch, the network and its feedback
 * state, it writes weight updates into a {@link GradientSink} and calls `sink.step()` each time its algorithm
 * applies them (once per batch; twice for PEPITA's time-local mode). It knows nothing of epochs, data order,
 * logging or files. Rules preallocate their buffers for batches of up to `maxBatch` rows.
 */
import type { Matrix } from '../core/matrix.js';
import type { DropoutMasks, ForwardState } from '../nn/forward.js';
import type { GradientSink } from '../optim/sink.js';

/** One training batch: inputs (b x d_0) and targets (b x d_L, one-hot for classification). */
export interface Batch {
  x: Matrix;
  targets: Matrix;
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
  /**
   * Turns raw inputs (in place) into what the network sees at evaluation (Forward-Forward: a neutral label and
   * length normalisation). Absent: inputs are used as they are.
   */
  prepareInput?(x: Matrix): void;
  /** A second classifier (Forward-Forward's goodness over every label): predicted labels into `out`. */
  predictByGoodness?(x: Matrix, out: Int32Array): void;
  /**
   * Runs the rule's two passes on a batch without updating anything (PEPITA: clean and modulated; FF: positive
   * and negative), for diagnostics such as the distribution of ||h_1||^2 - ||h_1^mod||^2.
   */
  twoPasses?(batch: Batch): { first: ForwardState; second: ForwardState };
  /** Per-layer measurements averaged over the steps since the last call (e.g. goodness of both passes). */
  takeEpochMetrics?(): Record<string, number[]>;
}
