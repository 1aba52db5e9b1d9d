import { TopdownUsageError } from '../core/errors.js';

/** When a milestone's decay takes effect (see {@link stepDecayLr}). */
export type StepDecayTiming = 'end' | 'start';

/** Options of {@link stepDecayLr}. */
export interface StepDecayOptions {
  /** 0-based epochs at which the learning rate is multiplied by `gamma`: non-negative integers, increasing. */
  milestones: readonly number[];
  /** Multiplicative factor per milestone passed (finite, > 0). */
  gamma: number;
  /**
   * `end` (default, as in the ICLR reference code): the decay happens after epoch m finishes, so it applies
   * from epoch m + 1. `start` (the ICML code, like PyTorch's MultiStepLR): it applies from epoch m.
   */
  timing?: StepDecayTiming;
}

/** The paper's schedule: the learning rate divided by 10 at epochs 60 and 90. */
export const PAPER_STEP_DECAY: Readonly<{ milestones: readonly number[]; gamma: number }> = Object.freeze({
  milestones: Object.freeze([60, 90]),
  gamma: 0.1,
});

/**
 * The learning rate for 0-based `epoch` under step decay: baseLr times gamma once per milestone already
 * passed, where a milestone m counts when m < epoch (timing `end`) or m <= epoch (timing `start`).
 * The factors are applied one at a time (lr *= gamma), as the reference code decays its optimiser's rate.
 *
 * @throws TopdownUsageError when baseLr is negative or not finite, epoch is not a non-negative integer,
 *   gamma is not a finite positive number, the milestones are not increasing non-negative integers, or
 *   timing is unknown.
 */
export function stepDecayLr(baseLr: number, epoch: number, options: StepDecayOptions): number {
  const { milestones, gamma, timing = 'end' } = options;
  if (!Number.isFinite(baseLr) || baseLr < 0) {
    throw new TopdownUsageError(`baseLr must be a finite number >= 0; got ${String(baseLr)}`);
  }
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new TopdownUsageError(`epoch must be a non-negative integer; got ${String(epoch)}`);
  }
  if (!Number.isFinite(gamma) || gamma <= 0) {
    throw new TopdownUsageError(`gamma must be a finite number > 0; got ${String(gamma)}`);
  }
  if (timing !== 'end' && timing !== 'start') {
    throw new TopdownUsageError(`timing must be "end" or "start"; got "${String(timing)}"`);
  }
  let lr = baseLr;
  for (let i = 0; i < milestones.length; i++) {
    const m = milestones[i]!;
    if (!Number.isSafeInteger(m) || m < 0 || (i > 0 && m <= milestones[i - 1]!)) {
      throw new TopdownUsageError(
        `milestones must be increasing non-negative integers; got [${milestones.join(', ')}]`,
      );
    }
    if (timing === 'end' ? m < epoch : m <= epoch) lr *= gamma;
  }
  return lr;
}
