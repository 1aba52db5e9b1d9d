/**
 * The training configuration, composed from one schema per owner: the run's own options (data, network,
 * optimiser, schedule, seed, engine: {@link CORE_SCHEMA}) and the sections of the chosen rule (`pepita`,
 * `feedback`, `mirror`, `fa`, `backward`, `ff`, from the rule modules). Every option's validation, default
 * and description live in those schemas; flags, help, config files and the README's tables are derived from
 * them. Sources merge as preset < config file < command-line flags; a rule's training defaults (FF: Adam,
 * length normalisation, no dropout) fill what none of them set. The resolved object is written next to every
 * run's results.
 */

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { ENGINE_NAMES } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import { camel, describeFields, type OptionField } from '../core/options.js';
import { DATASET_NAMES, DATASETS, type DatasetName } from '../data/datasets.js';
import { ACTIVATIONS } from '../nn/activations.js';
import { parseArch } from '../nn/arch.js';
import { WEIGHT_INITS } from '../nn/init.js';
import { NORMALIZATIONS } from '../nn/network.js';
import { OPTIMIZERS } from '../optim/factory.js';
import {
  DEFAULT_RULE,
  optionSections,
  RULE_NAMES,
  RULES,
  ruleDefinition,
  type RuleName,
} from '../rules/registry.js';
import {
  checkSectionsApply,
  mergeSplits,
  parseSections,
  splitOptions,
  type OptionSource,
  type SplitOptions,
} from '../rules/rule-options.js';
import type { RuleDefinition } from '../rules/rule.js';

const HIDDEN_ACTIVATIONS = ACTIVATIONS.filter((a) => a !== 'softmax') as [string, ...string[]];

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

/** Learning rates of the reference code's README commands, per dataset (SGD). */
const DEFAULT_SGD_LR: Record<DatasetName, number> = {
  mnist: 0.1,
  'fashion-mnist': 0.1,
  cifar10: 0.01,
  cifar100: 0.01,
};
/** torch.optim.Adam's default rate. */
const DEFAULT_ADAM_LR = 0.001;

