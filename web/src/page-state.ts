/**
 * The page's whole configuration as text, field by field (the dataset, the rules compared side by side, and
 * every option by its flag, as the command line spells it), with its URL form and the runs it describes. The
 * fields come from the option schemas: the core options and every section of the rules chosen, so a rule's
 * new option appears in the form, the URL and the runs with no edit here.
 */
import { TopdownUsageError } from '../../src/core/errors.js';
import { decimal, fieldText, parseFieldText } from '../../src/core/field-values.js';
import {
  sectionFields,
  sectionSwitch,
  type NumberRange,
  type OptionField,
  type OptionSection,
} from '../../src/core/options.js';
import { DATASET_NAMES, type DatasetName } from '../../src/data/datasets.js';
import { DEFAULT_RULE, RULE_NAMES, optionSections, rulesUsing } from '../../src/rules/registry.js';
import type { RuleName } from '../../src/rules/registry.js';
import { coreFields } from '../../src/train/config.js';

import type { RunInput } from './protocol.js';
import { parseTheoryQuery, shortText, type TheoryState } from './theory-state.js';

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

let coreCache: OptionField[] | null = null;
let groupsCache: SectionGroup[] | null = null;

/** The core options of the form (read from the schemas once). */
export function coreFormFields(): OptionField[] {
  coreCache ??= coreFields().filter((f) => !NOT_IN_FORM.has(f.name));
  return coreCache;
}

/** Every rule section, with the rules reading it (read from the schemas once). */
export function sectionGroups(): SectionGroup[] {
  groupsCache ??= optionSections().map((section) => ({
    section,
    toggle: section.optional ? sectionSwitch(section) : null,
    fields: sectionFields(section),
    rules: rulesUsing(section.key),
  }));
  return groupsCache;
}

let fieldsCache: OptionField[] | null = null;
let byFlag: Map<string, OptionField> | null = null;

/** Every field of the form (read from the schemas once: a URL may name thousands of keys). */
function allFields(): OptionField[] {
  fieldsCache ??= [
    ...coreFormFields(),
    ...sectionGroups().flatMap((g) => (g.toggle ? [g.toggle, ...g.fields] : g.fields)),
  ];
  return fieldsCache;
}

/** The field of a flag, or undefined. */
export function fieldOf(flag: string): OptionField | undefined {
  byFlag ??= new Map(allFields().map((f) => [f.flag, f]));
  return byFlag.get(flag);
}

/** The schema default of a field as text ('' when it has none). */
export function defaultFieldText(field: OptionField): string {
  return field.default === undefined ? '' : fieldText(field.default);
}

/** Longest option text a URL may set (a list of layer widths is far shorter). */
const MAX_VALUE_LENGTH = 1000;
/** Notes about a link shown at most (a link may hold thousands of bad values). */
const MAX_NOTES = 5;

/** `n` moved into `range` (rounded first for an integer), or null when no nearest value exists. */
function intoRange(n: number, integer: boolean, range: NumberRange = {}): number | null {
  if (!Number.isFinite(n)) return null;
  let v = integer ? Math.round(n) : n;
  const { min, max, minExclusive, maxExclusive } = range;
  if (min !== undefined && (minExclusive ? v <= min : v < min)) {
    if (minExclusive && !integer) return null;
    v = integer ? (minExclusive ? Math.floor(min) + 1 : Math.ceil(min)) : min;
  }
  if (max !== undefined && (maxExclusive ? v >= max : v > max)) {
    if (maxExclusive && !integer) return null;
    v = integer ? (maxExclusive ? Math.ceil(max) - 1 : Math.floor(max)) : max;
  }
  if (integer && !Number.isSafeInteger(v)) return null;
  return v;
}

/**
 * A URL's text for `field` held to what the field's control takes: the text itself when the flag would
 * accept it, a number or each item of a list moved into the field's range, or null (the schema's default)
 * when nothing near it is valid. Never throws.
 */
