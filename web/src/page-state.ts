/**
 * The page's whole configuration as text, field by field (the dataset, the rules compared side by side, and
 * every option by its flag, as the command line spells it), with its URL form and the runs it describes. The
 * fields come from the option schemas: the core options and every section of the rules chosen, so a rule's
 * new option appears in the form, the URL and the runs with no edit here.
 */
import { TopdownUsageError } from '../../src/core/errors.js';
import { fieldText, parseFieldText } from '../../src/core/field-values.js';
import {
  sectionFields,
  sectionSwitch,
  type OptionField,
  type OptionSection,
} from '../../src/core/options.js';
import { DATASET_NAMES, type DatasetName } from '../../src/data/datasets.js';
import { DEFAULT_RULE, RULE_NAMES, optionSections, rulesUsing } from '../../src/rules/registry.js';
import type { RuleName } from '../../src/rules/registry.js';
import { coreFields } from '../../src/train/config.js';

import type { RunInput } from './protocol.js';

/** Datasets the page offers (CIFAR-100 has no loader-independent source here yet, and the same forms). */
export const PAGE_DATASETS: readonly DatasetName[] = DATASET_NAMES;

/** Core options the page sets itself or that mean nothing in a browser. */
const NOT_IN_FORM: ReadonlySet<string> = new Set([
  'rule',
  'data',
  'dataDir',
  'engine',
  'threads',
  'maxMemory',
  'tensorboard',
  'checkpointEvery',
]);

/** A small net that learns in seconds: what the page opens with when its URL names nothing. */
export const PAGE_DEFAULTS: Readonly<Record<string, string>> = {
  hidden: '256',
  epochs: '3',
  'train-subset': '10000',
  'test-subset': '2000',
};

export interface PageState {
  data: DatasetName;
  /** The rules trained side by side (one run each). */
  rules: RuleName[];
  /** Option values as text, by flag; absent: the schema's default. */
  values: Record<string, string>;
}

/** A section of options shown for the rules that read it. */
export interface SectionGroup {
  section: OptionSection;
  /** The switch of an optional section (`mirror`), before its fields. */
  toggle: OptionField | null;
  fields: OptionField[];
  rules: RuleName[];
}

/** The core options of the form. */
export function coreFormFields(): OptionField[] {
  return coreFields().filter((f) => !NOT_IN_FORM.has(f.name));
}

/** Every rule section, with the rules reading it. */
export function sectionGroups(): SectionGroup[] {
  return optionSections().map((section) => ({
    section,
    toggle: section.optional ? sectionSwitch(section) : null,
    fields: sectionFields(section),
    rules: rulesUsing(section.key),
  }));
}

function allFields(): OptionField[] {
  return [
    ...coreFormFields(),
    ...sectionGroups().flatMap((g) => (g.toggle ? [g.toggle, ...g.fields] : g.fields)),
  ];
}

/** The field of a flag, or undefined. */
export function fieldOf(flag: string): OptionField | undefined {
  return allFields().find((f) => f.flag === flag);
}

/** The schema default of a field as text ('' when it has none). */
export function defaultFieldText(field: OptionField): string {
  return field.default === undefined ? '' : fieldText(field.default);
}

/** The state a URL's query describes; an empty query opens on MNIST, PEPITA and {@link PAGE_DEFAULTS}. */
export function stateFromQuery(query: string): PageState {
  const params = new URLSearchParams(query);
  const empty = [...params.keys()].length === 0;
  const data = params.get('data') ?? 'mnist';
  const rules = (params.get('rule') ?? DEFAULT_RULE).split(',').filter(Boolean);
  const state: PageState = {
    data: (PAGE_DATASETS as readonly string[]).includes(data) ? (data as DatasetName) : 'mnist',
    rules: rules.filter((r): r is RuleName => (RULE_NAMES as readonly string[]).includes(r)),
    values: empty ? { ...PAGE_DEFAULTS } : {},
  };
  if (state.rules.length === 0) state.rules = [DEFAULT_RULE];
  for (const [key, value] of params) {
    if (key === 'data' || key === 'rule') continue;
    if (fieldOf(key)) state.values[key] = value;
  }
  return state;
}

/** The query (without `?`) that reproduces `state`: every value that differs from the schema's default. */
export function queryFromState(state: PageState): string {
  const params = new URLSearchParams();
  params.set('data', state.data);
  params.set('rule', state.rules.join(','));
  for (const field of allFields()) {
    const text = state.values[field.flag];
    if (text === undefined) continue;
    if (text === defaultFieldText(field) || (text === '' && field.default === undefined)) continue;
    params.set(field.flag, text);
  }
  return params.toString().replace(/%2C/g, ',');
}

/** Whether a section's options apply to a run of `rule` in `state` (an optional section must be on). */
function sectionOn(group: SectionGroup, rule: RuleName, state: PageState): boolean {
  if (!group.rules.includes(rule)) return false;
  return !group.toggle || state.values[group.toggle.flag] === 'true';
}

/**
 * One run per rule, its options parsed as the flags parse them; a value a field refuses is a usage error
 * naming the flag.
 */
export function runInputs(state: PageState): RunInput[] {
  const parsed = new Map<string, unknown>();
  const read = (field: OptionField): unknown => {
    if (!parsed.has(field.flag)) {
      const text = state.values[field.flag];
      const blank = text === undefined || (text.trim() === '' && field.kind !== 'list');
      parsed.set(field.flag, blank ? undefined : parseFieldText(field, text.trim()));
    }
    return parsed.get(field.flag);
  };
  const groups = sectionGroups();
  return state.rules.map((rule) => {
    const input: RunInput = { rule };
    for (const field of coreFormFields()) {
      const value = read(field);
      if (value !== undefined) input[field.name] = value;
    }
    for (const group of groups) {
      if (!sectionOn(group, rule, state)) continue;
      if (group.toggle) input[group.section.key] = true;
      for (const field of group.fields) {
        const value = read(field);
        if (value !== undefined) input[field.alias] = value;
      }
    }
    return input;
  });
}

/** The first problem of `state`'s values, or null (for the form's message line). */
export function stateProblem(state: PageState): string | null {
  try {
    runInputs(state);
    return null;
  } catch (error) {
    if (error instanceof TopdownUsageError) return error.message;
    throw error;
  }
}
