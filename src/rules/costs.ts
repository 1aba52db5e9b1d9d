/**
 * Computational cost of one training step (spec 8), from the network definition alone: multiply-accumulate
 * operations (MACs) of the matrix products, and the peak number of activation floats held at once.
 *
 * The counts describe how this project implements each rule. Notation: sizes = [d_0, ..., d_L], L = depth,
 * b = batch, P = sum_{l=1..L} d_{l-1} d_l (one forward pass costs b P). Elementwise work (activations, masks,
 * the optimiser sweep) is not counted; it is O(b sum d_l + P), small next to the products.
 */
import { TopdownUsageError } from '../core/errors.js';

import { PEPITA_MODES, type PepitaMode } from './pepita.js';
import { RULE_NAMES, type RuleName } from './registry.js';

/** What {@link stepCost} prices. */
export interface CostQuery {
  /** Layer widths [d_0, ..., d_L], at least two positive integers. */
  sizes: readonly number[];
  /** Mini-batch size b, a positive integer. */
  batch: number;
  /** The learning rule. */
  rule: RuleName;
  /** PEPITA only; default `standard`. */
  pepitaMode?: PepitaMode;
  /** PEPITA only: the step includes weight mirroring of the factors F_1..F_L (spec 2.7). */
  mirroring?: boolean;
  /** FA only: Kolen-Pollack updates of the feedback matrices (they cost no extra MACs). */
  kolenPollack?: boolean;
}

/** Result of {@link stepCost}. */
export interface StepCost {
  /** Total multiply-accumulates of one step: the sum of `breakdown`. */
  macs: number;
  /** Largest number of activation floats (inputs, activities, deltas) held at once. */
  peakActivationFloats: number;
  /** `peakActivationFloats` in float32 bytes (4 each). */
  peakActivationBytes: number;
  /**
   * MACs by phase. Keys present for a rule are always present (possibly 0):
   * - `forward`: the clean forward pass, b P (every rule);
   * - `feedback`: carrying the error to hidden layers (bp, fa, dfa, drtp, afa);
   * - `w1f`: the product W_1 F, once per step (afa; pepita except time-local);
   * - `modulation`: the modulated input X - E F^T, b d_0 d_L (pepita);
   * - `modulated-forward`: the second, modulated forward pass (pepita);
   * - `updates`: weight-gradient outer products, all passes together;
   * - `mirroring`: weight mirroring, when asked for (pepita);
   * - `kolen-pollack`: feedback updates, when asked for (fa; always 0);
   * - `positive-forward`, `negative-forward`: Forward-Forward's labelled passes (ff; `forward` is its neutral
   *   pass for the read-out), with one negative per sample (the `random` and `hard` negatives).
   */
  breakdown: Record<string, number>;
}

function validate(q: CostQuery): { sizes: number[]; mode: PepitaMode } {
  if (typeof q !== 'object' || q === null) throw new TopdownUsageError('stepCost: expected a query object');
  const sizes = Array.isArray(q.sizes) ? [...(q.sizes as readonly unknown[])] : [];
  if (sizes.length < 2 || sizes.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1)) {
    throw new TopdownUsageError(
      `stepCost: sizes must list at least two positive integer widths; got ${JSON.stringify(q.sizes)}`,
    );
  }
  if (!Number.isSafeInteger(q.batch) || q.batch < 1) {
    throw new TopdownUsageError(`stepCost: batch must be a positive integer; got ${q.batch}`);
  }
  if (!(RULE_NAMES as readonly string[]).includes(q.rule)) {
    throw new TopdownUsageError(`stepCost: rule must be one of ${RULE_NAMES.join(', ')}; got "${q.rule}"`);
  }
  if (q.pepitaMode !== undefined) {
    if (!(PEPITA_MODES as readonly string[]).includes(q.pepitaMode)) {
      throw new TopdownUsageError(
        `stepCost: pepitaMode must be one of ${PEPITA_MODES.join(', ')}; got "${q.pepitaMode}"`,
      );
    }
    if (q.rule !== 'pepita')
      throw new TopdownUsageError(`stepCost: pepitaMode applies to pepita, not ${q.rule}`);
  }
  for (const [flag, rule] of [
    ['mirroring', 'pepita'],
    ['kolenPollack', 'fa'],
  ] as const) {
    const value: unknown = q[flag];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new TopdownUsageError(`stepCost: ${flag} must be true or false`);
    if (value && q.rule !== rule)
      throw new TopdownUsageError(`stepCost: ${flag} applies to ${rule}, not ${q.rule}`);
  }
  return { sizes: sizes as number[], mode: q.pepitaMode ?? 'standard' };
}

