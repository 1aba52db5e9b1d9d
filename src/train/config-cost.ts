/** A run's step cost from its config alone (its rule's cost model on the network the config describes). */
import { DATASETS, type DatasetName } from '../data/datasets.js';
import { archLayerCosts } from '../nn/arch.js';
import { stepCost, type StepCost } from '../rules/costs.js';
import type { RuleName } from '../rules/registry.js';

import type { TrainConfig } from './config.js';

/** The widths of `config`'s network on its dataset and the cost of one training step. */
export function configStepCost(config: TrainConfig): { sizes: number[]; cost: StepCost } {
  const spec = DATASETS[config.data as DatasetName];
  const arch = config.arch ? archLayerCosts(config.arch, spec.shape, spec.classes) : null;
  const sizes = arch ? arch.sizes : [spec.features, ...config.hidden, spec.classes];
  // the rule's sections are the config's object-valued entries
  const options = Object.fromEntries(
    Object.entries(config).filter(([, v]) => v !== null && typeof v === 'object' && !Array.isArray(v)),
  );
  const cost = stepCost({
    sizes,
    batch: config.batchSize,
    rule: config.rule as RuleName,
    options,
    ...(arch ? { layers: arch.layers } : {}),
  });
  return { sizes, cost };
}
