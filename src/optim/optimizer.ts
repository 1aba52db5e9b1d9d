/**
 * What every optimiser shares: it is a {@link GradientSink} over a {@link ParameterSet}, has a learning rate
 * that schedules change between steps, and saves and restores its buffers as named state. SGD, Adam and the
 * optimisers a rule owns (learned feedback, weight mirroring) are all checkpointed and scheduled through this
 * one surface.
 */
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';
import { StateSet, type NamedState, type Stateful } from '../core/state.js';

import type { GradientSink, ParameterSet, UpdateWriter } from './sink.js';

/** Throws a usage error unless `value` is finite and `ok`. */
export function checkRange(name: string, value: number, ok: boolean, range: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok) {
    throw new TopdownUsageError(`${name} must be a finite number ${range}; got ${String(value)}`);
  }
}

export abstract class Optimizer implements GradientSink, Stateful {
  /** Short name of the algorithm (`sgd`, `adam`), stored with the state. */
  abstract readonly kind: string;
  private currentLr: number;
  private stateSet: StateSet | null = null;

  protected constructor(
    readonly params: ParameterSet,
    lr: number,
  ) {
    checkRange('lr', lr, lr >= 0, '>= 0');
    this.currentLr = lr;
  }

  /** The learning rate used by the next step (learning-rate schedules set it; >= 0). */
  get lr(): number {
    return this.currentLr;
  }

  set lr(value: number) {
    checkRange('lr', value, value >= 0, '>= 0');
    this.currentLr = value;
  }

  abstract addOuter(index: number, alpha: number, post: Matrix, pre: Matrix): void;
  abstract addUpdate(index: number, alpha: number, write: UpdateWriter): void;
  abstract step(): void;

  /** True when updates were written but not yet applied by {@link Optimizer.step}. */
  protected abstract get pending(): boolean;

  /** The optimiser's buffers by name (live), for checkpoints. */
  protected abstract namedBuffers(): Record<string, Matrix>;

  /** Per-parameter counters saved with the buffers (read and written as plain arrays). */
  protected abstract counters(): { get(): number[]; set(values: number[]): void };

  saveState(): NamedState {
    if (this.pending) {
      throw new TopdownUsageError(`${this.kind}: state saved with updates written but not applied`);
    }
    return this.states().saveState();
  }

  restoreState(state: NamedState, source: string): void {
    if (state.values.kind !== this.kind) {
      throw new TopdownUsageError(
        `checkpoint ${source} was written with another optimiser (${String(state.values.kind)}, not ${this.kind})`,
      );
    }
    const n = this.params.weights.length;
    const counters = state.values.counters;
    if (!Array.isArray(counters) || counters.length !== n) {
      throw new TopdownUsageError(
        `checkpoint ${source} does not match this model: ${this.kind} state for another number of parameters`,
      );
    }
    this.states().restoreState(state, source);
  }

  private states(): StateSet {
    if (!this.stateSet) {
      const counters = this.counters();
      this.stateSet = new StateSet()
        .tensors(this.namedBuffers())
        .value(
          'kind',
          () => this.kind,
          () => undefined,
        )
        .value(
          'lr',
          () => this.lr,
          (v: number) => (this.lr = v),
        )
        .value('counters', counters.get, counters.set);
    }
    return this.stateSet;
  }
}

/** Names `w.i` / `b.i` for per-parameter buffers under `prefix`. */
export function nameBuffers(
  prefix: string,
  weights: readonly Matrix[],
  biases: readonly (Matrix | null)[],
): Record<string, Matrix> {
  const out: Record<string, Matrix> = {};
  weights.forEach((m, i) => (out[`${prefix}.w${i}`] = m));
  biases.forEach((m, i) => {
    if (m) out[`${prefix}.b${i}`] = m;
  });
  return out;
}
