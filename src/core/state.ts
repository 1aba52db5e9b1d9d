/**
 * Named state for checkpoints. Every component that owns something a run must resume exactly (the network's
 * parameters, a rule's feedback matrices and random streams, an optimiser's buffers) describes it as named
 * float32 tensors plus JSON values; the checkpoint stores the names, so restoring checks each one and never
 * depends on the order in which components happen to list their matrices.
 */
import { TopdownUsageError } from './errors.js';
import type { Matrix } from './matrix.js';
import { Rng, type RngState } from './rng.js';

/** A component's state: JSON-serialisable values and float32 tensors, each by name. */
export interface NamedState {
  values: Record<string, unknown>;
  tensors: Record<string, Float32Array>;
}

/** Something whose state can be saved (as copies) and restored exactly. */
export interface Stateful {
  /** Copies of everything needed to resume. */
  saveState(): NamedState;
  /**
   * Restores a state saved by the same kind of component over parameters of the same shapes; throws a
   * one-line {@link TopdownUsageError} naming `source` and the first mismatch.
   */
  restoreState(state: NamedState, source: string): void;
}

/** A random stream held by a component, which restoring replaces. */
export interface RngSlot {
  get(): Rng;
  set(rng: Rng): void;
}

/**
 * A {@link Stateful} built from live matrices, random streams and scalar values declared by name: saving
 * copies them; restoring checks the names and sizes, writes the tensors in place and replaces the streams.
 */
export class StateSet implements Stateful {
  private readonly matrices = new Map<string, Matrix>();
  private readonly rngs = new Map<string, RngSlot>();
  private readonly scalars = new Map<string, { get(): unknown; set(v: unknown): void }>();
  private readonly after: (() => void)[] = [];

  /** Declares live matrices (restored in place). */
  tensors(named: Record<string, Matrix>): this {
    for (const [name, m] of Object.entries(named)) this.matrices.set(name, m);
    return this;
  }

  /** Declares a random stream. */
  rng(name: string, slot: RngSlot): this {
    this.rngs.set(name, slot);
    return this;
  }

  /** Declares a JSON value (a counter, a flag). */
  value<T>(name: string, get: () => T, set: (v: T) => void): this {
    this.scalars.set(name, { get, set: set as (v: unknown) => void });
    return this;
  }

  /** Runs `fn` after every restore (e.g. to mark derived products stale). */
  onRestore(fn: () => void): this {
    this.after.push(fn);
    return this;
  }

  /** True when nothing is declared. */
  get empty(): boolean {
    return this.matrices.size === 0 && this.rngs.size === 0 && this.scalars.size === 0;
  }

  saveState(): NamedState {
    const tensors: Record<string, Float32Array> = {};
    for (const [name, m] of this.matrices) tensors[name] = m.toFloat32Array();
    const values: Record<string, unknown> = {};
    for (const [name, slot] of this.rngs) values[name] = slot.get().state();
    for (const [name, s] of this.scalars) values[name] = structuredClone(s.get());
    return { values, tensors };
  }

  restoreState(state: NamedState, source: string): void {
    const fail = (what: string): never => {
      throw new TopdownUsageError(`checkpoint ${source} does not match this model: ${what}`);
    };
    const want = [...this.matrices.keys()].sort().join(', ');
    const got = Object.keys(state.tensors).sort().join(', ');
    if (want !== got) fail(`tensors [${got}] where this model has [${want}]`);
    for (const [name, m] of this.matrices) {
      const t = state.tensors[name]!;
      if (t.length !== m.size) fail(`tensor ${name} has ${t.length} values, expected ${m.size}`);
    }
    for (const name of [...this.rngs.keys(), ...this.scalars.keys()]) {
      if (!(name in state.values)) fail(`value ${name} is missing`);
    }
    for (const [name, m] of this.matrices) writeInto(m, state.tensors[name]!);
    for (const [name, slot] of this.rngs) slot.set(Rng.fromState(state.values[name] as RngState));
    for (const [name, s] of this.scalars) s.set(structuredClone(state.values[name]));
    for (const fn of this.after) fn();
  }
}

/** Copies row-major `values` into `m` (which may be a strided view). */
function writeInto(m: Matrix, values: Float32Array): void {
  if (m.isContiguous) {
    m.data.set(values, m.offset);
    return;
  }
  for (let i = 0; i < m.rows; i++) m.data.set(values.subarray(i * m.cols, (i + 1) * m.cols), m.index(i, 0));
}

/** The states of several components under one prefix each (`prefix.name`), as one {@link Stateful}. */
export class StateGroup implements Stateful {
  constructor(private readonly parts: Record<string, Stateful>) {}

  saveState(): NamedState {
    const out: NamedState = { values: {}, tensors: {} };
    for (const [prefix, part] of Object.entries(this.parts)) {
      const s = part.saveState();
      for (const [k, v] of Object.entries(s.values)) out.values[`${prefix}.${k}`] = v;
      for (const [k, t] of Object.entries(s.tensors)) out.tensors[`${prefix}.${k}`] = t;
    }
    return out;
  }

  restoreState(state: NamedState, source: string): void {
    for (const [prefix, part] of Object.entries(this.parts)) {
      const pick = <T>(record: Record<string, T>): Record<string, T> => {
        const out: Record<string, T> = {};
        for (const [k, v] of Object.entries(record))
          if (k.startsWith(prefix + '.')) out[k.slice(prefix.length + 1)] = v;
        return out;
      };
      part.restoreState({ values: pick(state.values), tensors: pick(state.tensors) }, source);
    }
  }
}