/** The options every run has, whatever its rule. */
export const CORE_SCHEMA = z
  .object({
    rule: z.enum(RULE_NAMES).default(DEFAULT_RULE).meta({ description: 'learning rule' }),
    data: z.enum(DATASET_NAMES).default('mnist').meta({ description: 'dataset' }),
    dataDir: z.string().min(1).optional().meta({
      description: 'where the dataset files are',
      defaultText: 'TOPDOWN_DATA, else the per-user cache',
      placeholder: 'DIR',
    }),
    trainSubset: positiveInt
      .optional()
      .meta({ description: 'use the first N training samples', placeholder: 'N' }),
    testSubset: positiveInt
      .optional()
      .meta({ description: 'use the first N test samples', placeholder: 'N' }),
    valSplit: nonNegativeInt.default(0).meta({
      description: 'hold out N training samples (seeded) and report validation accuracy',
      placeholder: 'N',
    }),
    standardize: z
      .boolean()
      .default(false)
      .meta({ description: 'per-channel standardisation with training-set statistics' }),
    hidden: z.array(positiveInt).default([1024]).meta({
      description:
        'hidden widths, e.g. 1024,1024 (not with --arch, which sets them; no hidden layer: --arch fc)',
    }),
    arch: z.string().min(1).optional().meta({
      description:
        'layers, e.g. conv32x5-pool2-fc (the ICML conv model): conv<F>x<K>[s<S>][p<P>], pool2, fc<N>, a final fc; sets the hidden widths',
      placeholder: 'LAYERS',
    }),
    activation: z.enum(HIDDEN_ACTIVATIONS).default('relu').meta({ description: 'hidden activation' }),
    init: z.enum(WEIGHT_INITS).default('he_uniform').meta({ description: 'forward weight initialisation' }),
    bias: z.boolean().default(false).meta({ description: 'biases on every layer (the paper uses none)' }),
    dropout: z.number().min(0).lt(1).default(0.1).meta({
      description: 'hidden dropout, one mask per step shared by all passes',
      placeholder: 'P',
    }),
    normalization: z.enum(NORMALIZATIONS).default('none').meta({
      description: 'hidden activity normalisation: sample-l2, sample-rms (length sqrt(d)) or batch-frobenius',
    }),
    epochs: positiveInt.default(100).meta({ description: 'training epochs', placeholder: 'N' }),
    batchSize: positiveInt.default(64).meta({
      description: 'mini-batch size (the last partial batch of an epoch is dropped)',
      placeholder: 'N',
    }),
    optimizer: z.enum(OPTIMIZERS).default('sgd').meta({
      description: 'sgd (PyTorch semantics, momentum and coupled weight decay) or adam (torch.optim.Adam)',
    }),
    lr: z.number().nonnegative().optional().meta({
      description: 'learning rate',
      defaultText: 'SGD: 0.1 on MNIST and Fashion-MNIST, 0.01 on CIFAR; Adam: 0.001',
      placeholder: 'R',
    }),
    momentum: z.number().min(0).lt(1).default(0.9).meta({ description: 'SGD momentum', placeholder: 'M' }),
    weightDecay: z.number().nonnegative().default(0).meta({
      description: "coupled (L2) weight decay, SGD's and Adam's",
      placeholder: 'W',
    }),
    adamBeta1: z.number().min(0).lt(1).default(0.9).meta({ description: 'Adam beta1' }),
    adamBeta2: z.number().min(0).lt(1).default(0.999).meta({ description: 'Adam beta2' }),
    adamEps: z.number().positive().default(1e-8).meta({ description: 'Adam epsilon' }),
    decayEpochs: z.array(nonNegativeInt).default([60, 90]).meta({
      description: "epochs after which the learning rate is multiplied by --decay-factor ('' for none)",
    }),
    decayFactor: z
      .number()
      .positive()
      .default(0.1)
      .meta({ description: 'learning-rate decay factor', placeholder: 'G' }),
    decayTiming: z.enum(['end', 'start']).default('end').meta({
      description: 'decay at the end of the milestone epoch (ICLR code) or its start (ICML code)',
    }),
    tensorboard: z.boolean().default(false).meta({
      description: "also write the run's scalars as TensorBoard event files (RUN/tensorboard/)",
    }),
    goodnessHistogramEpochs: z.array(nonNegativeInt).default([]).meta({
      description:
        "epochs (0 = before training) at which to record the test-set distribution of ||h_1||^2 - ||h_1'||^2 between the rule's two passes",
    }),
    seed: nonNegativeInt.default(0).meta({
      description: 'every random draw (weights, feedback, data order, dropout, noise) follows from it',
      placeholder: 'N',
    }),
    checkpointEvery: positiveInt.default(1).meta({
      description: 'checkpoint every N training epochs, after the last and after each pre-mirroring epoch',
      placeholder: 'N',
    }),
    engine: z.enum(ENGINE_NAMES).default('auto').meta({
      description: 'compute engine',
      defaultText: 'TOPDOWN_ENGINE, else auto',
    }),
    maxMemory: z.number().positive().optional().meta({
      description: 'refuse runs estimated to need more memory than this many GB before allocating anything',
      defaultText: "80% of the machine's (or container's) memory",
      placeholder: 'GB',
    }),
    // core/engine.ts's MAX_THREADS (not imported: that module loads native code; this one runs in browsers)
    threads: z.number().int().min(1).max(1024).optional().meta({
      description: 'engine threads (at most 1024)',
      defaultText: 'TOPDOWN_THREADS, else all cores',
      placeholder: 'N',
    }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.hidden.length === 0 && c.arch === undefined) {
      // most often an empty shell variable: a network with no hidden layer is asked for by name
      const message = 'needs at least one width (for a network with no hidden layer, give --arch fc)';
      ctx.addIssue({ code: 'custom', path: ['hidden'], message });
    }
    const sorted = [...c.decayEpochs].sort((a, b) => a - b);
    if (sorted.some((v, i) => v !== c.decayEpochs[i] || (i > 0 && v === sorted[i - 1]))) {
      ctx.addIssue({ code: 'custom', path: ['decayEpochs'], message: 'must be increasing' });
    }
  });

export type CoreConfig = Omit<z.infer<typeof CORE_SCHEMA>, 'lr' | 'rule'> & { lr: number; rule: RuleName };

/**
 * A resolved training configuration: the core options plus one mapping per section of the rule (for PEPITA
 * `pepita`, `feedback` and, when mirroring, `mirror`), every default filled in.
 */
export type TrainConfig = CoreConfig & Record<string, unknown>;

/** A partial configuration (a preset, a file or flags) before defaults are filled in: sections or flat aliases. */
export type TrainConfigInput = Partial<z.input<typeof CORE_SCHEMA>> & Record<string, unknown>;

