/**
 * Everything a training run owns besides the data: the network, the rule and its feedback, the optimisers,
 * the dropout masks and the random streams, built from a {@link TrainConfig}; and its exact capture and
 * restoration for checkpoints.
 */
import type { Engine } from '../core/engine.js';
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';
import { Rng, type RngState } from '../core/rng.js';
import { WeightMirror } from '../feedback/mirror.js';
import { DropoutMasks } from '../nn/forward.js';
import { Network } from '../nn/network.js';
import { Adam } from '../optim/adam.js';
import { Sgd, type SgdState } from '../optim/sgd.js';
import { FfRule } from '../rules/ff.js';
import { PepitaRule } from '../rules/pepita.js';
import { createRule, type RuleSetup } from '../rules/registry.js';

import type { TrainConfig } from './config.js';

/** The random streams of a run; each is independent of how much the others have drawn. */
export interface RunStreams {
  shuffle: Rng;
  dropout: Rng;
  mirror: Rng;
}

export interface Model {
  config: TrainConfig;
  net: Network;
  setup: RuleSetup;
  /** The forward weights' optimiser (config.optimizer). */
  optimizer: Sgd | Adam;
  /** Kolen-Pollack's optimiser for FA's feedback. */
  feedbackSgd: Sgd | null;
  mirror: WeightMirror | null;
  mirrorSgd: Sgd | null;
  masks: DropoutMasks | null;
  streams: RunStreams;
}

/** Builds the model for inputs of `features` and `classes` outputs, seeded by `config.seed`. */
export function buildModel(config: TrainConfig, features: number, classes: number, engine: Engine): Model {
  const rng = Rng.fromSeed(config.seed);
  const net = Network.create(
    {
      sizes: [features, ...config.hidden, classes],
      hiddenActivation: config.activation as Network['config']['hiddenActivation'],
      bias: config.bias,
      init: config.init,
      dropout: config.dropout,
      normalization: config.normalization,
    },
    rng.derive('network'),
  );
  const opts = { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay };
  let feedbackSgd: Sgd | null = null;
  const setup = createRule(
    {
      rule: config.rule,
      pepita: { mode: config.mode, sign: config.sign, lastLayer: config.lastLayer },
      topDown: { init: config.feedbackInit, scale: config.feedbackScale },
      kolenPollack: config.kolenPollack,
      ff: {
        goodness: config.ffGoodness,
        ...(config.ffThreshold !== undefined ? { threshold: config.ffThreshold } : {}),
        negatives: config.ffNegatives,
        labelValue: config.ffLabelValue,
        peerNormalization: config.ffPeerNormalization,
      },
    },
    net,
    engine,
    config.batchSize,
    rng.derive('rule'),
    (params) => (feedbackSgd = new Sgd(engine, params, opts)),
  );
  let mirror: WeightMirror | null = null;
  let mirrorSgd: Sgd | null = null;
  if (config.mirror) {
    const factors = setup.topDown?.factors;
    if (!factors || !(setup.rule instanceof PepitaRule)) {
      throw new TopdownUsageError('weight mirroring needs rule pepita with feedbackInit "normal"');
    }
    mirrorSgd = new Sgd(
      engine,
      { weights: factors, biases: factors.map(() => null) },
      {
        lr: config.mirror.lr,
        weightDecay: config.mirror.weightDecay,
      },
    );
    mirror = new WeightMirror(net, setup.topDown!, engine, config.batchSize, mirrorSgd, {
      noise: config.mirror.noise,
      learningRate: config.mirror.lr,
      weightDecay: config.mirror.weightDecay,
      period: config.mirror.period,
      preMirrorEpochs: config.mirror.preMirrorEpochs,
    });
  }
  const streams = {
    shuffle: rng.derive('shuffle'),
    dropout: rng.derive('dropout'),
    mirror: rng.derive('mirror'),
  };
  const masks = config.dropout > 0 ? new DropoutMasks(net, config.batchSize) : null;
  return {
    config,
    net,
    setup,
    optimizer:
      config.optimizer === 'adam'
        ? new Adam(engine, net, {
            lr: config.lr,
            beta1: config.adamBeta1,
            beta2: config.adamBeta2,
            eps: config.adamEps,
            weightDecay: config.weightDecay,
          })
        : new Sgd(engine, net, opts),
    feedbackSgd,
    mirror,
    mirrorSgd,
    masks,
    streams,
  };
}

/** Every parameter-like matrix of the model, in a fixed order (weights, biases, F or its factors, B). */
function parameterMatrices(m: Model): Matrix[] {
  const out: Matrix[] = [...m.net.weights];
  for (const b of m.net.biases) if (b) out.push(b);
  const topDown = m.setup.topDown;
  if (topDown) {
    if (topDown.factors) out.push(...topDown.factors);
    out.push(topDown.matrix);
  }
  if (m.setup.backward) out.push(...m.setup.backward);
  if (m.setup.rule instanceof FfRule) out.push(...m.setup.rule.peerMeans);
  return out;
}

