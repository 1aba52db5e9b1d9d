/**
 * Everything a training run owns besides the data: the network, the rule (with the state it owns), the
 * optimisers, the dropout masks and the random streams, built from a {@link TrainConfig} through the rule's
 * definition; and its exact capture and restoration for checkpoints, as named state per component.
 */
import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';
import { Rng } from '../core/rng.js';
import { StateSet, type NamedState, type Stateful } from '../core/state.js';
import { DropoutMasks } from '../nn/forward.js';
import { archNetwork } from '../nn/arch.js';
import { Network, type NetworkConfig } from '../nn/network.js';
import { createOptimizer, type OptimizerSettings } from '../optim/factory.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { ParameterSet } from '../optim/sink.js';
import { ruleDefinition } from '../rules/registry.js';
import type { LearningRule, RuleContext, RuleDefinition, SectionValues } from '../rules/rule.js';

import type { TrainConfig } from './config.js';
import { checkTrainingMemory } from './memory.js';

/** The random streams of the loop; each is independent of how much the others have drawn. */
export interface RunStreams {
  shuffle: Rng;
  dropout: Rng;
}

/** An optimiser of the run, with what the learning-rate schedule needs. */
export interface RunOptimizer {
  /** `weights` for the forward parameters; the rule's names otherwise (e.g. `feedback`, `mirror`). */
  name: string;
  optimizer: Optimizer;
  /** The rate the schedule decays from. */
  baseLr: number;
  /** Follows the run's step decay (false: keeps its rate). */
  scheduled: boolean;
}

export interface Model {
  config: TrainConfig;
  definition: RuleDefinition;
  net: Network;
  rule: LearningRule;
  /** The forward weights' optimiser (config.optimizer). */
  optimizer: Optimizer;
  /** Every optimiser, the forward one first. */
  optimizers: RunOptimizer[];
  masks: DropoutMasks | null;
  streams: RunStreams;
  /** Everything to checkpoint, by component name. */
  components: Record<string, Stateful>;
}

/** The rule's sections of a resolved config. */
export function ruleOptions(
  config: TrainConfig,
  def: RuleDefinition = ruleDefinition(config.rule),
): SectionValues {
  const out: SectionValues = {};
  for (const s of def.sections) {
    const v = config[s.key];
    if (v !== undefined) out[s.key] = v as Record<string, unknown>;
  }
  return out;
}

function optimizerSettings(config: TrainConfig): OptimizerSettings {
  return {
    optimizer: config.optimizer,
    lr: config.lr,
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    adamBeta1: config.adamBeta1,
    adamBeta2: config.adamBeta2,
    adamEps: config.adamEps,
  };
}

/** The widths and layers of the run's network: `config.arch` on images of `shape`, else `config.hidden`. */
function networkLayout(
  config: TrainConfig,
  features: number,
  classes: number,
  shape: readonly [number, number, number] | undefined,
): Pick<NetworkConfig, 'sizes' | 'layers' | 'input'> {
  if (config.arch === undefined) return { sizes: [features, ...config.hidden, classes] };
  if (!shape) throw new TopdownUsageError(`an architecture (${config.arch}) needs the inputs' image shape`);
  const input = shape;
  if (input[0] * input[1] * input[2] !== features)
    throw new TopdownUsageError(`inputs of shape ${input.join('x')} are not ${features} features`);
  return archNetwork(config.arch, input, classes);
}

function networkState(net: Network): StateSet {
  const named: Record<string, Matrix> = {};
  net.weights.forEach((w, l) => (named[`W${l + 1}`] = w));
  net.biases.forEach((b, l) => {
    if (b) named[`b${l + 1}`] = b;
  });
  return new StateSet().tensors(named);
}

/**
 * Builds the model for inputs of `features` and `classes` outputs, seeded by `config.seed`; `shape` is the
 * inputs' [channels, height, width], which an architecture with convolutions (`config.arch`) needs.
 */
