/**
 * The training configuration: one zod schema holds every option, its validation and its default (the only
 * place defaults live). Sources merge as preset < config file < command-line flags; the resolved object is
 * written next to every run's results.
 */
import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { ENGINE_NAMES } from '../core/engine.js';
import { DATASET_NAMES } from '../data/datasets.js';
import { TopdownUsageError } from '../core/errors.js';
import { FEEDBACK_INITS } from '../feedback/top-down.js';
import { ACTIVATIONS } from '../nn/activations.js';
import { WEIGHT_INITS } from '../nn/init.js';
import { NORMALIZATIONS } from '../nn/network.js';
import { LAST_LAYER_ERRORS, MODULATION_SIGNS, PEPITA_MODES } from '../rules/pepita.js';
import { FF_GOODNESS, FF_NEGATIVES } from '../rules/ff.js';
import { RULE_NAMES } from '../rules/registry.js';

export const OPTIMIZERS = ['sgd', 'adam'] as const;

const HIDDEN_ACTIVATIONS = ACTIVATIONS.filter((a) => a !== 'softmax') as [string, ...string[]];

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const MirrorSchema = z
  .object({
    noise: z.number().positive().default(0.1),
    lr: z.number().nonnegative().default(0.1),
    weightDecay: z.number().nonnegative().default(0.5),
    period: positiveInt.default(1),
    preMirrorEpochs: nonNegativeInt.default(0),
  })
  .strict();

export const TrainConfigSchema = z
  .object({
    rule: z.enum(RULE_NAMES).default('pepita'),
    /** PEPITA's update form. */
    mode: z.enum(PEPITA_MODES).default('standard'),
    /** PEPITA/AFA input modulation x - F e (`minus`) or x + F e. */
    sign: z.enum(MODULATION_SIGNS).default('minus'),
    lastLayer: z.enum(LAST_LAYER_ERRORS).default('first-pass-error'),
    data: z.enum(DATASET_NAMES).default('mnist'),
    dataDir: z.string().min(1).optional(),
    trainSubset: positiveInt.optional(),
    testSubset: positiveInt.optional(),
    /** Hold out this many training samples (after the seeded shuffle) as a validation set. */
    valSplit: nonNegativeInt.default(0),
    /** Per-channel standardisation of pixels (train-set statistics). */
    standardize: z.boolean().default(false),
    hidden: z.array(positiveInt).default([1024]),
    activation: z.enum(HIDDEN_ACTIVATIONS).default('relu'),
    init: z.enum(WEIGHT_INITS).default('he_uniform'),
    bias: z.boolean().default(false),
    /** Default 0.1 (the paper), 0 for rule ff. */
    dropout: z.number().min(0).lt(1).optional(),
    /** Default none, sample-rms for rule ff (Forward-Forward's length normalisation). */
    normalization: z.enum(NORMALIZATIONS).optional(),
    feedbackInit: z.enum(FEEDBACK_INITS).default('uniform'),
    feedbackScale: z.number().nonnegative().default(0.05),
    /** Weight mirroring of F's factors (PEPITA with `feedbackInit: normal`); absent = off. */
    mirror: MirrorSchema.optional(),
    kolenPollack: z.boolean().default(false),
    epochs: positiveInt.default(100),
    batchSize: positiveInt.default(64),
    /** Default: 0.1 for MNIST and Fashion-MNIST, 0.01 for CIFAR (the reference code's README settings). */
    lr: z.number().nonnegative().optional(),
    momentum: z.number().min(0).lt(1).default(0.9),
    /** `sgd` (with momentum and weight decay) or `adam` (torch.optim.Adam; momentum is then unused). */
    optimizer: z.enum(OPTIMIZERS).default('sgd'),
    adamBeta1: z.number().min(0).lt(1).default(0.9),
    adamBeta2: z.number().min(0).lt(1).default(0.999),
    adamEps: z.number().positive().default(1e-8),
    /** Forward-Forward: goodness (sum or mean of squares), threshold (default: layer width for sum, 2 for mean). */
    ffGoodness: z.enum(FF_GOODNESS).default('sum'),
    ffThreshold: z.number().optional(),
    ffNegatives: z.enum(FF_NEGATIVES).default('random'),
    ffLabelValue: z.number().positive().default(1),
    ffPeerNormalization: z.number().nonnegative().default(0),
    /** Evaluate FF's goodness classifier (one pass per label) every this many epochs, and after the last. */
    ffGoodnessEvalEvery: positiveInt.default(1),
    /** Epochs (0 = before training) after which the distribution of ||h_1||^2 - ||h_1^mod||^2 is recorded. */
    goodnessHistogramEpochs: z.array(nonNegativeInt).default([]),
    weightDecay: z.number().nonnegative().default(0),
    decayEpochs: z.array(nonNegativeInt).default([60, 90]),
    decayFactor: z.number().positive().default(0.1),
    decayTiming: z.enum(['end', 'start']).default('end'),
    seed: nonNegativeInt.default(0),
    /** Write a checkpoint every this many epochs (and after the last). */
    checkpointEvery: positiveInt.default(1),
    engine: z.enum(ENGINE_NAMES).default('auto'),
    threads: positiveInt.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const hasF = c.rule === 'pepita' || c.rule === 'afa';
    if (c.mirror && c.rule !== 'pepita') {
      ctx.addIssue({
        code: 'custom',
        path: ['mirror'],
        message: `weight mirroring needs rule pepita (got ${c.rule})`,
      });
    }
    if (c.mirror && c.feedbackInit !== 'normal') {
      ctx.addIssue({
        code: 'custom',
        path: ['mirror'],
        message: 'weight mirroring needs feedbackInit "normal" (factorised F)',
      });
    }
    if (c.mirror && c.sign !== 'minus') {
      ctx.addIssue({
        code: 'custom',
        path: ['mirror'],
        message: 'weight mirroring needs the modulation sign "minus"',
      });
    }
    if (c.kolenPollack && c.rule !== 'fa') {
      ctx.addIssue({
        code: 'custom',
        path: ['kolenPollack'],
        message: `Kolen-Pollack applies to rule fa (got ${c.rule})`,
      });
    }
    if (c.mode !== 'standard' && c.rule !== 'pepita') {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `mode applies to rule pepita (got ${c.rule})`,
      });
    }
    if (!hasF && (c.feedbackInit !== 'uniform' || c.feedbackScale !== 0.05 || c.sign !== 'minus')) {
      ctx.addIssue({
        code: 'custom',
        path: ['feedbackInit'],
        message: `feedback F options need rule pepita or afa (got ${c.rule})`,
      });
    }
    if (c.rule === 'ff' && c.normalization !== undefined && !c.normalization.startsWith('sample-')) {
      ctx.addIssue({
        code: 'custom',
        path: ['normalization'],
        message: 'rule ff length-normalises each hidden layer: it needs "sample-rms" or "sample-l2"',
      });
    }
    if (c.rule === 'ff' && c.dropout !== undefined && c.dropout > 0) {
      ctx.addIssue({ code: 'custom', path: ['dropout'], message: 'rule ff does not use dropout (set 0)' });
    }
    const ffOptionsSet =
      c.ffGoodness !== 'sum' ||
      c.ffThreshold !== undefined ||
      c.ffNegatives !== 'random' ||
      c.ffLabelValue !== 1 ||
      c.ffPeerNormalization !== 0 ||
      c.ffGoodnessEvalEvery !== 1;
    if (c.rule !== 'ff' && ffOptionsSet) {
      ctx.addIssue({
        code: 'custom',
        path: ['ffGoodness'],
        message: `Forward-Forward options need rule ff (got ${c.rule})`,
      });
    }
    if (c.goodnessHistogramEpochs.length && c.rule !== 'pepita' && c.rule !== 'ff') {
      ctx.addIssue({
        code: 'custom',
        path: ['goodnessHistogramEpochs'],
        message: `goodness histograms need rule pepita or ff (got ${c.rule})`,
      });
    }
    const sorted = [...c.decayEpochs].sort((a, b) => a - b);
    if (sorted.some((v, i) => v !== c.decayEpochs[i] || (i > 0 && v === sorted[i - 1]))) {
      ctx.addIssue({ code: 'custom', path: ['decayEpochs'], message: 'must be increasing' });
    }
  })
  .transform((c) => ({
    ...c,
    lr: c.lr ?? DEFAULT_LR[c.data],
    dropout: c.dropout ?? (c.rule === 'ff' ? 0 : 0.1),
    normalization: c.normalization ?? (c.rule === 'ff' ? 'sample-rms' : 'none'),
  }));

