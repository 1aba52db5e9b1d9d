/**
 * An option's value as text and back, as its flag reads it (ranges and choices checked): the command line's
 * flags, a sweep's grid, the browser app's form fields and its URL all go through these two functions.
 */
import { TopdownUsageError } from './errors.js';
import { describeValue, type NumberRange, type OptionField } from './options.js';

/** A strict decimal number (`1e-3`, `.5`, `-2`), NaN for anything else (`0x10`, `''`, `Infinity`). */
export function decimal(value: string): number {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(value) ? Number(value) : NaN;
}

function inRange(n: number, integer: boolean, r: NumberRange = {}): boolean {
  if (!Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) return false;
  if (r.min !== undefined && (r.minExclusive ? n <= r.min : n < r.min)) return false;
  if (r.max !== undefined && (r.maxExclusive ? n >= r.max : n > r.max)) return false;
  return true;
}

function parseNumber(flag: string, text: string, integer: boolean, range?: NumberRange): number {
  const n = decimal(text);
  if (!inRange(n, integer, range))
    throw new TopdownUsageError(`--${flag} must be ${describeValue(integer, range)}`);
  return n;
}

function parseList(flag: string, text: string, integer = false, range?: NumberRange): number[] {
  if (text.trim() === '') return [];
  const out = text.split(',').map((s) => decimal(s.trim()));
  if (out.some((n) => !inRange(n, integer, range))) {
    const each = describeValue(integer, range).replace(/^an? /, '');
    throw new TopdownUsageError(
      `--${flag} must be a comma-separated list of ${each.replace(/(integer|number)/, '$1s')}`,
    );
  }
  return out;
}

/**
 * Parses `text` as the flag of `field` parses it; booleans are `true` or `false`.
 * @throws TopdownUsageError naming the flag and what it takes
 */
export function parseFieldText(field: OptionField, text: string): unknown {
  switch (field.kind) {
    case 'enum':
      if (!(field.choices ?? []).includes(text)) {
        throw new TopdownUsageError(
          `--${field.flag} must be one of ${(field.choices ?? []).join(', ')}; got "${text}"`,
        );
      }
      return text;
    case 'integer':
      return parseNumber(field.flag, text, true, field.range);
    case 'number':
      return parseNumber(field.flag, text, false, field.range);
    case 'list':
      return parseList(field.flag, text, field.integerItems, field.range);
    case 'number-or-list': {
      const list = parseList(field.flag, text);
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

/** A value as the text {@link parseFieldText} reads back (lists comma-separated). */
export function fieldText(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}
