/**
 * Presets matching the paper's settings (spec 4.3, 5.1-5.2): one hidden layer of 1024 ReLU units, batch 64,
 * dropout 0.1, SGD momentum 0.9, 100 epochs, learning rate x0.1 after epochs 60 and 90, no biases,
 * He-uniform forward weights (the reference README's commands), F uniform with scale 0.05.
 */
import { TopdownUsageError } from '../core/errors.js';

import type { TrainConfigInput } from './config.js';

const PAPER: TrainConfigInput = {
  hidden: [1024],
  epochs: 100,
  batchSize: 64,
  dropout: 0.1,
  momentum: 0.9,
  weightDecay: 0,
  decayEpochs: [60, 90],
  decayFactor: 0.1,
  init: 'he_uniform',
};

export const PRESETS: Record<string, TrainConfigInput> = {
  // MNIST uses lr 0.1 in the ICML code's README; CIFAR uses 0.01.
  'pepita-mnist': { ...PAPER, rule: 'pepita', data: 'mnist', lr: 0.1 },
  'pepita-fashion-mnist': { ...PAPER, rule: 'pepita', data: 'fashion-mnist', lr: 0.1 },
  'pepita-cifar10': { ...PAPER, rule: 'pepita', data: 'cifar10', lr: 0.01 },
  'pepita-cifar100': { ...PAPER, rule: 'pepita', data: 'cifar100', lr: 0.01 },
  // PEPITA + weight decay + weight mirroring every epoch (spec 5.2 rows), factorised F as mirroring needs.
  'pepita-wm-cifar10': {
    ...PAPER,
    rule: 'pepita',
    data: 'cifar10',
    lr: 0.01,
    weightDecay: 1e-4,
    feedbackInit: 'normal',
    mirror: { noise: 0.1, lr: 0.1, weightDecay: 0.5, period: 1, preMirrorEpochs: 0 },
  },
  'bp-mnist': { ...PAPER, rule: 'bp', data: 'mnist', lr: 0.1 },
  'bp-cifar10': { ...PAPER, rule: 'bp', data: 'cifar10', lr: 0.01 },
  'fa-mnist': { ...PAPER, rule: 'fa', data: 'mnist', lr: 0.1 },
  // Random feedback makes the hidden update a random direction of backprop's size, and with |x|^2 ~ 770 for
  // CIFAR pixels in [0, 1] a step of lr 0.01 (momentum 0.9) moves the hidden activity so much that the softmax
  // saturates within the first epoch; at 0.003 the same happens after about ten epochs; 0.001 is stable and
  // lands FA in the paper's band. The settings behind the paper's FA/DRTP numbers were not retrieved
  // (spec 5.1); DFA and DRTP use the same rate (not yet checked over 100 epochs).
  'fa-cifar10': { ...PAPER, rule: 'fa', data: 'cifar10', lr: 0.001 },
  'dfa-cifar10': { ...PAPER, rule: 'dfa', data: 'cifar10', lr: 0.001 },
  'drtp-cifar10': { ...PAPER, rule: 'drtp', data: 'cifar10', lr: 0.001 },
};

/**
 * The ICML-2022 conv model and settings (spec 4.2-4.3, `main_pytorch.py`): Conv(32, 5x5, no bias) -> ReLU ->
 * MaxPool 2x2 -> FC -> softmax, batch 50, no dropout (its forward pass ignores the masks), SGD momentum 0.9,
 * learning rate 0.01 x0.1 at the start of (0-based) epochs 10, 30 and 60 (`decay_scheme=1`), 100 epochs, and
 * PyTorch's default initialisation U(+-1/sqrt(fan-in)) (its `--w_init` is parsed but never applied).
 * PEPITA as that code runs it: x_mod = x + F e, and the conv update averaged over positions and then divided
 * by the batch once more (`compute_delta_w_conv`, then `/ batch_size`). FA at a tenth of the rate on CIFAR, as
 * its fully connected presets there (at 0.01 the conv net's softmax saturates on CIFAR-10 within two epochs
 * from either initialisation), DRTP likewise; on MNIST both at 0.01. PEPITA, and FA and DRTP at their lower
 * rate, use the code's other schedule, `decay_scheme=0` (x0.1 at epoch 60 on MNIST, 60 and 90 on CIFAR):
 * PEPITA's conv layer barely moves, so it trains a read-out of random conv features, which `decay_scheme=1`
 * leaves underfitted (97.7% on MNIST against the published 98.29), and FA on CIFAR-10 at 0.001 ends at 51.4%
 * (training accuracy 53%) against 57.5. BP keeps `decay_scheme=1`: with `decay_scheme=0` it overfits CIFAR-10
 * (58.4% against 64.99; docs/results/notes/baselines.md).
 */
const ICML_CONV: TrainConfigInput = {
  arch: 'conv32x5-pool2-fc',
  epochs: 100,
  batchSize: 50,
  dropout: 0,
  momentum: 0.9,
  weightDecay: 0,
  lr: 0.01,
  decayEpochs: [10, 30, 60],
  decayFactor: 0.1,
  decayTiming: 'start',
  init: 'torch_default',
};
const PEPITA_CONV: TrainConfigInput = {
  ...ICML_CONV,
  rule: 'pepita',
  sign: 'plus',
  pepita: { convAverage: 'positions-batch' },
};

for (const data of ['mnist', 'cifar10', 'cifar100'] as const) {
  const decayScheme0 = { decayEpochs: data === 'mnist' ? [60] : [60, 90] };
  // FA and DRTP on CIFAR: a tenth of the code's rate, and with it the code's longer schedule.
  const feedbackRate = data === 'mnist' ? {} : { lr: 0.001, ...decayScheme0 };
  PRESETS[`pepita-conv-${data}`] = { ...PEPITA_CONV, data, ...decayScheme0 };
  PRESETS[`bp-conv-${data}`] = { ...ICML_CONV, rule: 'bp', data };
  PRESETS[`fa-conv-${data}`] = { ...ICML_CONV, rule: 'fa', data, ...feedbackRate };
  PRESETS[`drtp-conv-${data}`] = { ...ICML_CONV, rule: 'drtp', data, ...feedbackRate };
}

/**
 * Hinton (2022)'s permutation-invariant MNIST setting for Forward-Forward: four hidden layers of 2000 ReLU units,
 * the label in the first 10 pixels, length normalisation between layers, goodness = sum of squares with
 * threshold = layer width; trained here with Adam on mini-batches. `bp-mnist-4x2000` is the same net by backprop.
 */
const FF_NET: TrainConfigInput = {
  hidden: [2000, 2000, 2000, 2000],
  bias: true,
  init: 'he_uniform',
  dropout: 0,
  batchSize: 100,
  optimizer: 'adam',
  weightDecay: 0,
  decayFactor: 0.1,
};

PRESETS['ff-mnist'] = {
  ...FF_NET,
  rule: 'ff',
  data: 'mnist',
  normalization: 'sample-rms',
  lr: 0.001,
  epochs: 60,
  decayEpochs: [40],
  ffGoodness: 'sum',
  ffNegatives: 'random',
  ffGoodnessEvalEvery: 10,
};
PRESETS['bp-mnist-4x2000'] = {
  ...FF_NET,
  rule: 'bp',
  data: 'mnist',
  lr: 0.001,
  epochs: 20,
  decayEpochs: [15],
};

export function presetConfig(name: string): TrainConfigInput {
  const preset = PRESETS[name];
  if (!preset)
    throw new TopdownUsageError(`unknown preset "${name}"; choose one of ${Object.keys(PRESETS).join(', ')}`);
  return preset;
}
