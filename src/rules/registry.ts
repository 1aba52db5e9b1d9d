/**
 * The rule registry: the one list of learning rules. Adding a rule = its file (exporting a
 * {@link RuleDefinition}) plus one entry in {@link RULES}; its options, flags, help, defaults, cost model and
 * checkpointed state then reach the config, the CLI, the trainer and the benchmarks through the definition.
 */
import type { Engine } from '../core/engine-base.js';
import { TopdownUsageError } from '../core/errors.js';
import type { OptionSection } from '../core/options.js';
import type { Rng } from '../core/rng.js';
import type { Network } from '../nn/network.js';

import { afa } from './afa.js';
import { bp } from './bp.js';
import { brsf } from './brsf.js';
import { dfa } from './dfa.js';
import { drtp } from './drtp.js';
import { fa } from './fa.js';
import { ff } from './ff.js';
import { frsf } from './frsf.js';
import { pepita } from './pepita.js';
import { resolveRuleOptions, type RuleOptionsInput } from './rule-options.js';
import type { LearningRule, RuleContext, RuleDefinition } from './rule.js';
import { usf } from './usf.js';

/** Every rule, in the order listings show them. */
export const RULES = [
  pepita,
  afa,
  bp,
  fa,
  dfa,
  drtp,
  ff,
  usf,
  brsf,
  frsf,
] as const satisfies readonly RuleDefinition[];

/** A registered rule's name. */
export type RuleName = (typeof RULES)[number]['name'];
export const RULE_NAMES = RULES.map((r) => r.name) as readonly RuleName[] as readonly [
  RuleName,
  ...RuleName[],
];

/** The rule a config without `rule` trains with. */
export const DEFAULT_RULE: RuleName = 'pepita';

export function parseRuleName(value: string): RuleName {
  if ((RULE_NAMES as readonly string[]).includes(value)) return value as RuleName;
  throw new TopdownUsageError(`rule must be one of ${RULE_NAMES.join(', ')}; got "${value}"`);
}

/** The definition of rule `name`. */
export function ruleDefinition(name: string): RuleDefinition {
  const def = (RULES as readonly RuleDefinition[]).find((r) => r.name === name);
  if (!def) throw new TopdownUsageError(`rule must be one of ${RULE_NAMES.join(', ')}; got "${name}"`);
  return def;
}

/** Every option section any rule reads, once each, in registry order. */
export function optionSections(): OptionSection[] {
  const out: OptionSection[] = [];
  for (const r of RULES as readonly RuleDefinition[])
    for (const s of r.sections) if (!out.some((o) => o.key === s.key)) out.push(s);
  return out;
}

/** The rules that read section `key`. */
export function rulesUsing(key: string): RuleName[] {
  return (RULES as readonly RuleDefinition[])
    .filter((r) => r.sections.some((s) => s.key === key))
    .map((r) => r.name as RuleName);
}

/**
 * A short description of a configured rule: its name and the option values that differ from the defaults,
 * e.g. `pepita (time-local)`, `pepita (normal, mirror)`.
 */
export function ruleLabel(config: { rule: string } & Record<string, unknown>): string {
  const def = ruleDefinition(config.rule);
  const notes: string[] = [];
  for (const section of def.sections) {
    const values = config[section.key] as Record<string, unknown> | undefined;
    if (values === undefined) continue;
    if (section.optional) notes.push(section.key);
    const defaults = section.schema.parse({}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(values)) {
      // fields without a fixed default (FF's per-layer thresholds) are filled from the run, not chosen
      if (section.optional || defaults[k] === undefined || JSON.stringify(v) === JSON.stringify(defaults[k]))
        continue;
      notes.push(typeof v === 'string' ? v : `${k} ${JSON.stringify(v)}`);
    }
  }
  return notes.length ? `${def.name} (${notes.join(', ')})` : def.name;
}

/** Selects and parameterises a rule: its name plus its options (sections or their flat aliases). */
export type RuleConfig = { rule: RuleName } & RuleOptionsInput;

/**
 * Creates the rule `config.rule` for `net`, from `rng` (the rule's own stream: feedback, negatives, noise).
 * `makeOptimizer` builds the optimisers of parameters the rule learns itself (Kolen-Pollack, mirroring).
 */
export function createRule(
  config: RuleConfig,
  net: Network,
  engine: Engine,
  maxBatch: number,
  rng: Rng,
  makeOptimizer?: RuleContext['optimizer'],
): LearningRule {
  const def = ruleDefinition(config.rule);
  const { rule: _rule, ...input } = config;
  void _rule;
  const options = resolveRuleOptions(def, input, 'rule options', {
    hidden: net.sizes.slice(1, -1),
    dropout: net.config.dropout,
    normalization: net.config.normalization,
  });
  const ctx: RuleContext = {
    net,
    engine,
    maxBatch,
    rng,
    ...(makeOptimizer ? { optimizer: makeOptimizer } : {}),
  };
  return def.create(ctx, options);
}