export function holdToField(field: OptionField, text: string): string | null {
  if (text.length > MAX_VALUE_LENGTH) return null;
  const trimmed = text.trim();
  if (trimmed === '' && field.kind !== 'list') return null;
  try {
    parseFieldText(field, trimmed);
    return trimmed;
  } catch {
    // held below
  }
  const integer = field.kind === 'integer' || (field.kind === 'list' && field.integerItems === true);
  switch (field.kind) {
    case 'integer':
    case 'number': {
      const n = intoRange(decimal(trimmed), integer, field.range);
      return n === null ? null : String(n);
    }
    case 'list':
    case 'number-or-list': {
      const items = trimmed.split(',').map((t) => intoRange(decimal(t), integer, field.range));
      return items.some((n) => n === null) ? null : items.join(',');
    }
    default:
      return null; // a choice, a switch or text the flag refuses: nothing near it is right
  }
}

/** What a page URL describes, held to the controls (see {@link parsePageUrl}). */
export interface PageUrlState {
  tab: 'train' | 'theory';
  state: PageState;
  theory: TheoryState;
  /** One line for each value of the link that was changed or ignored. */
  notes: string[];
}

/**
 * Everything a page URL's query sets (the trainer's settings, the theory sliders, the tab), each value held
 * to its control's range: a select's choices, a slider's bounds and steps, a text field's range from the
 * option schema. A pure function that never throws, whatever the link holds.
 */
export function parsePageUrl(query: string): PageUrlState {
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(String(query));
  } catch {
    params = new URLSearchParams();
  }
  const notes: string[] = [];
  const theory = parseTheoryQuery(params);
  notes.push(...theory.notes);
  const empty = [...params.keys()].length === 0;
  const data = params.get('data') ?? 'mnist';
  const known = (PAGE_DATASETS as readonly string[]).includes(data);
  if (!known) notes.push(`data="${shortText(data)}" is not one of ${PAGE_DATASETS.join(', ')}: mnist used`);
  const asked = (params.get('rule') ?? DEFAULT_RULE).split(',').filter(Boolean);
  const rules = [
    ...new Set(asked.filter((r): r is RuleName => (RULE_NAMES as readonly string[]).includes(r))),
  ];
  if (rules.length < asked.length) notes.push(`rule: only ${RULE_NAMES.join(', ')} are known, each once`);
  const state: PageState = {
    data: known ? (data as DatasetName) : 'mnist',
    rules: rules.length ? rules : [DEFAULT_RULE],
    values: empty ? { ...PAGE_DEFAULTS } : {},
  };
  for (const [key, value] of params) {
    if (key === 'data' || key === 'rule') continue;
    const field = fieldOf(key);
    if (!field) continue;
    const held = holdToField(field, value);
    if (held === null) {
      const was = defaultFieldText(field);
      notes.push(
        `${key}="${shortText(value)}" is not a value of --${key}: ${was ? `${was} used` : 'ignored'}`,
      );
      delete state.values[key];
    } else {
      if (held !== value) notes.push(`${key}=${shortText(value)} is out of range: ${shortText(held)} used`);
      state.values[key] = held;
    }
  }
  const shown =
    notes.length > MAX_NOTES
      ? [...notes.slice(0, MAX_NOTES - 1), `and ${notes.length - MAX_NOTES + 1} more`]
      : notes;
  return {
    tab: params.get('tab') === 'theory' ? 'theory' : 'train',
    state,
    theory: theory.state,
    notes: shown,
  };
}

/**
 * The state a URL's query describes; an empty query opens on MNIST, PEPITA and {@link PAGE_DEFAULTS}. Every
 * value is held to its control (see {@link parsePageUrl}).
 */
export function stateFromQuery(query: string): PageState {
  return parsePageUrl(query).state;
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
    // the page's own default widths give way to an architecture typed in, which sets the widths itself
    if (input.arch !== undefined && state.values.hidden?.trim() === PAGE_DEFAULTS.hidden) delete input.hidden;
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
