/**
 * Internals shared by the sinks: parameter-set checks, argument checks for `addOuter`, and the write of one
 * batched outer product (plus bias column sums) into an update buffer. Not part of the public API.
 */
import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';

import type { ParameterSet } from './sink.js';

/** Throws unless every bias is null or 1 x rows of its weight, and the two lists have the same length. */
export function checkParameterSet(params: ParameterSet, who: string): void {
  if (params.weights.length !== params.biases.length) {
    throw new TopdownUsageError(
      `${who}: ${params.weights.length} weight matrices but ${params.biases.length} bias entries`,
    );
  }
  params.weights.forEach((w, i) => {
    const b = params.biases[i];
    if (b && (b.rows !== 1 || b.cols !== w.rows)) {
      throw new TopdownUsageError(
        `${who}: bias ${i} must be 1x${w.rows} (weight ${i} is ${w.rows}x${w.cols}), got ${b.rows}x${b.cols}`,
      );
    }
  });
}

/** Zero-filled buffers shaped like the weights and biases. */
export function allocateLike(
  params: ParameterSet,
  memory: FloatAllocator = HEAP,
): { weights: Matrix[]; biases: (Matrix | null)[] } {
  return {
    weights: params.weights.map((w) => Matrix.zeros(w.rows, w.cols, memory)),
    biases: params.biases.map((b) => (b ? Matrix.zeros(1, b.cols, memory) : null)),
  };
}

/** Throws a usage error naming the problem when `addOuter`'s arguments do not fit parameter `index`. */
export function checkOuterArgs(
  who: string,
  index: number,
  buffers: readonly Matrix[],
  post: Matrix,
  pre: Matrix,
): Matrix {
  const g = checkUpdateIndex(who, index, buffers);
  if (post.cols !== g.rows || pre.cols !== g.cols || post.rows !== pre.rows) {
    throw new TopdownUsageError(
      `${who}: parameter ${index} is ${g.rows}x${g.cols}, so post must be b x ${g.rows} and pre b x ${g.cols} ` +
        `with the same b; got post ${post.rows}x${post.cols} and pre ${pre.rows}x${pre.cols}`,
    );
  }
  return g;
}

/** The buffer of parameter `index`, or a usage error naming `who` when there is none. */
export function checkUpdateIndex(who: string, index: number, buffers: readonly Matrix[]): Matrix {
  const g = Number.isInteger(index) ? buffers[index] : undefined;
  if (!g) {
    throw new TopdownUsageError(
      `${who}: parameter index ${index} is out of range (there are ${buffers.length})`,
    );
  }
  return g;
}

/** A row of ones for bias column sums, grown (never shrunk) to the largest batch seen. */
export class OnesRow {
  private data: Float32Array = new Float32Array(0);

  constructor(private readonly memory: FloatAllocator = HEAP) {}

  /** A Float32Array whose first `b` entries are 1 (it may be longer). */
  get(b: number): Float32Array {
    if (this.data.length < b) this.data = this.memory.floats(b).fill(1);
    return this.data;
  }
}

/**
 * g = alpha * post^T pre + beta * g, and, when gb is given, gb = alpha * colsum(post) + beta * gb, the column
 * sum being the product of a 1 x b row of ones with post (no per-call allocation).
 */
export function writeOuter(
  engine: Engine,
  ones: OnesRow,
  alpha: number,
  post: Matrix,
  pre: Matrix,
  beta: number,
  g: Matrix,
  gb: Matrix | null,
): void {
  const b = post.rows;
  engine.gemm(true, false, g.rows, g.cols, b, alpha, post, pre, beta, g);
  if (gb) {
    engine.sgemm(
      false,
      false,
      1,
      gb.cols,
      b,
      alpha,
      ones.get(b),
      0,
      Math.max(1, b),
      post.data,
      post.offset,
      post.stride,
      beta,
      gb.data,
      gb.offset,
      gb.stride,
    );
  }
}
