/**
 * Fully connected networks of any depth: W_l (d_l x d_{l-1}), optional biases, a hidden activation, an output
 * activation, consistent dropout on hidden layers and optional activation normalisation.
 *
 * Indexing: layer l of the paper (1..L) is index l - 1 here; `sizes` = [d_0, d_1, ..., d_L].
 * Batches are rows: H_l = act(H_{l-1} W_l^T + b_l), H_l of shape b x d_l.
 * Hidden block order: linear -> activation -> dropout (inverted: kept units scaled by 1/keep) ->
 * normalisation. For ReLU this equals the reference code's linear -> dropout -> ReLU.
 */
import { TopdownUsageError } from '../core/errors.js';
import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';
import type { Rng } from '../core/rng.js';

import { parseActivation, type ActivationName } from './activations.js';
import { initWeights, parseWeightInit, type WeightInit } from './init.js';

export const NORMALIZATIONS = ['none', 'sample-l2', 'sample-rms', 'batch-frobenius'] as const;
/**
 * Activation normalisation after each hidden block: `sample-l2` divides each sample's activity vector by its
 * L2 norm; `sample-rms` divides it by its root-mean-square (length sqrt(d_l), as Forward-Forward
 * implementations do, so a layer's input keeps O(1) entries); `batch-frobenius` divides the whole b x d_l batch by its Frobenius norm (the reference code's
 * variant: one scalar per batch).
 */
export type Normalization = (typeof NORMALIZATIONS)[number];

/** What a network is; every field has a default except `sizes`. */
export interface NetworkConfig {
  /** Layer widths [d_0, ..., d_L]; at least two entries. */
  sizes: readonly number[];
  hiddenActivation?: ActivationName;
  outputActivation?: ActivationName;
  /** Biases on every layer (default false, as in the paper). */
  bias?: boolean;
  init?: WeightInit;
  /** Probability of dropping a hidden unit during training (default 0). The paper uses 0.1. */
  dropout?: number;
  normalization?: Normalization;
}

export type ResolvedNetworkConfig = Required<NetworkConfig>;

/** Fills in defaults and validates, throwing usage errors that name the bad field. */
export function resolveNetworkConfig(config: NetworkConfig): ResolvedNetworkConfig {
  const sizes = [...config.sizes];
  if (sizes.length < 2 || sizes.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new TopdownUsageError(
      `sizes must list at least two positive integer widths; got [${sizes.join(', ')}]`,
    );
  }
  const hiddenActivation = parseActivation(config.hiddenActivation ?? 'relu', 'hidden activation');
  if (hiddenActivation === 'softmax')
    throw new TopdownUsageError('softmax is only allowed on the output layer');
  const dropout = config.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1))
    throw new TopdownUsageError(`dropout must be in [0, 1); got ${dropout}`);
  const normalization = config.normalization ?? 'none';
  if (!(NORMALIZATIONS as readonly string[]).includes(normalization)) {
    throw new TopdownUsageError(
      `normalization must be one of ${NORMALIZATIONS.join(', ')}; got "${normalization}"`,
    );
  }
  return {
    sizes,
    hiddenActivation,
    outputActivation: parseActivation(config.outputActivation ?? 'softmax', 'output activation'),
    bias: config.bias ?? false,
    init: parseWeightInit(config.init ?? 'he_uniform'),
    dropout,
    normalization,
  };
}

/** A fully connected network's parameters and structure. */
export class Network {
  readonly config: ResolvedNetworkConfig;
  /** W_1..W_L (index 0..L-1), each d_l x d_{l-1}. */
  readonly weights: Matrix[];
  /** b_1..b_L as 1 x d_l matrices, or null without biases. */
  readonly biases: (Matrix | null)[];

  constructor(config: NetworkConfig, weights: Matrix[], biases: (Matrix | null)[]) {
    this.config = resolveNetworkConfig(config);
    const s = this.config.sizes;
    if (weights.length !== s.length - 1 || biases.length !== s.length - 1) {
      throw new TopdownUsageError(`expected ${s.length - 1} weight matrices and bias entries`);
    }
    weights.forEach((w, l) => {
      if (w.rows !== s[l + 1] || w.cols !== s[l] || !w.isContiguous) {
        throw new TopdownUsageError(`W_${l + 1} must be a contiguous ${s[l + 1]}x${s[l]} matrix`);
      }
      const b = biases[l];
      if (b && (b.rows !== 1 || b.cols !== s[l + 1]))
        throw new TopdownUsageError(`b_${l + 1} must be 1x${s[l + 1]}`);
    });
    this.weights = weights;
    this.biases = biases;
  }

  /**
   * A freshly initialised network; weights from `rng.derive('weights')`, biases start at zero; parameters
   * stored in `memory` (the engine's, for the engine that trains it).
   */
  static create(config: NetworkConfig, rng: Rng, memory: FloatAllocator = HEAP): Network {
    const resolved = resolveNetworkConfig(config);
    const s = resolved.sizes;
    const init = rng.derive('weights');
    const weights: Matrix[] = [];
    const biases: (Matrix | null)[] = [];
    for (let l = 0; l + 1 < s.length; l++) {
      const w = Matrix.zeros(s[l + 1]!, s[l]!, memory);
      initWeights(w, resolved.init, init.derive(l));
      weights.push(w);
      biases.push(resolved.bias ? Matrix.zeros(1, s[l + 1]!, memory) : null);
    }
    return new Network(resolved, weights, biases);
  }

  /** Number of weight layers L. */
  get depth(): number {
    return this.weights.length;
  }

  get sizes(): readonly number[] {
    return this.config.sizes;
  }

  /** Width d_l for l = 0..L. */
  width(l: number): number {
    return this.config.sizes[l]!;
  }

  /** Activation of weight layer index l (0-based). */
  activationOf(l: number): ActivationName {
    return l === this.depth - 1 ? this.config.outputActivation : this.config.hiddenActivation;
  }

  /** A deep copy (same config, copied parameters). */
  clone(): Network {
    return new Network(
      this.config,
      this.weights.map((w) => w.clone()),
      this.biases.map((b) => b?.clone() ?? null),
    );
  }
}
