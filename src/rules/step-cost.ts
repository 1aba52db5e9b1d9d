/**
 * The cost model's vocabulary (spec 8): multiply-accumulates (MACs) of a step's matrix products and the peak
 * number of activation floats held at once, from the network's widths alone. Each rule's file prices its own
 * step with these helpers. Notation: sizes = [d_0, ..., d_L], L = depth, b = batch, M_l = the MACs of layer
 * l's forward product per sample (d_{l-1} d_l; a convolution's filters x positions x C k k, which its weight
 * gradient and its input gradient cost too), P = sum_l M_l (one forward pass costs b P). Elementwise work
 * (activations, pooling, masks, the optimiser sweep) is not counted; it is O(b sum d_l + P), small next to
 * the products.
 */

/** A weight layer's price when it is not d_{l-1} x d_l (a convolution). */
export interface LayerCost {
  /** Forward MACs per sample. */
  macs: number;
  /** Width of its pre-activation (a convolution's filters x positions, before pooling). */
  preWidth: number;
  /** True for a convolution (no W_1 F shortcut, no product of the weights). */
  conv: boolean;
}

/** What a rule's cost model prices: the widths, the batch, and each layer's cost when not fully connected. */
export interface CostShape {
  sizes: readonly number[];
  batch: number;
  /** One per weight layer (absent: every layer fully connected). */
  layers?: readonly LayerCost[];
}

/** The result of a rule's cost model. */
export interface StepCost {
  /** Total multiply-accumulates of one step: the sum of `breakdown`. */
  macs: number;
  /** Largest number of activation floats (inputs, activities, deltas) held at once. */
  peakActivationFloats: number;
  /** `peakActivationFloats` in float32 bytes (4 each). */
  peakActivationBytes: number;
  /** MACs by phase (`forward`, `feedback`, `updates`, and the rule's own phases). */
  breakdown: Record<string, number>;
}

/** Quantities every rule's cost is written in. */
export interface NetMeasures {
  d: readonly number[];
  b: number;
  L: number;
  /** sum_l M_l (d_{l-1} d_l for fully connected layers) */
  P: number;
  /** M_l, index 1..L like d (index 0 unused). */
  macs: readonly number[];
  /** True when every layer is fully connected. */
  dense: boolean;
  /** d_0 + ... + d_L: the activities of one pass */
  units: number;
  /** max_{l>=1} d_l */
  widest: number;
  /** max_{l>=1} (d_{l-1} + d_l) */
  widestPair: number;
}

export function measures(shape: CostShape): NetMeasures {
  const d = shape.sizes;
  const L = d.length - 1;
  let P = 0;
  let units = d[0]!;
  let widest = 0;
  let widestPair = 0;
  const macs = [0];
  for (let l = 1; l <= L; l++) {
    const layer = shape.layers?.[l - 1];
    const m = layer ? layer.macs : d[l - 1]! * d[l]!;
    macs.push(m);
    P += m;
    // a pooled convolution also holds its activation before pooling
    const width = layer && layer.preWidth !== d[l] ? d[l]! + layer.preWidth : d[l]!;
    units += width;
    widest = Math.max(widest, width);
    widestPair = Math.max(widestPair, d[l - 1]! + width);
  }
  const dense = !(shape.layers ?? []).some((l) => l.conv);
  return { d, b: shape.batch, L, P, macs, dense, units, widest, widestPair };
}

/** A {@link StepCost} from its breakdown and peak floats. */
export function stepCostOf(breakdown: Record<string, number>, peakFloats: number): StepCost {
  let macs = 0;
  for (const v of Object.values(breakdown)) macs += v;
  return { macs, peakActivationFloats: peakFloats, peakActivationBytes: 4 * peakFloats, breakdown };
}

/**
 * Backprop-shaped rules (bp, fa and the sign-symmetry family): the forward pass, the error carried down
 * through the chain, delta_{l-1} = (delta_l M_l) * act' for l = L..2 (b d_l d_{l-1} each; nothing below layer
 * 1), and the weight gradients G_l = delta_l^T H_{l-1} (b P). Every activity is kept for the backward phase,
 * plus one delta buffer.
 */
export function chainCost(m: NetMeasures, extra: Record<string, number> = {}): StepCost {
  let feedback = 0;
  for (let l = 2; l <= m.L; l++) feedback += m.b * m.macs[l]!;
  return stepCostOf(
    { forward: m.b * m.P, feedback, updates: m.b * m.P, ...extra },
    m.b * m.units + m.b * m.widest,
  );
}
