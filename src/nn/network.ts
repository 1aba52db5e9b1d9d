/**
 * Networks of any depth: W_l (d_l x d_{l-1}), optional biases, a hidden activation, an output
 * activation, consistent dropout on hidden layers and optional activation normalisation. Layers are fully
 * connected unless `layers` makes some of them convolutions (filters x C k k weights, an optional 2x2
 * max-pooling after the activation), over inputs of the image shape `input`.
 *
 * Indexing: layer l of the paper (1..L) is index l - 1 here; `sizes` = [d_0, d_1, ..., d_L], the widths of
 * the blocks' outputs (a conv block's: filters x its pooled output positions, flattened channel-major).
 * Batches are rows: H_l = act(H_{l-1} W_l^T + b_l), H_l of shape b x d_l.
 * Hidden block order: linear (or convolution) -> activation -> [2x2 max-pooling] -> dropout (inverted: kept
 * units scaled by 1/keep) -> normalisation. For ReLU this equals the reference code's linear -> dropout -> ReLU.
 */
import { TopdownUsageError } from '../core/errors.js';
import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';
import type { Rng } from '../core/rng.js';

import { parseActivation, type ActivationName } from './activations.js';
import { convOutput, type ConvGeometry } from './conv.js';
import { initWeights, parseWeightInit, type WeightInit } from './init.js';

export const NORMALIZATIONS = ['none', 'sample-l2', 'sample-rms', 'batch-frobenius'] as const;
/**
 * Activation normalisation after each hidden block: `sample-l2` divides each sample's activity vector by its
 * L2 norm; `sample-rms` divides it by its root-mean-square (length sqrt(d_l), as Forward-Forward
 * implementations do, so a layer's input keeps O(1) entries); `batch-frobenius` divides the whole b x d_l batch by its Frobenius norm (the reference code's
 * variant: one scalar per batch).
 */
export type Normalization = (typeof NORMALIZATIONS)[number];

/** A weight layer: fully connected, or a convolution (no bias) with an optional 2x2 max-pooling after it. */
export type LayerSpec =
  | { kind: 'dense' }
  | { kind: 'conv'; filters: number; kernel: number; stride?: number; padding?: number; pool?: boolean };

/** A weight layer as the passes see it. */
export type ResolvedLayer =
  | { kind: 'dense'; preWidth: number }
  | {
      kind: 'conv';
      geometry: ConvGeometry;
      pool: boolean;
      /** filters x output positions (before pooling): the width of the pre-activation. */
      preWidth: number;
      /** [filters, height, width] of the block's output (after pooling). */
      outShape: readonly [number, number, number];
    };

/** What a network is; every field has a default except `sizes`. */
export interface NetworkConfig {
  /** Layer widths [d_0, ..., d_L]; at least two entries. */
  sizes: readonly number[];
  /** One entry per weight layer (default: all fully connected). */
  layers?: readonly LayerSpec[];
  /** [channels, height, width] of an input (needed by convolutions); C H W must equal d_0. */
  input?: readonly [number, number, number] | null;
  hiddenActivation?: ActivationName;
  outputActivation?: ActivationName;
  /** Biases on every layer (default false, as in the paper). */
  bias?: boolean;
  init?: WeightInit;
  /** Probability of dropping a hidden unit during training (default 0). The paper uses 0.1. */
  dropout?: number;
  normalization?: Normalization;
}

export type ResolvedNetworkConfig = Required<Omit<NetworkConfig, 'layers' | 'input'>> & {
  layers: readonly LayerSpec[];
  input: readonly [number, number, number] | null;
};

/** Each layer's geometry, checked against the widths: a conv layer needs an image-shaped input. */
function resolveLayers(
  sizes: readonly number[],
  layers: readonly LayerSpec[],
  input: readonly [number, number, number] | null,
): ResolvedLayer[] {
  if (layers.length !== sizes.length - 1)
    throw new TopdownUsageError(`expected ${sizes.length - 1} layer descriptions, got ${layers.length}`);
  if (input && input[0] * input[1] * input[2] !== sizes[0])
    throw new TopdownUsageError(`an input of ${input.join('x')} is not ${sizes[0]} features`);
  let shape: readonly [number, number, number] | null = input;
  return layers.map((spec, l) => {
    if (spec.kind === 'dense') {
      shape = null;
      return { kind: 'dense', preWidth: sizes[l + 1]! };
    }
    if (!shape)
      throw new TopdownUsageError(
        l === 0
          ? 'a convolution needs the input image shape'
          : `layer ${l + 1} is a convolution after a fully connected layer`,
      );
    const geometry: ConvGeometry = {
      channels: shape[0],
      height: shape[1],
      width: shape[2],
      filters: spec.filters,
      kernel: spec.kernel,
      stride: spec.stride ?? 1,
      padding: spec.padding ?? 0,
    };
    const out = convOutput(geometry);
    const pool = spec.pool ?? false;
    const outShape: [number, number, number] = pool
      ? [spec.filters, Math.floor(out.height / 2), Math.floor(out.width / 2)]
      : [spec.filters, out.height, out.width];
    if (!(out.height >= 1 && out.width >= 1) || outShape[1] < 1 || outShape[2] < 1)
      throw new TopdownUsageError(
        `layer ${l + 1}: a ${spec.kernel}x${spec.kernel} convolution${pool ? ' and 2x2 pooling' : ''} do not fit a ${shape[1]}x${shape[2]} input`,
      );
    const width = outShape[0] * outShape[1] * outShape[2];
    if (width !== sizes[l + 1])
      throw new TopdownUsageError(`layer ${l + 1} outputs ${width} values, not ${sizes[l + 1]}`);
    shape = outShape;
    return { kind: 'conv', geometry, pool, preWidth: spec.filters * out.positions, outShape };
  });
}

