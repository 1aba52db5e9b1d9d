/**
 * A rule's options from what a user wrote: nested sections (`pepita: {mode: hebbian}`) or their flat aliases
 * (`mode: hebbian`, `ff-threshold: 3`, `--kolen-pollack`). Options given for a rule that does not read them
 * are refused with one line naming the rules that do; everything else is filled from the sections' schemas.
 */
import type { z } from 'zod';

import { TopdownUsageError } from '../core/errors.js';
import { camel, kebab, sectionFields, type OptionSection } from '../core/options.js';

import { optionSections, rulesUsing } from './registry.js';
import type { RuleDefinition, RunShape, SectionValues } from './rule.js';

/** Rule options as written: section mappings and flat aliases (camelCase or kebab-case). */
export type RuleOptionsInput = Record<string, unknown>;

/** Where a message says an option came from, and how to spell it there. */
export interface OptionSource {
  /** e.g. `flags`, `config file x.yaml`. */
  name: string;
  /** Spell options as command-line flags (`--ff-threshold`). */
  flags?: boolean;
}

/** An input split into top-level options and sections, remembering where each option came from. */
export interface SplitOptions {
  core: Record<string, unknown>;
  sections: Record<string, Record<string, unknown>>;
  /** Optional sections switched off explicitly (`mirror: false`), which a later source may switch on again. */
  off: Set<string>;
  /**
   * `section`, `section.field` or a top-level key -> where it was written, as messages show it: its source and
   * its spelling there (`flags: --ff-threshold`, `config file run.yaml: ff.threshold`).
   */
  where: Record<string, string>;
}

interface AliasTarget {
  section: OptionSection;
  field: string | null;
}

function aliasTable(): Map<string, AliasTarget> {
  const table = new Map<string, AliasTarget>();
  for (const section of optionSections()) {
    table.set(section.key, { section, field: null });
    for (const f of sectionFields(section)) table.set(f.alias, { section, field: f.name });
  }
  return table;
}

function locate(key: string, source: OptionSource): string {
  return `${source.name}: ${source.flags ? `--${kebab(key)}` : key}`;
}

/**
 * Splits `input` into `coreKeys` and sections. Unknown keys, a section that is not a mapping, and an option
 * given twice (flat and nested) are one-line usage errors.
 */
export function splitOptions(
  input: Record<string, unknown>,
  coreKeys: ReadonlySet<string>,
  source: OptionSource,
): SplitOptions {
  const table = aliasTable();
  const out: SplitOptions = { core: {}, sections: {}, off: new Set(), where: {} };
  const put = (section: string, field: string, value: unknown, written: string): void => {
    const target = (out.sections[section] ??= {});
    const path = `${section}.${field}`;
    const here = locate(written, source);
    if (field in target && out.where[path] !== here) {
      throw new TopdownUsageError(`${here} is given twice (also as ${out.where[path] ?? path})`);
    }
    target[field] = value;
    out.where[path] = here;
  };
  for (const [rawKey, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const key = camel(rawKey);
    if (coreKeys.has(key)) {
      out.core[key] = value;
      out.where[key] = locate(key, source);
      continue;
    }
    const target = table.get(key);
    if (!target) throw new TopdownUsageError(`${source.name}: unknown option "${rawKey}"`);
    const sectionKey = target.section.key;
    if (target.field !== null) {
      put(sectionKey, target.field, value, key);
      continue;
    }
    out.where[sectionKey] ??= locate(key, source);
    if (value === true || value === null) {
      out.sections[sectionKey] ??= {};
    } else if (value === false) {
      if (!target.section.optional)
        throw new TopdownUsageError(`${locate(key, source)} cannot be switched off`);
      out.off.add(sectionKey);
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [f, v] of Object.entries(value as Record<string, unknown>))
        if (v !== undefined) put(sectionKey, camel(f), v, `${key}.${f}`);
      out.sections[sectionKey] ??= {};
    } else {
      throw new TopdownUsageError(
        `${locate(key, source)} must be a mapping of ${target.section.label} options`,
      );
    }
  }
  for (const key of out.off) {
    if (out.sections[key]) throw new TopdownUsageError(`${out.where[key]} is switched off and given options`);
  }
  return out;
}

/**
 * The splits of several sources merged, later ones winning option by option (sections field by field; a
 * section switched off drops what earlier sources gave it).
 */
export function mergeSplits(splits: readonly SplitOptions[]): SplitOptions {
  const out: SplitOptions = { core: {}, sections: {}, off: new Set(), where: {} };
  for (const s of splits) {
    Object.assign(out.core, s.core);
    for (const key of s.off) {
      delete out.sections[key];
      out.off.add(key);
    }
    for (const [key, fields] of Object.entries(s.sections)) {
      out.sections[key] = { ...out.sections[key], ...fields };
      out.off.delete(key);
    }
    Object.assign(out.where, s.where);
  }
  return out;
}

/** Throws unless every section in `split` is one `def` reads, naming the rules that do read it. */
export function checkSectionsApply(def: RuleDefinition, split: SplitOptions): void {
  for (const key of Object.keys(split.sections)) {
    if (def.sections.some((s) => s.key === key)) continue;
    const users = rulesUsing(key);
    const first =
      Object.entries(split.where).find(([path]) => path === key || path.startsWith(key + '.'))?.[1] ?? key;
    const who = users.length === 1 ? `rule ${users[0]}` : `rules ${users.join(', ')}`;
    throw new TopdownUsageError(`${first} applies to ${who}, not ${def.name}`);
  }
}

function describeIssue(
  issue: z.core.$ZodIssue,
  section: string,
  split: SplitOptions,
  source: OptionSource,
): string {
  if (issue.code === 'unrecognized_keys') {
    return `${split.where[section] ?? source.name}: unknown ${section} option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  const field = String(issue.path[0] ?? '');
  const where = split.where[`${section}.${field}`] ?? `${source.name}: ${section}.${field}`;
  const rest = issue.path.length > 1 ? `.${issue.path.slice(1).join('.')}` : '';
  return `${where}${rest}: ${issue.message}`;
}

/**
 * Every section of `def`, parsed with defaults (an optional section the user left out stays absent), then,
 * given the run's shape, the rule's own finishing (run-dependent defaults) and cross-field checks, whose
 * problems are reported under `source`.
 */
export function parseSections(
  def: RuleDefinition,
  split: SplitOptions,
  source: OptionSource,
  run: RunShape | null,
): SectionValues {
  let values: SectionValues = {};
  for (const section of def.sections) {
    const given = split.sections[section.key];
    if (section.optional && given === undefined) continue;
    const result = section.schema.safeParse(given ?? {});
    if (!result.success)
      throw new TopdownUsageError(describeIssue(result.error.issues[0]!, section.key, split, source));
    values[section.key] = result.data as Record<string, unknown>;
  }
  if (!run) return values;
  if (def.finalize) values = def.finalize(values, run);
  const problem = def.validate?.(values, run);
  if (problem) throw new TopdownUsageError(`${source.name}: ${problem}`);
  return values;
}

/** A rule's options from `input` (sections or flat aliases only), checked and with defaults. */
export function resolveRuleOptions(
  def: RuleDefinition,
  input: RuleOptionsInput,
  sourceName: string,
  run: RunShape,
): SectionValues {
  const source = { name: sourceName };
  const split = splitOptions(input, new Set(), source);
  checkSectionsApply(def, split);
  return parseSections(def, split, source, run);
}
