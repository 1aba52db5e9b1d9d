/**
 * Weight mirroring of PEPITA's factorised feedback (spec 2.7): each factor F_l (d_{l-1} x d_l) is driven
 * towards W_l^T by a Hebbian rule on noise: xi ~ noise * N(0, 1) (b x d_{l-1}), minus its one scalar mean;
 * r = block_l(xi) (linear, activation (softmax for the output block), dropout with a fresh mask,
 * normalisation); F_l's update is -(xi^T r) / b, applied by a plain SGD optimiser with weight decay; then
 * F is renormalised to its target std. Since E[xi relu(W xi)^T] = (noise^2 / 2) W^T, F_l -> W_l^T up to scale.
 */
import { z } from 'zod';

import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { Matrix } from '../core/matrix.js';
import { parseSection, type OptionSection } from '../core/options.js';
import type { NormalStream } from '../core/normal-stream.js';
import type { Rng } from '../core/rng.js';
import { activate } from '../nn/activations.js';
import { normalizeActivity } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import type { TopDownFeedback } from './top-down.js';

/** The `mirror` section: present = weight mirroring on (`--mirror`), with these settings. */
export const MIRROR_SECTION = {
  key: 'mirror',
  label: 'weight mirroring',
  flagPrefix: 'mirror-',
  optional: true,
  schema: z
    .object({
      noise: z.number().positive().default(0.1).meta({ description: 'mirroring noise amplitude sigma_WM' }),
      lr: z.number().nonnegative().default(0.1).meta({ description: "learning rate of F's factors" }),
      weightDecay: z.number().nonnegative().default(0.5).meta({ description: "weight decay of F's factors" }),
      period: z.number().int().positive().default(1).meta({
        description: 'mirror in epochs e (0-based, pre-mirroring included) with (e + 1) % period == 0',
        placeholder: 'N',
      }),
      preMirrorEpochs: z.number().int().nonnegative().default(0).meta({
        flag: 'pre-mirror-epochs',
        description: 'epochs of mirroring alone before training (not counted in --epochs)',
        placeholder: 'N',
      }),
    })
    .strict(),
} satisfies OptionSection;
export type MirrorConfig = z.infer<typeof MIRROR_SECTION.schema>;

/**
 * Mirroring hyper-parameters (defaults: the `mirror` section's, from the reference code's train.py, mirroring
 * every epoch). `learningRate` and `weightDecay` are those of the factors' optimiser, which the caller builds.
 */
export interface MirrorOptions {
  /** Noise amplitude sigma_WM (default 0.1). */
  noise?: number;
  /** Learning rate of the factors' SGD (default 0.1). */
  learningRate?: number;
  /** Weight decay of the factors' SGD (default 0.5). */
  weightDecay?: number;
  /** Mirror during epochs e with (e + 1) % period == 0 (default 1: every epoch). */
  period?: number;
  /** Epochs at the start that only mirror and do not train W (default 0). */
  preMirrorEpochs?: number;
}

export type ResolvedMirrorOptions = Required<MirrorOptions>;

export function resolveMirrorOptions(options: MirrorOptions = {}): ResolvedMirrorOptions {
  const { learningRate, ...rest } = options;
  const { lr, ...r } = parseSection(MIRROR_SECTION, {
    ...rest,
    ...(learningRate !== undefined ? { lr: learningRate } : {}),
  });
  return { ...r, learningRate: lr };
}

/** What happens in a 0-based epoch: pre-mirroring (mirror only, W frozen) and/or mirroring steps. */
export function mirrorSchedule(
  epoch: number,
  options: ResolvedMirrorOptions,
): { preMirroring: boolean; mirror: boolean } {
  const preMirroring = epoch < options.preMirrorEpochs;
  return { preMirroring, mirror: preMirroring || (epoch + 1) % options.period === 0 };
}

/** The random streams of mirroring: the noise's normals and the dropout masks' generator. */
export interface MirrorStreams {
  normals: NormalStream;
  rng: Rng;
}

/** Runs mirroring steps; owns its noise buffers (no allocation per step). */
export class WeightMirror {
  readonly options: ResolvedMirrorOptions;
  private readonly noise: Matrix[];
  private readonly response: Matrix[];
  private readonly unnormalized: Float32Array[];
  private readonly mask: Float32Array[];
  private readonly norms: Float64Array;
  private readonly normals: Float64Array;

  /**
   * @param sink - the factors' optimiser (plain SGD with `learningRate` and `weightDecay`, no momentum),
   *   whose parameter index l is factor F_{l+1}
   */
  constructor(
    private readonly net: Network,
    private readonly feedback: TopDownFeedback,
    private readonly engine: Engine,
    readonly batch: number,
    private readonly sink: GradientSink,
    options: MirrorOptions = {},
  ) {
    if (!feedback.factors) {
      throw new TopdownUsageError('weight mirroring needs the factorised ("normal") feedback initialisation');
    }
    this.options = resolveMirrorOptions(options);
    const s = net.sizes;
    this.noise = [];
    this.response = [];
    this.unnormalized = [];
    this.mask = [];
    for (let l = 0; l < net.depth; l++) {
      this.noise.push(Matrix.zeros(batch, s[l]!, engine));
      this.response.push(Matrix.zeros(batch, s[l + 1]!, engine));
      this.unnormalized.push(engine.floats(batch * s[l + 1]!));
      this.mask.push(engine.floats(batch * s[l + 1]!));
    }
    this.norms = new Float64Array(batch);
    this.normals = new Float64Array(batch * Math.max(...s.slice(0, -1)));
  }

  /**
   * One mirroring update of every factor, then F's renormalisation. The noise comes from `streams.normals`
   * (a ziggurat stream: the noise is the step's largest draw), the dropout masks from `streams.rng`.
   */
  step(streams: MirrorStreams): void {
    const net = this.net;
    const b = this.batch;
    const sigma = this.options.noise;
    for (let l = 0; l < net.depth; l++) {
      const xi = this.noise[l]!;
      const n = xi.data.length;
      const z = this.normals;
      streams.normals.fill(z, 0, n);
      let mean = 0;
      for (let i = 0; i < n; i++) mean += z[i]!;
      mean /= n;
      for (let i = 0; i < n; i++) xi.data[i] = sigma * (z[i]! - mean);
      this.block(l, streams.rng);
      this.sink.addOuter(l, -1 / b, xi, this.response[l]!);
    }
    this.sink.step();
    this.feedback.recompute(this.engine);
    this.feedback.normalize(this.engine);
  }

  /** r = block_l(xi): the layer's full forward block on the noise. */
  private block(l: number, rng: Rng): void {
    const net = this.net;
    const w = net.weights[l]!;
    const xi = this.noise[l]!;
    const r = this.response[l]!;
    const b = this.batch;
    const d = w.rows;
    const bias = net.biases[l];
    if (bias) for (let i = 0; i < b; i++) r.data.set(bias.data, i * d);
    this.engine.gemm(false, true, b, d, w.cols, 1, xi, w, bias ? 1 : 0, r);
    const hidden = l + 1 < net.depth;
    const kind = net.config.normalization;
    const normalized = hidden && kind !== 'none';
    const target = normalized ? this.unnormalized[l]! : r.data;
    activate(net.activationOf(l), r.data, target, b, d);
    if (hidden && net.config.dropout > 0) {
      const mask = this.mask[l]!;
      rng.fillDropoutMask(mask, 1 - net.config.dropout);
      for (let i = 0; i < target.length; i++) target[i] = target[i]! * mask[i]!;
    }
    if (normalized) normalizeActivity(kind, target, r.data, b, d, this.norms);
  }
}
