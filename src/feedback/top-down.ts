/**
 * PEPITA's top-down projection F (d_0 x d_L) from the output error to the input (spec 2.9).
 *
 * - `uniform`: one matrix, F ~ U(-1, 1) * sqrt(6 / d_0) * scale (std scale * sqrt(2 / d_0)); the
 *   non-zero-mean option draws U(0, 1) instead.
 * - `normal`: L factors F_l (d_{l-1} x d_l), i.i.d. N(0, s^2) with s = (scale sqrt(2/d_0) / sqrt(d_1...d_{L-1}))^(1/L),
 *   so that F = F_1 ... F_L has entry std scale * sqrt(2 / d_0). Weight mirroring needs this form.
 */
import { z } from 'zod';

import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';
import type { OptionSection } from '../core/options.js';
import type { Rng } from '../core/rng.js';
import { StateSet } from '../core/state.js';
import { feedbackAlignmentAngle, layerAlignmentAngles } from '../metrics/angles.js';
import { matrixStats } from '../metrics/norms.js';

export const FEEDBACK_INITS = ['uniform', 'normal'] as const;
export type FeedbackInit = (typeof FEEDBACK_INITS)[number];
export const MODULATION_SIGNS = ['minus', 'plus'] as const;
/** `minus`: x_mod = x - F e (ICLR code, default; required for weight mirroring); `plus`: x + F e. */
export type ModulationSign = (typeof MODULATION_SIGNS)[number];

/** The `feedback` section: F's form, scale and sign, shared by the rules that project the error through F. */
export const TOP_DOWN_SECTION = {
  key: 'feedback',
  label: 'the top-down feedback F',
  flagPrefix: 'feedback-',
  schema: z
    .object({
      init: z.enum(FEEDBACK_INITS).default('uniform').meta({
        description: 'F: one uniform matrix, or normal factors F_1...F_L (weight mirroring needs normal)',
      }),
      scale: z.number().nonnegative().default(0.05).meta({
        description: "F's scale, the paper's Bstd: entry std scale * sqrt(2 / d_0)",
      }),
      sign: z.enum(MODULATION_SIGNS).default('minus').meta({
        flag: 'sign',
        description: 'modulation x - F e (minus) or x + F e',
      }),
    })
    .strict(),
} satisfies OptionSection;
export type TopDownConfig = z.infer<typeof TOP_DOWN_SECTION.schema>;

export interface TopDownOptions {
  init?: FeedbackInit;
  /** The paper's Bstd (default 0.05): F's entry std is scale * sqrt(2 / d_0). */
  scale?: number;
  /** Zero-mean entries (default true); false draws the uniform scheme from U(0, 1). */
  meanZero?: boolean;
}

/** Population std of all entries, in float64. */
export function entryStd(m: Matrix): number {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[m.index(i, j)]!;
      s += v;
      s2 += v * v;
    }
  }
  const n = m.size;
  const mean = s / n;
  return Math.sqrt(Math.max(0, s2 / n - mean * mean));
}

/** The top-down feedback: F itself and, for the factorised form, its factors. */
export class TopDownFeedback {
  /** F = F_1 ... F_L (d_0 x d_L); for `uniform`, the single matrix. */
  readonly matrix: Matrix;
  /** F_1..F_L (d_{l-1} x d_l) for `normal`; null for `uniform`. */
  readonly factors: Matrix[] | null;
  /** The entry std F is kept at by {@link TopDownFeedback.normalize}: scale * sqrt(2 / d_0). */
  readonly targetStd: number;
  /** Bumped whenever F changes, so that products cached from it (W_1 F) know they are stale. */
  version = 0;
  private readonly chain: Matrix[];

  constructor(
    readonly sizes: readonly number[],
    readonly init: FeedbackInit,
    readonly scale: number,
    matrix: Matrix,
    factors: Matrix[] | null,
    memory: FloatAllocator = HEAP,
  ) {
    this.matrix = matrix;
    this.factors = factors;
    this.targetStd = scale * Math.sqrt(2 / sizes[0]!);
    // Partial products F_1..F_l (d_0 x d_l) for l = 2..L-1, reused by every product().
    this.chain = factors ? sizes.slice(2, -1).map((d) => Matrix.zeros(sizes[0]!, d, memory)) : [];
  }

