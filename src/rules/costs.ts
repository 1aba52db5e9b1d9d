/**
 * Computational cost of one training step (spec 8), from the network definition alone: each rule's file
 * prices its own step (see `step-cost.ts` for the vocabulary); this is the checked entry point.
 */
import { TopdownUsageError } from '../core/errors.js';

import { ruleDefinition, RULE_NAMES, type RuleName } from './registry.js';
import { resolveRuleOptions, type RuleOptionsInput } from './rule-options.js';
import type { LayerCost, StepCost } from './step-cost.js';

export type { StepCost } from './step-cost.js';

/** What {@link stepCost} prices. */
export interface CostQuery {
  /** Layer widths [d_0, ..., d_L], at least two positive integers. */
  sizes: readonly number[];
  /** Each weight layer's price when not fully connected (a convolution's; see `archLayerCosts`). */
  layers?: readonly LayerCost[];
  /** Mini-batch size b, a positive integer. */
  batch: number;
  /** The learning rule. */
  rule: RuleName;
  /**
   * The rule's options as in a config (sections or flat aliases), e.g. `{ mode: 'hebbian' }`,
   * `{ mirror: {}, feedbackInit: 'normal' }` (PEPITA with weight mirroring) or `{ kolenPollack: true }`.
   */
  options?: RuleOptionsInput;
}

/**
 * MACs and peak activation memory of one training step of `q.rule` on a fully connected net of widths
 * `q.sizes` with mini-batch `q.batch`. The breakdown's keys are the rule's phases (`forward`, `feedback`,
 * `updates`, and e.g. PEPITA's `modulation`, `w1f`, `modulated-forward`, `mirroring`); each term is explained
 * in the rule's file. Exact while the counts stay below 2^53.
 *
 * @throws {@link TopdownUsageError} on an unknown rule, bad sizes or batch, or an option the rule does not read
 */
export function stepCost(q: CostQuery): StepCost {
  if (typeof q !== 'object' || q === null) throw new TopdownUsageError('stepCost: expected a query object');
  const sizes = Array.isArray(q.sizes) ? [...(q.sizes as readonly unknown[])] : [];
  if (sizes.length < 2 || sizes.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1)) {
    throw new TopdownUsageError(
      `stepCost: sizes must list at least two positive integer widths; got ${JSON.stringify(q.sizes)}`,
    );
  }
  if (!Number.isSafeInteger(q.batch) || q.batch < 1) {
    throw new TopdownUsageError(`stepCost: batch must be a positive integer; got ${q.batch}`);
  }
  if (!(RULE_NAMES as readonly string[]).includes(q.rule)) {
    throw new TopdownUsageError(`stepCost: rule must be one of ${RULE_NAMES.join(', ')}; got "${q.rule}"`);
  }
  const def = ruleDefinition(q.rule);
  const widths = sizes as number[];
  const options = resolveRuleOptions(def, q.options ?? {}, 'stepCost', {
    hidden: widths.slice(1, -1),
    dropout: 0,
    normalization: 'sample-rms',
  });
  if (q.layers && q.layers.length !== widths.length - 1)
    throw new TopdownUsageError(
      `stepCost: expected ${widths.length - 1} layer costs, got ${q.layers.length}`,
    );
  return def.cost({ sizes: widths, batch: q.batch, ...(q.layers ? { layers: q.layers } : {}) }, options);
}
