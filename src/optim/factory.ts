/** The optimisers by name: the one place that maps a setting to SGD or Adam. */
import type { Engine } from '../core/engine-base.js';

import { Adam } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { Sgd } from './sgd.js';
import type { ParameterSet } from './sink.js';

export const OPTIMIZERS = ['sgd', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** An optimiser's settings, as the training config names them. */
export interface OptimizerSettings {
  optimizer: OptimizerName;
  lr: number;
  /** SGD only. */
  momentum: number;
  weightDecay: number;
  /** Adam only. */
  adamBeta1: number;
  adamBeta2: number;
  adamEps: number;
}

/** Builds the optimiser `settings.optimizer` over `params`. */
export function createOptimizer(
  engine: Engine,
  params: ParameterSet,
  settings: OptimizerSettings,
): Optimizer {
  switch (settings.optimizer) {
    case 'adam':
      return new Adam(engine, params, {
        lr: settings.lr,
        beta1: settings.adamBeta1,
        beta2: settings.adamBeta2,
        eps: settings.adamEps,
        weightDecay: settings.weightDecay,
      });
    case 'sgd':
      return new Sgd(engine, params, {
        lr: settings.lr,
        momentum: settings.momentum,
        weightDecay: settings.weightDecay,
      });
  }
}
