/**
 * Learning rules: the registry (the one list of rules), the rule contract, every rule's definition and class,
 * the feedback they use, their cost model, and the angle between a rule's update and backprop's gradient.
 * @packageDocumentation
 */
export {
  createRule,
  optionSections,
  parseRuleName,
  RULE_NAMES,
  RULES,
  ruleDefinition,
  rulesUsing,
  type RuleConfig,
  type RuleName,
} from './registry.js';
export type {
  Batch,
  ExtraClassifier,
  InputView,
  LearningRule,
  MetricValue,
  RuleContext,
  RuleDefinition,
  RunShape,
  SectionValues,
  TrainingDefaults,
} from './rule.js';
export { resolveRuleOptions, type RuleOptionsInput } from './rule-options.js';
export { stepCost, type CostQuery } from './costs.js';
export type { StepCost } from './step-cost.js';
export {
  LAST_LAYER_ERRORS,
  PEPITA_MODES,
  PEPITA_SECTION,
  PepitaRule,
  resolvePepitaOptions,
  type LastLayerError,
  type PepitaMode,
  type PepitaOptions,
} from './pepita.js';
export { pepitaStepWithMirroring } from './pepita-mirroring.js';
export { AfaRule } from './afa.js';
export { BpRule } from './bp.js';
export { FA_SECTION, FaRule } from './fa.js';
export { DfaRule } from './dfa.js';
export { DrtpRule } from './drtp.js';
export {
  FF_GOODNESS,
  FF_NEGATIVES,
  FF_SECTION,
  FfRule,
  resolveFfOptions,
  type FfGoodness,
  type FfNegatives,
  type FfOptions,
} from './ff.js';
export { embedLabels, embedNeutral, normalizeRows } from './ff-labels.js';
export { SignConcordantRule } from './sign-concordant.js';
export { UsfRule } from './usf.js';
export { BrsfRule } from './brsf.js';
export { FrsfRule } from './frsf.js';
export { angleToGradient } from './gradient-alignment.js';
export { batchLoss, outputError } from './output-error.js';
export {
  MODULATION_SIGNS,
  TOP_DOWN_SECTION,
  TopDownFeedback,
  type FeedbackInit,
  type ModulationSign,
  type TopDownConfig,
  type TopDownOptions,
} from '../feedback/top-down.js';
export {
  MIRROR_SECTION,
  WeightMirror,
  mirrorSchedule,
  resolveMirrorOptions,
  type MirrorConfig,
  type MirrorOptions,
} from '../feedback/mirror.js';
export {
  BACKWARD_SECTION,
  createBackwardMatrices,
  type BackwardConfig,
} from '../feedback/backward-matrices.js';