export function buildModel(
  config: TrainConfig,
  features: number,
  classes: number,
  engine: Engine,
  shape?: readonly [number, number, number],
): Model {
  const def = ruleDefinition(config.rule);
  checkTrainingMemory(
    {
      sizes: [features, ...config.hidden, classes],
      batchSize: config.batchSize,
      optimizerBuffers: config.optimizer === 'adam' ? 3 : 1,
      passes: def.passes ? 2 + classes : 1, // FF with every negative is the widest: 1 + 1 + (C - 1) passes
    },
    config.maxMemory,
  );
  const rng = Rng.fromSeed(config.seed);
  const layout = networkLayout(config, features, classes, shape);
  const net = Network.create(
    {
      ...layout,
      hiddenActivation: config.activation as Network['config']['hiddenActivation'],
      bias: config.bias,
      init: config.init,
      dropout: config.dropout,
      normalization: config.normalization,
    },
    rng.derive('network'),
    engine,
  );
  const settings = optimizerSettings(config);
  const optimizer = createOptimizer(engine, net, settings);
  const optimizers: RunOptimizer[] = [{ name: 'weights', optimizer, baseLr: config.lr, scheduled: true }];
  const makeOptimizer: NonNullable<RuleContext['optimizer']> = (
    name,
    params: ParameterSet,
    overrides = {},
  ) => {
    if (optimizers.some((o) => o.name === name)) {
      throw new TopdownUsageError(`rule ${def.name} asked for two optimisers named "${name}"`);
    }
    const { scheduled = true, ...own } = overrides;
    const s = { ...settings, ...own };
    const opt = createOptimizer(engine, params, s);
    optimizers.push({ name, optimizer: opt, baseLr: s.lr, scheduled });
    return opt;
  };
  const rule = def.create(
    { net, engine, maxBatch: config.batchSize, rng: rng.derive('rule'), optimizer: makeOptimizer },
    ruleOptions(config, def),
  );
  const streams: RunStreams = { shuffle: rng.derive('shuffle'), dropout: rng.derive('dropout') };
  const components: Record<string, Stateful> = {
    network: networkState(net),
    rule: rule.state ?? new StateSet(),
    streams: new StateSet()
      .rng('shuffle', { get: () => streams.shuffle, set: (r) => (streams.shuffle = r) })
      .rng('dropout', { get: () => streams.dropout, set: (r) => (streams.dropout = r) }),
  };
  for (const o of optimizers) components[`optimizer.${o.name}`] = o.optimizer;
  return {
    config,
    definition: def,
    net,
    rule,
    optimizer,
    optimizers,
    masks: config.dropout > 0 ? new DropoutMasks(net, config.batchSize, engine) : null,
    streams,
    components,
  };
}

/** What a checkpoint holds besides the config and progress counters. */
export interface ModelSnapshot {
  header: {
    sizes: number[];
    /** Per component: its values and the names of its tensors, in the order of `tensors`. */
    components: Record<string, { values: Record<string, unknown>; tensors: string[] }>;
  };
  tensors: Float32Array[];
}

/** Captures the model exactly (copies). */
export function snapshotModel(m: Model): ModelSnapshot {
  const components: ModelSnapshot['header']['components'] = {};
  const tensors: Float32Array[] = [];
  for (const [name, c] of Object.entries(m.components)) {
    const s = c.saveState();
    components[name] = { values: s.values, tensors: Object.keys(s.tensors) };
    tensors.push(...Object.values(s.tensors));
  }
  return { header: { sizes: [...m.net.sizes], components }, tensors };
}

/** Restores a snapshot into a model built from the same config; throws a one-line error on any mismatch. */
export function restoreModel(m: Model, snapshot: ModelSnapshot, source: string): void {
  const sizes = m.net.sizes;
  const header = snapshot.header;
  if (
    !header ||
    !Array.isArray(header.sizes) ||
    typeof header.components !== 'object' ||
    !header.components
  ) {
    throw new TopdownUsageError(`checkpoint ${source} has no model description`);
  }
  if (header.sizes.join('-') !== sizes.join('-')) {
    throw new TopdownUsageError(
      `checkpoint ${source} is for a ${header.sizes.join('-')} network, not ${sizes.join('-')}`,
    );
  }
  const want = Object.keys(m.components).sort().join(', ');
  const got = Object.keys(header.components).sort().join(', ');
  if (want !== got) {
    throw new TopdownUsageError(
      `checkpoint ${source} does not match this model: it holds [${got}], not [${want}]`,
    );
  }
  let next = 0;
  const states: [Stateful, NamedState][] = [];
  for (const [name, entry] of Object.entries(header.components)) {
    const tensors: Record<string, Float32Array> = {};
    for (const t of entry.tensors) {
      const values = snapshot.tensors[next++];
      if (!values) throw new TopdownUsageError(`checkpoint ${source} is missing tensor ${name}.${t}`);
      tensors[t] = values;
    }
    states.push([m.components[name]!, { values: entry.values, tensors }]);
  }
  if (next !== snapshot.tensors.length)
    throw new TopdownUsageError(`checkpoint ${source} holds more tensors than its header names`);
  for (const [component, state] of states) component.restoreState(state, source);
}
