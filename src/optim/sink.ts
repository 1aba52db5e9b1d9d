import type { Matrix } from '../core/matrix.js';

/**
 * Where a learning rule puts its weight updates. Every rule's update for parameter `index` is a sum of
 * batched outer products, G += alpha * post^T pre (post: b x rows(G), pre: b x cols(G)), with the bias, when
 * the parameter has one, receiving alpha * (column sums of post). Rules pass alpha = +-1/b so that G is the
 * batch-mean update that the optimiser subtracts (W <- W - lr * G), as in the reference code.
 *
 * An optimiser implements this by accumulating straight into its momentum buffers (gemm's beta), so no
 * separate gradient buffer or extra pass is needed; `GradientBuffers` keeps plain gradients (for metrics and
 * tests).
 */
export interface GradientSink {
  /** G[index] += alpha * post^T pre; bias[index] += alpha * colsum(post). */
  addOuter(index: number, alpha: number, post: Matrix, pre: Matrix): void;
  /**
   * G[index] += alpha * U for an update U that is not one outer product (a convolution's: a sum over output
   * positions): `write(a, beta, g)` must set g <- a * U + beta * g, with the scale and beta the sink chooses
   * (momentum buffers are decayed by the first write of a step). The parameter's bias is not touched.
   */
  addUpdate(index: number, alpha: number, write: UpdateWriter): void;
  /**
   * Applies what was accumulated since the last step (an optimiser step; a no-op for plain buffers). The
   * next addOuter for a parameter then starts a fresh update.
   */
  step(): void;
}

/** Writes g <- a * U + beta * g for an update U (see {@link GradientSink.addUpdate}). */
export type UpdateWriter = (a: number, beta: number, g: Matrix) => void;

/** The parameters a sink updates: one weight matrix per entry, each with an optional 1 x rows bias. */
export interface ParameterSet {
  weights: readonly Matrix[];
  biases: readonly (Matrix | null)[];
}
