/**
 * The rule registry: every learning rule by name, with the feedback state it needs created from one seeded
 * stream. Adding a rule = its file plus one entry here.
 */
import type { Engine } from '../core/engine.js';
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';
import type { Rng } from '../core/rng.js';
import { createBackwardMatrices } from '../feedback/backward-matrices.js';
import { TopDownFeedback, type TopDownOptions } from '../feedback/top-down.js';
import type { Network } from '../nn/network.js';
import type { GradientSink, ParameterSet } from '../optim/sink.js';

import { AfaRule } from './afa.js';
import { BpRule } from './bp.js';
import { DfaRule } from './dfa.js';
import { DrtpRule } from './drtp.js';
import { FaRule } from './fa.js';
import { FfRule, type FfOptions } from './ff.js';
import { PepitaRule, type ModulationSign, type PepitaOptions } from './pepita.js';
import type { LearningRule } from './rule.js';

export const RULE_NAMES = ['pepita', 'afa', 'bp', 'fa', 'dfa', 'drtp', 'ff'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export function parseRuleName(value: string): RuleName {
  if ((RULE_NAMES as readonly string[]).includes(value)) return value as RuleName;
  throw new TopdownUsageError(`rule must be one of ${RULE_NAMES.join(', ')}; got "${value}"`);
}

/** Everything that selects and parameterises a rule. */
export interface RuleConfig {
  rule: RuleName;
  /** PEPITA's mode, modulation sign, last-layer error and shortcut; AFA uses `sign`. */
  pepita?: PepitaOptions;
  /** PEPITA/AFA top-down projection F. */
  topDown?: TopDownOptions;
  /** FA/DFA/DRTP: multiplier on the fixed random feedback's He-uniform range (default 1). */
  feedbackScale?: number;
  /** FA: learn the feedback by Kolen-Pollack (needs `makeFeedbackSink`). */
  kolenPollack?: boolean;
  /** Forward-Forward's goodness, threshold, negatives, label embedding and peer normalisation. */
  ff?: FfOptions;
}

/** A rule with the feedback state it owns (saved in checkpoints by the trainer). */
export interface RuleSetup {
  rule: LearningRule;
  /** F for PEPITA and AFA. */
  topDown: TopDownFeedback | null;
  /** Fixed (or Kolen-Pollack) feedback for FA, DFA and DRTP. */
  backward: Matrix[] | null;
}

/**
 * Creates the rule `config.rule` for `net`, drawing its feedback from `rng.derive('feedback')`.
 * `makeFeedbackSink` builds the optimiser for learned feedback (Kolen-Pollack).
 */
export function createRule(
  config: RuleConfig,
  net: Network,
  engine: Engine,
  maxBatch: number,
  rng: Rng,
  makeFeedbackSink?: (params: ParameterSet) => GradientSink,
): RuleSetup {
  const feedbackRng = rng.derive('feedback');
  const sign: ModulationSign = config.pepita?.sign ?? 'minus';
  switch (config.rule) {
    case 'pepita': {
      const topDown = TopDownFeedback.create(net.sizes, config.topDown ?? {}, feedbackRng, engine);
      return { rule: new PepitaRule(net, engine, maxBatch, topDown, config.pepita), topDown, backward: null };
    }
    case 'afa': {
      const topDown = TopDownFeedback.create(net.sizes, config.topDown ?? {}, feedbackRng, engine);
      return { rule: new AfaRule(net, engine, maxBatch, topDown, sign), topDown, backward: null };
    }
    case 'bp':
      return { rule: new BpRule(net, engine, maxBatch), topDown: null, backward: null };
    case 'fa': {
      const backward = createBackwardMatrices(net.sizes, 'fa', feedbackRng, config.feedbackScale ?? 1);
      let sink: GradientSink | null = null;
      if (config.kolenPollack) {
        if (!makeFeedbackSink)
          throw new TopdownUsageError('Kolen-Pollack needs an optimiser for the feedback');
        sink = makeFeedbackSink({ weights: backward, biases: backward.map(() => null) });
      }
      return { rule: new FaRule(net, engine, maxBatch, backward, sink), topDown: null, backward };
    }
    case 'ff':
      return {
        rule: new FfRule(net, engine, maxBatch, rng.derive('negatives'), config.ff),
        topDown: null,
        backward: null,
      };
    case 'dfa':
    case 'drtp': {
      const backward = createBackwardMatrices(net.sizes, 'direct', feedbackRng, config.feedbackScale ?? 1);
      const Rule = config.rule === 'dfa' ? DfaRule : DrtpRule;
      return { rule: new Rule(net, engine, maxBatch, backward), topDown: null, backward };
    }
  }
}