/**
 * MACs and peak activation memory of one training step of `q.rule` on a fully connected net of widths
 * `q.sizes` with mini-batch `q.batch` (see {@link StepCost} for the phases; each term is explained in the
 * code). Exact while the counts stay below 2^53.
 *
 * Peak activation floats: bp, fa, dfa, drtp and afa keep every activity b (d_0 + sum_{l>=1} d_l) for the
 * backward/feedback phase, plus one delta buffer of b max_{l>=1} d_l; pepita (standard, forward, hebbian)
 * keeps both passes, 2 b (d_0 + sum_{l>=1} d_l); PEPITA-TL stores no first-pass activity: the input, the
 * error (b d_L) and the two activities of the layer in flight, b d_0 + b d_L + b max_{l>=1} (d_{l-1} + d_l).
 *
 * @throws {@link TopdownUsageError} on an unknown rule or mode, bad sizes or batch, or a flag given to a rule
 *   it does not apply to (pepitaMode and mirroring: pepita only; kolenPollack: fa only)
 */
export function stepCost(q: CostQuery): StepCost {
  const { sizes: d, mode } = validate(q);
  const b = q.batch;
  const L = d.length - 1;
  const d0 = d[0]!;
  const d1 = d[1]!;
  const dL = d[L]!;
  // P = sum_{l=1..L} d_{l-1} d_l: MACs of one sample through every W_l
  let P = 0;
  for (let l = 1; l <= L; l++) P += d[l - 1]! * d[l]!;
  // stored activities of one pass: input and every layer's output
  let units = 0;
  for (let l = 0; l <= L; l++) units += d[l]!;
  let widest = 0; // max_{l>=1} d_l
  let widestPair = 0; // max_{l>=1} (d_{l-1} + d_l)
  for (let l = 1; l <= L; l++) {
    widest = Math.max(widest, d[l]!);
    widestPair = Math.max(widestPair, d[l - 1]! + d[l]!);
  }

  const breakdown: Record<string, number> = {};
  // clean forward pass: H_l = act(H_{l-1} W_l^T), b d_{l-1} d_l per layer
  breakdown.forward = b * P;
  let peak: number;

  switch (q.rule) {
    case 'bp':
    case 'fa': {
      // error propagation delta_{l-1} = (delta_l W_l) * act' (bp) or delta_l B_l^T (fa), for l = L..2:
      // b d_l d_{l-1} each; nothing is propagated below layer 1
      let feedback = 0;
      for (let l = 2; l <= L; l++) feedback += b * d[l]! * d[l - 1]!;
      breakdown.feedback = feedback;
      // weight gradients G_l = delta_l^T H_{l-1}: b d_l d_{l-1} per layer
      breakdown.updates = b * P;
      // Kolen-Pollack: B_l is updated with the transpose of W_l's gradient, already computed
      if (q.kolenPollack) breakdown['kolen-pollack'] = 0;
      peak = b * units + b * widest;
      break;
    }
    case 'ff': {
      // neutral pass (the read-out's input) = `forward`; positive and negative passes through every layer
      breakdown['positive-forward'] = b * P;
      breakdown['negative-forward'] = b * P;
      // hidden layers: G_l = delta_pos^T H_pos + delta_neg^T H_neg; read-out: E^T H_{L-1} of the neutral pass
      breakdown.updates = 2 * b * (P - dL * d[L - 1]!) + b * dL * d[L - 1]!;
      // three passes' activities are stored until the updates
      peak = 3 * b * units;
      break;
    }
    case 'dfa':
    case 'drtp': {
      // each hidden layer l = 1..L-1 receives E B_l^T (dfa) or T B_l^T (drtp): b d_L d_l
      let feedback = 0;
      for (let l = 1; l <= L - 1; l++) feedback += b * dL * d[l]!;
      breakdown.feedback = feedback;
      breakdown.updates = b * P;
      peak = b * units + b * widest;
      break;
    }
    case 'afa': {
      // with L = 1 AFA is the delta rule G_1 = E^T X: no feedback terms
      let w1f = 0;
      let feedback = 0;
      if (L >= 2) {
        // B_1 = W_1 F (d_1 x d_0 times d_0 x d_L), once per step
        w1f = d1 * d0 * dL;
        // first hidden layer's signal E (W_1 F)^T: b d_L d_1
        feedback = b * dL * d1;
        // the linearised modulation carried through hidden layers 2..L-1: b d_l d_{l-1} each
        for (let l = 2; l <= L - 1; l++) feedback += b * d[l]! * d[l - 1]!;
      }
      breakdown.w1f = w1f;
      breakdown.feedback = feedback;
      breakdown.updates = b * P;
      peak = b * units + b * widest;
      break;
    }
    case 'pepita': {
      if (mode === 'time-local') {
        // clean pass with each layer updated at once (G_l = H_l^T H_{l-1}: b P), then the modulated input
        // X - E F^T (b d_0 d_L) and a full modulated pass through the already-updated weights (b P: the
        // W_1 F shortcut does not apply because W_1 changed in between), then its updates (b P)
        breakdown.modulation = b * d0 * dL;
        breakdown['modulated-forward'] = b * P;
        breakdown.updates = 2 * b * P;
        peak = b * d0 + b * dL + b * widestPair;
      } else {
        if (L === 1) {
          // single layer: the delta rule G_1 = E^T X (forward + updates only)
          breakdown.modulation = 0;
          breakdown.w1f = 0;
          breakdown['modulated-forward'] = 0;
          breakdown.updates = b * P;
        } else {
          // X_mod = X - E F^T: b d_0 d_L
          breakdown.modulation = b * d0 * dL;
          // A_1^mod = X_mod W_1^T = A_1 - E (W_1 F)^T: W_1 F once (d_1 d_0 d_L) ...
          breakdown.w1f = d1 * d0 * dL;
          // ... then b d_L d_1 for E (W_1 F)^T, and the rest of the modulated pass, layers 2..L: b (P - d_0 d_1)
          breakdown['modulated-forward'] = b * dL * d1 + b * (P - d0 * d1);
          // outer products per layer, b d_l d_{l-1}; hebbian has two (clean and modulated) per layer
          breakdown.updates = (mode === 'hebbian' || mode === 'goodness' ? 2 : 1) * b * P;
        }
        // both passes' activities stay stored until the updates
        peak = 2 * b * units;
      }
      if (q.mirroring) {
        // per mirrored step: noise through every block (b P), factor gradients xi^T r (b P), and the product
        // F = F_1 ... F_L left to right, (F_1 ... F_{l-1}) F_l costing d_0 d_{l-1} d_l for l = 2..L
        let product = 0;
        for (let l = 2; l <= L; l++) product += d0 * d[l - 1]! * d[l]!;
        breakdown.mirroring = 2 * b * P + product;
      }
      break;
    }
  }

  let macs = 0;
  for (const v of Object.values(breakdown)) macs += v;
  return { macs, peakActivationFloats: peak, peakActivationBytes: 4 * peak, breakdown };
}
