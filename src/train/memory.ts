/**
 * A training run's memory, estimated from its config before anything is allocated, and the limit it must
 * fit: so that `--hidden 50000,50000` is one line instead of the kernel's OOM killer, and a width no
 * Float32Array can hold is one line instead of an internal error.
 */
import { availableMemory, MAX_ARRAY_ELEMENTS as MAX_ELEMENTS } from '../core/memory.js';
import { TopdownUsageError } from '../core/errors.js';

/** The share of the machine's (or container's) memory a run may plan to use by default. */
const DEFAULT_SHARE = 0.8;
const GB = 1e9;

export { availableMemory };

export interface MemoryQuery {
  sizes: readonly number[];
  batchSize: number;
  /** Optimiser buffers per parameter (SGD: 1, Adam: 3). */
  optimizerBuffers: number;
  /** Forward passes kept per step (PEPITA 2, FF 3 or more). */
  passes: number;
}

/** Bytes a run needs, roughly: parameters, optimiser and feedback buffers, the passes' activities, evaluation. */
export function estimateTrainingBytes(q: MemoryQuery): number {
  let params = 0;
  let units = 0;
  for (let l = 1; l < q.sizes.length; l++) {
    params += q.sizes[l - 1]! * q.sizes[l]! + q.sizes[l]!;
    units += q.sizes[l]!;
  }
  units += q.sizes[0]!;
  // weights, their optimiser buffers, and as much again for feedback matrices and gradient scratch
  const parameterBytes = 4 * params * (2 + q.optimizerBuffers);
  // pre-activations, outputs and normalised outputs of every pass, plus evaluation batches of 1000
  const activityBytes = 4 * units * (3 * q.batchSize * q.passes + 3 * 1000);
  return parameterBytes + activityBytes;
}

/**
 * Throws a one-line usage error when the run cannot be allocated: a matrix too large for a Float32Array, or
 * more memory than `maxGb` (default: 80% of what this process may use).
 */
export function checkTrainingMemory(q: MemoryQuery, maxGb?: number): void {
  const { sizes, batchSize } = q;
  for (let l = 1; l < sizes.length; l++) {
    const elements = Math.max(sizes[l - 1]! * sizes[l]!, batchSize * sizes[l]!, 1000 * sizes[l]!);
    if (elements > MAX_ELEMENTS) {
      throw new TopdownUsageError(
        `layer ${l} (${sizes[l - 1]} x ${sizes[l]}) would need ${elements.toExponential(2)} values in one array, more than the ${MAX_ELEMENTS.toExponential(2)} an array can hold: use narrower layers`,
      );
    }
  }
  const need = estimateTrainingBytes(q);
  const limit = maxGb !== undefined ? maxGb * GB : DEFAULT_SHARE * availableMemory();
  if (need > limit) {
    throw new TopdownUsageError(
      `the ${sizes.join('-')} network needs about ${(need / GB).toFixed(1)} GB, more than the ${(limit / GB).toFixed(1)} GB allowed (${maxGb !== undefined ? '--max-memory' : "80% of this machine's memory"}): use narrower layers or a smaller batch, or raise --max-memory`,
    );
  }
}
