/**
 * Command-line flags generated from option schemas: one flag per field (core options and every rule
 * section's flat alias), with its parser, choices, help text and default taken from the schema, and the
 * Markdown table the README shows. Nothing here knows a particular option.
 */
import { Option, type Command } from 'commander';

import { parseFieldText } from '../core/field-values.js';
import {
  defaultText,
  sectionFields,
  sectionSwitch,
  type OptionField,
  type OptionSection,
} from '../core/options.js';
import { rulesUsing } from '../rules/registry.js';

import { asArgParser } from './engine-flags.js';

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
  if (field.kind === 'enum') return option.choices(field.choices ?? []);
  if (field.kind === 'boolean' || field.kind === 'string') return option;
  return option.argParser(asArgParser((v: string) => parseFieldText(field, v)));
}

/**
 * Parses a value as the flag of `field` parses it (ranges and choices checked), e.g. for a sweep's grid;
 * booleans are `true` or `false`.
 */
export const parseFieldValue = parseFieldText;

export { sectionSwitch } from '../core/options.js';

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