const CORE_KEYS: ReadonlySet<string> = new Set(Object.keys(CORE_SCHEMA.shape));

function sourceOf(name: string): OptionSource {
  return { name, flags: name === 'flags' };
}

function describeIssue(issue: z.core.$ZodIssue, split: SplitOptions, source: OptionSource): string {
  if (issue.code === 'unrecognized_keys') {
    return `${source.name}: unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  const key = String(issue.path[0] ?? '');
  const written = split.where[key];
  const rest = issue.path.length > 1 ? `.${issue.path.slice(1).join('.')}` : '';
  const where = written
    ? `${written}${rest}`
    : `${source.name}: ${issue.path.length ? issue.path.join('.') : '(root)'}`;
  return `${where}: ${issue.message}`;
}

/**
 * The hidden widths an architecture string gives on `data`'s images (one line naming the option when it does
 * not parse, or when it has convolutions and the rule trains fully connected networks only).
 */
function archHidden(
  def: RuleDefinition,
  arch: string,
  data: DatasetName,
  split: SplitOptions,
  source: OptionSource,
): number[] {
  const where = split.where.arch ?? `${source.name}: arch`;
  const spec = DATASETS[data];
  let parsed: ReturnType<typeof parseArch>;
  try {
    parsed = parseArch(arch, spec.shape, spec.classes);
  } catch (error) {
    if (error instanceof TopdownUsageError) throw new TopdownUsageError(`${where}: ${error.message}`);
    throw error;
  }
  if (parsed.layers.some((l) => l.kind === 'conv') && !def.convolutional) {
    const conv = (RULES as readonly RuleDefinition[]).filter((r) => r.convolutional).map((r) => r.name);
    throw new TopdownUsageError(
      `${where}: rule ${def.name} trains fully connected networks only (convolutions: ${conv.join(', ')})`,
    );
  }
  return parsed.sizes.slice(1, -1);
}

/** The rules that have two passes to compare (goodness histograms). */
function twoPassRules(): string[] {
  return (RULES as readonly RuleDefinition[]).filter((r) => r.passes).map((r) => r.name);
}

/**
 * Refuses hidden widths that `arch` would silently replace: `hidden` written in the same source as `arch` or a
 * later one (`hiddenAfterArch`) must be empty (a cleared form field) or equal the widths `arch` gives (a
 * resolved config holds both, equal).
 */
function checkHiddenAgrees(
  hidden: readonly number[],
  derived: readonly number[],
  arch: string,
  split: SplitOptions,
  source: OptionSource,
): void {
  if (hidden.length === 0) return;
  if (hidden.length === derived.length && hidden.every((w, i) => w === derived[i])) return;
  const whereHidden = split.where.hidden ?? `${source.name}: hidden`;
  const whereArch = split.where.arch ?? `${source.name}: arch`;
  throw new TopdownUsageError(
    `${whereHidden} ${hidden.join(',')} conflicts with ${whereArch} ${arch}, which sets the hidden widths (${derived.join(',') || 'none'}): give one of them`,
  );
}

function resolveSplit(split: SplitOptions, source: OptionSource, hiddenAfterArch: boolean): TrainConfig {
  const ruleName = split.core.rule ?? DEFAULT_RULE;
  if (typeof ruleName !== 'string' || !(RULE_NAMES as readonly string[]).includes(ruleName)) {
    throw new TopdownUsageError(
      `${split.where.rule ?? `${source.name}: rule`}: must be one of ${RULE_NAMES.join(', ')}; got ${JSON.stringify(ruleName)}`,
    );
  }
  const def = ruleDefinition(ruleName);
  checkSectionsApply(def, split);
  const data = (DATASET_NAMES as readonly string[]).includes(split.core.data as string)
    ? (split.core.data as DatasetName)
    : 'mnist';
  // The rule's training defaults, for what the user left unset (they see the rule's options as given).
  const preliminary = parseSections(def, split, source, null);
  const { lrFactor = 1, ...ruleDefaults } = def.trainingDefaults?.(preliminary, data) ?? {};
  const coreInput: Record<string, unknown> = { ...split.core };
  for (const [key, value] of Object.entries(ruleDefaults)) if (!(key in coreInput)) coreInput[key] = value;
  const result = CORE_SCHEMA.safeParse(coreInput);
  if (!result.success) throw new TopdownUsageError(describeIssue(result.error.issues[0]!, split, source));
  const parsed = result.data;
  if (parsed.arch !== undefined) {
    const derived = archHidden(def, parsed.arch, parsed.data, split, source);
    if (hiddenAfterArch) checkHiddenAgrees(parsed.hidden, derived, parsed.arch, split, source);
    parsed.hidden = derived;
  }
  const core: CoreConfig = {
    ...parsed,
    rule: parsed.rule as RuleName,
    lr:
      parsed.lr ??
      (parsed.optimizer === 'adam'
        ? DEFAULT_ADAM_LR
        : Number((lrFactor * DEFAULT_SGD_LR[parsed.data]).toPrecision(12))),
  };
  if (core.goodnessHistogramEpochs.length && !def.passes) {
    throw new TopdownUsageError(
      `${source.name}: goodness histograms need rule ${twoPassRules().join(' or ')} (got ${def.name})`,
    );
  }
  const sections = parseSections(def, split, source, {
    hidden: core.hidden,
    dropout: core.dropout,
    normalization: core.normalization,
  });
  return { ...core, ...sections };
}

/**
 * Validates and fills defaults; throws a one-line usage error naming the source, the option and the problem
 * (options spelled as flags when `source` is `flags`).
 */
export function resolveTrainConfig(input: unknown, source = 'config'): TrainConfig {
  const src = sourceOf(source);
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new TopdownUsageError(`${source}: expected a mapping of options`);
  const split = splitOptions(input as Record<string, unknown>, CORE_KEYS, src);
  return resolveSplit(split, src, 'hidden' in split.core);
}

/**
 * Resolves partial configurations merged in order (a preset, a file, flags), later ones winning option by
 * option (sections merge field by field). Each part is read under its own source name; problems of the
 * merged result are reported under the last part's, with every option spelled as its part wrote it.
 */
export function resolveMergedConfig(
  ...parts: [input: Record<string, unknown>, source: string][]
): TrainConfig {
  const splits = parts.map(([input, source]) => splitOptions(input, CORE_KEYS, sourceOf(source)));
  // problems of the combination (not of one option) name every source that contributed
  const names = parts.filter(([input]) => Object.keys(input).length > 0).map(([, source]) => source);
  // an earlier source's hidden widths give way to a later arch (a preset's, to --arch); not the other way
  const last = (key: string): number => splits.map((s) => key in s.core).lastIndexOf(true);
  const hiddenAfterArch = last('hidden') >= 0 && last('hidden') >= last('arch');
  return resolveSplit(mergeSplits(splits), { name: names.join(' + ') || 'config' }, hiddenAfterArch);
}

/** The core options, described for flags and forms. */
export function coreFields(): OptionField[] {
  return describeFields(CORE_SCHEMA, null);
}

/** The whole config schema (core options plus every section, each optional) as a JSON Schema, for editors and forms. */
export function trainConfigJsonSchema(): Record<string, unknown> {
  const shape: Record<string, z.ZodType> = {};
  for (const s of optionSections()) shape[s.key] = s.schema.optional();
  return z.toJSONSchema(CORE_SCHEMA.extend(shape), { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}

/**
 * Parses the text of a YAML or JSON config (kebab-case or camelCase keys) into a partial configuration;
 * `name` (a file name, or what the text came from) appears in errors and, ending in .json, selects JSON.
 */
export function parseConfigText(text: string, name: string): Record<string, unknown> {
  let value: unknown;
  const json = /\.json$/i.test(name);
  try {
    text = text.replace(/^\uFEFF/, ''); // a UTF-8 byte-order mark, as some editors write
    // yaml's warnings would print beside our one line: its errors are enough
    value = json ? JSON.parse(text) : parseYaml(text, { logLevel: 'error' });
  } catch (error) {
    throw new TopdownUsageError(
      `config file ${name} is not valid ${json ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new TopdownUsageError(`config file ${name} must hold a mapping of options`);
  try {
    return camelKeys(value as Record<string, unknown>);
  } catch (error) {
    if (error instanceof TopdownUsageError)
      throw new TopdownUsageError(`config file ${name}: ${error.message}`);
    throw error;
  }
}

/** `weight-decay` -> `weightDecay`, recursively for nested mappings. */
export function camelKeys(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // an own `__proto__` key would set the prototype instead of an option: refuse it as the unknown option it is
    if (key === '__proto__' || key === 'constructor' || key === 'prototype')
      throw new TopdownUsageError(`unknown option "${key}"`);
    out[camel(key)] =
      v && typeof v === 'object' && !Array.isArray(v) ? camelKeys(v as Record<string, unknown>) : v;
  }
  return out;
}