/** Fills in defaults and validates, throwing usage errors that name the bad field. */
export function resolveNetworkConfig(config: NetworkConfig): ResolvedNetworkConfig {
  return resolveWithLayers(config).config;
}

/** The resolved configuration and each layer's geometry, computed once. */
function resolveWithLayers(config: NetworkConfig): {
  config: ResolvedNetworkConfig;
  layers: ResolvedLayer[];
} {
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
  const layers = config.layers ? [...config.layers] : sizes.slice(1).map(() => ({ kind: 'dense' as const }));
  const input = config.input ? ([...config.input] as [number, number, number]) : null;
  const resolved = resolveLayers(sizes, layers, input);
  if (resolved.some((r) => r.kind === 'conv') && config.bias)
    throw new TopdownUsageError('convolution layers have no bias: leave biases off with a conv architecture');
  if (resolved[resolved.length - 1]!.kind === 'conv')
    throw new TopdownUsageError('the output layer must be fully connected');
  return {
    config: {
      sizes,
      layers,
      input,
      hiddenActivation,
      outputActivation: parseActivation(config.outputActivation ?? 'softmax', 'output activation'),
      bias: config.bias ?? false,
      init: parseWeightInit(config.init ?? 'he_uniform'),
      dropout,
      normalization,
    },
    layers: resolved,
  };
}

/** A fully connected network's parameters and structure. */
export class Network {
  readonly config: ResolvedNetworkConfig;
  /** W_1..W_L (index 0..L-1), each d_l x d_{l-1}. */
  readonly weights: Matrix[];
  /** b_1..b_L as 1 x d_l matrices, or null without biases. */
  readonly biases: (Matrix | null)[];

  /** Each weight layer's kind and geometry. */
  readonly layers: readonly ResolvedLayer[];
  /** True when some layer is a convolution. */
  readonly convolutional: boolean;

  constructor(config: NetworkConfig, weights: Matrix[], biases: (Matrix | null)[]) {
    const { config: resolved, layers } = resolveWithLayers(config);
    this.config = resolved;
    const s = resolved.sizes;
    this.layers = layers;
    this.convolutional = this.layers.some((l) => l.kind === 'conv');
    if (weights.length !== s.length - 1 || biases.length !== s.length - 1) {
      throw new TopdownUsageError(`expected ${s.length - 1} weight matrices and bias entries`);
    }
    weights.forEach((w, l) => {
      const [rows, cols] = weightShape(this.layers[l]!, s, l);
      if (w.rows !== rows || w.cols !== cols || !w.isContiguous) {
        throw new TopdownUsageError(`W_${l + 1} must be a contiguous ${rows}x${cols} matrix`);
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
    const { config: resolved, layers } = resolveWithLayers(config);
    const s = resolved.sizes;
    const init = rng.derive('weights');
    const weights: Matrix[] = [];
    const biases: (Matrix | null)[] = [];
    for (let l = 0; l + 1 < s.length; l++) {
      const [rows, cols] = weightShape(layers[l]!, s, l);
      const w = Matrix.zeros(rows, cols, memory); // fan-in = cols: d_{l-1}, or C k k for a convolution
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

  /** Width of layer l's pre-activation: d_{l+1}, or filters x positions for a convolution (before pooling). */
  preWidth(l: number): number {
    return this.layers[l]!.preWidth;
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

/** Each weight layer's kind and geometry for a network description (checked as {@link Network} does). */
export function networkLayers(config: NetworkConfig): ResolvedLayer[] {
  return resolveWithLayers(config).layers;
}

/** [rows, cols] of weight layer l: d_{l+1} x d_l, or filters x C k k for a convolution. */
function weightShape(layer: ResolvedLayer, sizes: readonly number[], l: number): [number, number] {
  if (layer.kind === 'dense') return [sizes[l + 1]!, sizes[l]!];
  const g = layer.geometry;
  return [g.filters, g.channels * g.kernel * g.kernel];
}