/** An optimiser's checkpoint header (its tensors are stored after the parameters). */
type OptimizerHeader =
  | { kind?: 'sgd'; lr: number; stepped: boolean[]; biases: boolean[] }
  | { kind: 'adam'; lr: number; steps: number[]; biases: boolean[] };

const present = (b: Float32Array | null): b is Float32Array => b !== null;

function optimizerParts(opt: Sgd | Adam): { header: OptimizerHeader; tensors: Float32Array[] } {
  if (opt instanceof Adam) {
    const s = opt.state();
    return {
      header: { kind: 'adam', lr: s.lr, steps: s.steps, biases: s.biasM.map((b) => b !== null) },
      tensors: [...s.m, ...s.v, ...s.biasM.filter(present), ...s.biasV.filter(present)],
    };
  }
  const s = opt.state();
  return {
    header: { kind: 'sgd', lr: s.lr, stepped: s.stepped, biases: s.biasBuffers.map((b) => b !== null) },
    tensors: [...s.buffers, ...s.biasBuffers.filter(present)],
  };
}

function loadOptimizer(
  opt: Sgd | Adam,
  header: OptimizerHeader,
  tensors: Float32Array[],
  source: string,
): void {
  const kind = header.kind ?? 'sgd';
  if ((kind === 'adam') !== opt instanceof Adam) {
    throw new TopdownUsageError(`checkpoint ${source} was written with another optimiser (${kind})`);
  }
  if (header.kind === 'adam') {
    const n = header.steps.length;
    const m = tensors.splice(0, n);
    const v = tensors.splice(0, n);
    const biasM = header.biases.map((has) => (has ? tensors.shift()! : null));
    const biasV = header.biases.map((has) => (has ? tensors.shift()! : null));
    (opt as Adam).loadState({ lr: header.lr, steps: header.steps, m, v, biasM, biasV });
    return;
  }
  const n = header.stepped.length;
  const buffers = tensors.splice(0, n);
  const biasBuffers = header.biases.map((has) => (has ? tensors.shift()! : null));
  (opt as Sgd).loadState({ lr: header.lr, stepped: header.stepped, buffers, biasBuffers } as SgdState);
}

/** What a checkpoint holds besides the config and progress counters. */
export interface ModelSnapshot {
  header: {
    sizes: number[];
    streams: Record<keyof RunStreams, RngState>;
    /** Forward optimiser, then Kolen-Pollack's and mirroring's SGDs where present. */
    sgd: OptimizerHeader[];
    /** Forward-Forward's negative-label stream. */
    negatives?: RngState;
  };
  tensors: Float32Array[];
}

/** Captures the model exactly (copies). */
export function snapshotModel(m: Model): ModelSnapshot {
  const tensors = parameterMatrices(m).map((x) => x.toFloat32Array());
  const sgdHeaders: OptimizerHeader[] = [];
  for (const opt of [m.optimizer, m.feedbackSgd, m.mirrorSgd]) {
    if (!opt) continue;
    const parts = optimizerParts(opt);
    sgdHeaders.push(parts.header);
    tensors.push(...parts.tensors);
  }
  return {
    header: {
      sizes: [...m.net.sizes],
      streams: {
        shuffle: m.streams.shuffle.state(),
        dropout: m.streams.dropout.state(),
        mirror: m.streams.mirror.state(),
      },
      sgd: sgdHeaders,
      ...(m.setup.rule instanceof FfRule ? { negatives: m.setup.rule.rng.state() } : {}),
    },
    tensors,
  };
}

/** Restores a snapshot into a model built from the same config; throws if the shapes differ. */
export function restoreModel(m: Model, snapshot: ModelSnapshot, source: string): void {
  const sizes = m.net.sizes;
  if (snapshot.header.sizes.join('-') !== sizes.join('-')) {
    throw new TopdownUsageError(
      `checkpoint ${source} is for a ${snapshot.header.sizes.join('-')} network, not ${sizes.join('-')}`,
    );
  }
  const tensors = [...snapshot.tensors];
  for (const x of parameterMatrices(m)) {
    const t = tensors.shift();
    if (!t || t.length !== x.size)
      throw new TopdownUsageError(`checkpoint ${source} does not match this model's parameters`);
    x.data.set(t, x.offset);
  }
  m.setup.topDown?.touched();
  const opts = [m.optimizer, m.feedbackSgd, m.mirrorSgd].filter((o): o is Sgd | Adam => o !== null);
  if (opts.length !== snapshot.header.sgd.length)
    throw new TopdownUsageError(`checkpoint ${source} has a different optimiser set`);
  opts.forEach((opt, i) => loadOptimizer(opt, snapshot.header.sgd[i]!, tensors, source));
  if (m.setup.rule instanceof FfRule && snapshot.header.negatives) {
    m.setup.rule.rng = Rng.fromState(snapshot.header.negatives);
  }
  m.streams.shuffle = Rng.fromState(snapshot.header.streams.shuffle);
  m.streams.dropout = Rng.fromState(snapshot.header.streams.dropout);
  m.streams.mirror = Rng.fromState(snapshot.header.streams.mirror);
}
