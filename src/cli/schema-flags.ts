/**
 * Command-line flags generated from option schemas: one flag per field (core options and every rule
 * section's flat alias), with its parser, choices, help text and default taken from the schema, and the
 * Markdown table the README shows. Nothing here knows a particular option.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';

import { TopdownUsageError } from '../core/errors.js';
import {
  defaultText,
  describeValue,
  sectionFields,
  type NumberRange,
  type OptionField,
  type OptionSection,
} from '../core/options.js';
import { rulesUsing } from '../rules/registry.js';

import { asArgParser } from './engine-flags.js';
import { decimal } from './parse.js';

function inRange(n: number, integer: boolean, r: NumberRange = {}): boolean {
  if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) return false;
  if (r.min !== undefined && (r.minExclusive ? n <= r.min : n < r.min)) return false;
  if (r.max !== undefined && (r.maxExclusive ? n >= r.max : n > r.max)) return false;
  return true;
}

function numberParser(flag: string, integer: boolean, range?: NumberRange): (v: string) => number {
  return asArgParser((v: string) => {
    const n = decimal(v);
    if (!inRange(n, integer, range))
      throw new TopdownUsageError(`--${flag} must be ${describeValue(integer, range)}`);
    return n;
  });
}

function listParser(flag: string, integer = false, range?: NumberRange): (v: string) => number[] {
  return asArgParser((v: string) => {
    if (v.trim() === '') return [];
    const items = v.split(',').map((s) => s.trim());
    const out = items.map(decimal);
    if (out.some((n) => !inRange(n, integer, range))) {
      const each = describeValue(integer, range).replace(/^an? /, '');
      throw new TopdownUsageError(
        `--${flag} must be a comma-separated list of ${each.replace(/(integer|number)/, '$1s')}`,
      );
    }
    return out;
  });
}

function placeholder(field: OptionField): string {
  if (field.placeholder) return field.placeholder;
  switch (field.kind) {
    case 'enum':
      return 'NAME';
    case 'list':
    case 'number-or-list':
      return 'LIST';
    case 'integer':
      return 'N';
    case 'number':
      return 'X';
    default:
      return 'VALUE';
  }
}

/** The flag as help shows it, e.g. `--ff-threshold <LIST>`. */
export function flagSpec(field: OptionField): string {
  return field.kind === 'boolean' ? `--${field.flag}` : `--${field.flag} <${placeholder(field)}>`;
}

/** A commander option for `field`; `defaultNote` replaces the schema's default in the help text. */
export function commanderOption(field: OptionField, note: string, defaultNote?: string): Option {
  const shown = defaultNote ?? defaultText(field);
  const help = `${field.description}${note}${shown ? ` (default: ${shown})` : ''}`;
  const option = new Option(flagSpec(field), help);
  switch (field.kind) {
    case 'enum':
      return option.choices(field.choices ?? []);
    case 'integer':
      return option.argParser(numberParser(field.flag, true, field.range));
    case 'number':
      return option.argParser(numberParser(field.flag, false, field.range));
    case 'list':
      return option.argParser(listParser(field.flag, field.integerItems, field.range));
    case 'number-or-list':
      return option.argParser((v: string) => {
        const list = listParser(field.flag)(v);
        return list.length === 1 && !v.includes(',') ? list[0]! : list;
      });
    default:
      return option;
  }
}

/**
 * Parses a value as the flag of `field` parses it (ranges and choices checked), e.g. for a sweep's grid;
 * booleans are `true` or `false`.
 */
export function parseFieldValue(field: OptionField, text: string): unknown {
  try {
    return parseAs(field, text);
  } catch (error) {
    // the flag parsers speak commander's language; outside commander a usage error is the one line
    if (error instanceof InvalidArgumentError) throw new TopdownUsageError(error.message);
    throw error;
  }
}

function parseAs(field: OptionField, text: string): unknown {
  switch (field.kind) {
    case 'enum':
      if (!(field.choices ?? []).includes(text)) {
        throw new TopdownUsageError(
          `--${field.flag} must be one of ${(field.choices ?? []).join(', ')}; got "${text}"`,
        );
      }
      return text;
    case 'integer':
      return numberParser(field.flag, true, field.range)(text);
    case 'number':
      return numberParser(field.flag, false, field.range)(text);
    case 'list':
      return listParser(field.flag, field.integerItems, field.range)(text);
    case 'number-or-list': {
      const list = listParser(field.flag)(text);
      return list.length === 1 && !text.includes(',') ? list[0]! : list;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false')
        throw new TopdownUsageError(`--${field.flag} takes true or false; got "${text}"`);
      return text === 'true';
    default:
      return text;
  }
}

/** The flag that switches an optional section on (`--mirror`), as a field. */
export function sectionSwitch(section: OptionSection): OptionField {
  return {
    section: section.key,
    name: '',
    flag: section.key,
    alias: section.key,
    kind: 'boolean',
    description: `turn on ${section.label}`,
  };
}

/** Every flat flag of the rules' sections (switches of optional sections first), with the rules using each. */
export function sectionFlags(sections: readonly OptionSection[]): { field: OptionField; rules: string[] }[] {
  const out: { field: OptionField; rules: string[] }[] = [];
  for (const section of sections) {
    const rules = rulesUsing(section.key);
    if (section.optional) out.push({ field: sectionSwitch(section), rules });
    for (const field of sectionFields(section)) out.push({ field, rules });
  }
  return out;
}

/** ` (rules pepita, afa)`: which rules a section flag applies to. */
export function rulesNote(rules: readonly string[]): string {
  return rules.length ? ` [${rules.length === 1 ? 'rule' : 'rules'} ${rules.join(', ')}]` : '';
}

/** Adds the options to `command`. */
export function addFlags(command: Command, options: Option[]): void {
  for (const o of options) command.addOption(o);
}

/** The values commander parsed for `fields`, keyed by their config aliases (unset flags left out). */
export function flagValues(
  parsed: Record<string, unknown>,
  fields: readonly OptionField[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (parsed[f.alias] !== undefined) out[f.alias] = parsed[f.alias];
  return out;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A Markdown table of flags: flag, default, meaning (rules noted for section flags). */
export function flagsMarkdown(
  rows: { field: OptionField; rules?: readonly string[]; defaultNote?: string }[],
): string {
  const lines = ['| flag | default | meaning |', '| --- | --- | --- |'];
  for (const { field, rules, defaultNote } of rows) {
    const d = defaultNote ?? defaultText(field);
    const choices = field.choices?.filter((c) => !field.description.includes(c)).length
      ? `: ${field.choices.map((c) => `\`${c}\``).join(', ')}`
      : '';
    lines.push(
      `| \`${cell(flagSpec(field))}\` | ${d ? cell(d) : ''} | ${cell(field.description)}${choices}${rules?.length ? ` (${rules.join(', ')})` : ''} |`,
    );
  }
  return lines.join('\n');
}