  /** Draws F for a network of widths `sizes` ([d_0, ..., d_L]). */
  static create(
    sizes: readonly number[],
    options: TopDownOptions,
    rng: Rng,
    engine: Engine,
  ): TopDownFeedback {
    const init = options.init ?? 'uniform';
    const scale = options.scale ?? 0.05;
    const meanZero = options.meanZero ?? true;
    if (!(FEEDBACK_INITS as readonly string[]).includes(init)) {
      throw new TopdownUsageError(`feedback init must be one of ${FEEDBACK_INITS.join(', ')}; got "${init}"`);
    }
    if (!(scale >= 0) || !Number.isFinite(scale))
      throw new TopdownUsageError(`feedback scale must be >= 0; got ${scale}`);
    if (sizes.length < 2) throw new TopdownUsageError('feedback needs at least an input and an output width');
    const d0 = sizes[0]!;
    const dL = sizes[sizes.length - 1]!;
    const matrix = Matrix.zeros(d0, dL, engine);
    if (init === 'uniform') {
      const bound = Math.sqrt(6 / d0) * scale;
      rng.derive('F').fillUniform(matrix.data, meanZero ? -bound : 0, bound);
      return new TopDownFeedback(sizes, init, scale, matrix, null, engine);
    }
    if (!meanZero) throw new TopdownUsageError('the normal (factorised) feedback is always zero-mean');
    const L = sizes.length - 1;
    let hidden = 1;
    for (let l = 1; l < L; l++) hidden *= sizes[l]!;
    const s = Math.pow((scale * Math.sqrt(2 / d0)) / Math.sqrt(hidden), 1 / L);
    const factors: Matrix[] = [];
    for (let l = 0; l < L; l++) {
      const f = Matrix.zeros(sizes[l]!, sizes[l + 1]!, engine);
      rng.derive('F').derive(l).fillNormal(f.data, 0, s);
      factors.push(f);
    }
    const feedback = new TopDownFeedback(sizes, init, scale, matrix, factors, engine);
    feedback.recompute(engine);
    return feedback;
  }

  /** Recomputes F = F_1 ... F_L from the factors (after they changed); bumps the version. */
  recompute(engine: Engine): void {
    this.version++;
    const f = this.factors;
    if (!f) return;
    if (f.length === 1) {
      this.matrix.copyFrom(f[0]!);
      return;
    }
    let left = f[0]!;
    for (let l = 1; l < f.length; l++) {
      const out = l === f.length - 1 ? this.matrix : this.chain[l - 1]!;
      engine.gemm(false, false, left.rows, f[l]!.cols, left.cols, 1, left, f[l]!, 0, out);
      left = out;
    }
  }

  /**
   * Rescales so that F's entry std is back at {@link TopDownFeedback.targetStd}: every factor by
   * (target / std)^(1/L) (spec 2.7's normalize_F) and F itself by target / std (the product of the rescaled
   * factors), or the single matrix by target / std. F must be current (call recompute after changing factors).
   */
  normalize(engine: Engine): void {
    const std = entryStd(this.matrix);
    if (!(std > 0)) return;
    const ratio = this.targetStd / std;
    if (this.factors) {
      const per = Math.pow(ratio, 1 / this.factors.length);
      for (const f of this.factors) engine.run('scal', { alpha: per, x: f.data });
    }
    engine.run('scal', { alpha: ratio, x: this.matrix.data });
    this.version++;
  }

  /** Marks F as changed after its values were modified in place (bumps the version). */
  touched(): void {
    this.version++;
  }

  /** F (and its factors) as named state. */
  stateSet(): StateSet {
    const named: Record<string, Matrix> = { F: this.matrix };
    this.factors?.forEach((f, l) => (named[`F${l + 1}`] = f));
    return new StateSet().tensors(named).onRestore(() => this.touched());
  }

  /**
   * The angle between F and (W_L...W_1)^T, F's entry std, and for factorised F the angles between each
   * W_l^T and F_l.
   */
  diagnostics(engine: Engine, weights: readonly Matrix[]): Record<string, number | number[]> {
    const out: Record<string, number | number[]> = {
      angle_deg: feedbackAlignmentAngle(engine, weights, this.matrix),
      feedback_std: matrixStats(this.matrix).std,
    };
    if (this.factors) out.layer_angles_deg = layerAlignmentAngles(weights, this.factors);
    return out;
  }
}

/** Throws unless F is d_0 x d_L for a network of widths `sizes`. */
export function checkTopDownShape(sizes: readonly number[], feedback: TopDownFeedback): void {
  const f = feedback.matrix;
  const d0 = sizes[0];
  const dL = sizes[sizes.length - 1];
  if (f.rows !== d0 || f.cols !== dL)
    throw new TopdownUsageError(`F must be ${d0}x${dL}; got ${f.rows}x${f.cols}`);
}
