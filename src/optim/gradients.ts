import type { Engine } from '../core/engine-base.js';
import type { Matrix } from '../core/matrix.js';

import {
  allocateLike,
  checkOuterArgs,
  checkParameterSet,
  checkUpdateIndex,
  OnesRow,
  writeOuter,
} from './outer.js';
import type { GradientSink, ParameterSet, UpdateWriter } from './sink.js';

/**
 * A {@link GradientSink} that keeps plain gradients instead of updating parameters: after a learning rule has
 * written a round of updates, `grads[i]` holds the sum of its outer products for parameter i (and
 * `biasGrads[i]` the bias part). For metrics (update angles, norms) and tests.
 *
 * The first `addOuter` for an index after construction or after {@link GradientBuffers.step} overwrites that
 * index's buffers; later ones in the same round accumulate. `step()` only ends the round: the values stay
 * readable until the next `addOuter` of that index. Buffers of an index never written hold zeros (or the last
 * round that wrote them).
 */
export class GradientBuffers implements GradientSink {
  /** One gradient per weight matrix, same shape, contiguous. */
  readonly grads: Matrix[];
  /** One 1 x rows gradient per bias, or null where the parameter has no bias. */
  readonly biasGrads: (Matrix | null)[];
  private readonly written: Uint8Array;
  private readonly ones: OnesRow;

  /**
   * @param engine - computes the products
   * @param params - the parameters whose gradients are kept (only their shapes are used)
   */
  constructor(
    private readonly engine: Engine,
    params: ParameterSet,
  ) {
    checkParameterSet(params, 'GradientBuffers');
    this.ones = new OnesRow(engine);
    const { weights, biases } = allocateLike(params, engine);
    this.grads = weights;
    this.biasGrads = biases;
    this.written = new Uint8Array(weights.length);
  }

  /** grads[index] (+)= alpha * post^T pre; biasGrads[index] (+)= alpha * colsum(post) (see the class doc). */
  addOuter(index: number, alpha: number, post: Matrix, pre: Matrix): void {
    const g = checkOuterArgs('GradientBuffers.addOuter', index, this.grads, post, pre);
    const beta = this.written[index] ? 1 : 0;
    writeOuter(this.engine, this.ones, alpha, post, pre, beta, g, this.biasGrads[index] ?? null);
    this.written[index] = 1;
  }

  /** grads[index] (+)= alpha * U through `write` (see {@link GradientSink.addUpdate}). */
  addUpdate(index: number, alpha: number, write: UpdateWriter): void {
    const g = checkUpdateIndex('GradientBuffers.addUpdate', index, this.grads);
    write(alpha, this.written[index] ? 1 : 0, g);
    this.written[index] = 1;
  }

  /** Ends the round: the next addOuter of each index overwrites. The values are left as they are. */
  step(): void {
    this.written.fill(0);
  }

  /** True when addOuter wrote parameter `index` since construction or the last {@link GradientBuffers.step}. */
  touched(index: number): boolean {
    return this.written[index] === 1;
  }
}
