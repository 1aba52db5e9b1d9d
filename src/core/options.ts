/**
 * Option sections: a named zod schema (its fields' types, ranges, defaults and descriptions) that a component
 * owns, from which config-file keys, command-line flags, help text, forms and sweep keys are all derived.
 * Fields describe themselves with zod's `.meta({ description, flag?, placeholder? })`; this module reads
 * them back through zod's JSON Schema export, so nothing about an option is written twice.
 */
import { z } from 'zod';

import { TopdownUsageError } from './errors.js';

/** What a field's `.meta()` may carry besides its description. */
export interface FieldMeta {
  /** One line for help text and forms. */
  description: string;
  /** The flat flag (without `--`) when it is not `<section prefix><kebab-case name>`. */
  flag?: string;
  /** The value placeholder in help, e.g. `N` or `LIST`. */
  placeholder?: string;
  /** Text for the default when it is computed rather than fixed (e.g. "the layer width"). */
  defaultText?: string;
}

/** A component's options: one mapping in config files, flat kebab-case flags on the command line. */
export interface OptionSection {
  /** Key in config files, e.g. `pepita`, `mirror`. */
  key: string;
  /** Who owns the options, for messages and help ("weight mirroring"). */
  label: string;
  /** A strict zod object whose fields all have defaults (or are optional). */
  schema: z.ZodObject;
  /** Prefix of the flat flags, e.g. `ff-` gives `--ff-threshold` (fields may override with meta.flag). */
  flagPrefix: string;
  /** Absent from a config means "off" (`--<key>` alone switches it on with its defaults). */
  optional?: boolean;
}

export type FieldKind = 'boolean' | 'integer' | 'number' | 'enum' | 'string' | 'list' | 'number-or-list';

/** One option as the command line and forms see it. */
export interface OptionField {
  /** Section key, or null for a top-level option. */
  section: string | null;
  /** Field name inside the section (camelCase). */
  name: string;
  /** The flat flag without `--`. */
  flag: string;
  /** camelCase of the flag: the flat key accepted in config files. */
  alias: string;
  kind: FieldKind;
  /** Allowed values of an enum. */
  choices?: readonly string[];
  /** The schema default (undefined: none, or computed: see defaultText). */
  default?: unknown;
  defaultText?: string;
  description: string;
  placeholder?: string;
  /** Bounds of a number (of each item for a list). */
  range?: NumberRange;
  /** A list of integers. */
  integerItems?: boolean;
}

/** Bounds read from the schema. */
export interface NumberRange {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

/** `a number in [0, 1)`, `a positive integer`, `a number >= 0`: how help and errors describe a value. */
export function describeValue(integer: boolean, range: NumberRange = {}): string {
  const { min, max, minExclusive, maxExclusive } = range;
  const what = integer ? 'integer' : 'number';
  const article = integer ? 'an' : 'a';
  const bounded = max !== undefined && max < Number.MAX_SAFE_INTEGER;
  if (min !== undefined && bounded)
    return `${article} ${what} in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
  if (min === 0 && minExclusive) return `a positive ${what}`;
  if (min === 0 && integer) return 'a non-negative integer';
  if (min !== undefined) return `${article} ${what} ${minExclusive ? '>' : '>='} ${min}`;
  if (bounded) return `${article} ${what} ${maxExclusive ? '<' : '<='} ${max}`;
  return integer ? 'an integer' : 'a number';
}

/** `weightDecay` -> `weight-decay`. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** `weight-decay` -> `weightDecay`. */
export function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

interface JsonSchemaField {
  type?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: string[];
  default?: unknown;
  description?: string;
  anyOf?: JsonSchemaField[];
  items?: JsonSchemaField;
  flag?: string;
  placeholder?: string;
  defaultText?: string;
}

function rangeOf(s: JsonSchemaField | undefined): NumberRange | undefined {
  if (!s) return undefined;
  const r: NumberRange = {};
  if (s.exclusiveMinimum !== undefined) {
    r.min = s.exclusiveMinimum;
    r.minExclusive = true;
  } else if (s.minimum !== undefined) r.min = s.minimum;
  if (s.exclusiveMaximum !== undefined) {
    r.max = s.exclusiveMaximum;
    r.maxExclusive = true;
  } else if (s.maximum !== undefined) r.max = s.maximum;
  return Object.keys(r).length ? r : undefined;
}

function kindOf(s: JsonSchemaField): {
  kind: FieldKind;
  choices?: string[];
  range?: NumberRange;
  integerItems?: boolean;
} {
  if (s.enum) return { kind: 'enum', choices: s.enum };
  if (s.anyOf) {
    const types = s.anyOf.map((a) => a.type);
    if (types.includes('array') && (types.includes('number') || types.includes('integer')))
      return { kind: 'number-or-list' };
    const inner = s.anyOf.find((a) => a.type !== 'null');
    if (inner) return kindOf(inner);
  }
  switch (s.type) {
    case 'boolean':
      return { kind: 'boolean' };
    case 'integer':
    case 'number': {
      const range = rangeOf(s);
      return { kind: s.type, ...(range ? { range } : {}) };
    }
    case 'array': {
      const range = rangeOf(s.items);
      return { kind: 'list', integerItems: s.items?.type === 'integer', ...(range ? { range } : {}) };
    }
    default:
      return { kind: 'string' };
  }
}

/** The fields of a zod object, described for flags and forms (`section` null: top-level options). */
export function describeFields(schema: z.ZodObject, section: string | null, flagPrefix = ''): OptionField[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, JsonSchemaField>;
  };
  return Object.entries(json.properties ?? {}).map(([name, s]) => {
    const flag = s.flag ?? flagPrefix + kebab(name);
    return {
      section,
      name,
      flag,
      alias: camel(flag),
      ...kindOf(s),
      ...(s.default !== undefined ? { default: s.default } : {}),
      ...(s.defaultText !== undefined ? { defaultText: s.defaultText } : {}),
      description: s.description ?? '',
      ...(s.placeholder !== undefined ? { placeholder: s.placeholder } : {}),
    };
  });
}

/**
 * `input` parsed by the section's schema (defaults filled in); a bad value is a one-line usage error naming
 * the section and the field.
 */
export function parseSection<S extends z.ZodObject>(
  section: { label: string; schema: S },
  input: object,
): z.infer<S> {
  const result = section.schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new TopdownUsageError(`${section.label}: ${issue.path.join('.') || 'options'}: ${issue.message}`);
}

/** The fields of a section. */
export function sectionFields(section: OptionSection): OptionField[] {
  return describeFields(section.schema, section.key, section.flagPrefix);
}

/** A field's default as help text shows it. */
export function defaultText(field: OptionField): string {
  if (field.defaultText !== undefined) return field.defaultText;
  const d = field.default;
  if (d === undefined) return '';
  if (Array.isArray(d)) return d.length ? d.join(',') : "''";
  if (typeof d === 'boolean') return d ? 'on' : 'off';
  return String(d);
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