/** Learning rates of the reference code's README commands, per dataset. */
const DEFAULT_LR: Record<(typeof DATASET_NAMES)[number], number> = {
  mnist: 0.1,
  'fashion-mnist': 0.1,
  cifar10: 0.01,
  cifar100: 0.01,
};

export type TrainConfig = z.infer<typeof TrainConfigSchema>;
/** A partial configuration (a preset, a file or flags) before defaults are filled in. */
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

function describeIssue(issue: z.core.$ZodIssue, source: string): string {
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  if (issue.code === 'unrecognized_keys') {
    return `${source}: unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${source}: ${path}: ${issue.message}`;
}

/** Validates and fills defaults; throws a one-line usage error naming the source, the field and the problem. */
export function resolveTrainConfig(input: unknown, source = 'config'): TrainConfig {
  const result = TrainConfigSchema.safeParse(input);
  if (!result.success) throw new TopdownUsageError(describeIssue(result.error.issues[0]!, source));
  return result.data;
}

/** Reads a YAML or JSON config file (kebab-case or camelCase keys) into a partial configuration. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TopdownUsageError(
      `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let value: unknown;
  try {
    value = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new TopdownUsageError(
      `config file ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new TopdownUsageError(`config file ${path} must hold a mapping of options`);
  return camelKeys(value as Record<string, unknown>);
}

/** `weight-decay` -> `weightDecay`, recursively for nested mappings. */
export function camelKeys(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const camel = key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    out[camel] =
      v && typeof v === 'object' && !Array.isArray(v) ? camelKeys(v as Record<string, unknown>) : v;
  }
  return out;
}
