/** Flag value parsers: each throws a usage error that commander reports in one line. */
import { TopdownUsageError } from '../core/errors.js';

import { decimal } from '../core/field-values.js';

import { asArgParser } from './engine-flags.js';

/** A decimal number as a user types it (no hex, binary or octal forms, no blanks); NaN otherwise. */
export { decimal };

/** A path or name that must not be empty (an empty one would silently mean "none"). */
export function nonEmpty(name: string): (value: string) => string {
  return asArgParser((value) => {
    if (value.trim() === '') throw new TopdownUsageError(`${name} needs a value, not an empty string`);
    return value;
  });
}

export function positiveInt(name: string): (value: string) => number {
  return asArgParser((value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new TopdownUsageError(`${name} must be a positive integer`);
    return n;
  });
}

export function nonNegativeInt(name: string): (value: string) => number {
  return asArgParser((value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n)) throw new TopdownUsageError(`${name} must be a non-negative integer`);
    return n;
  });
}

/** A finite number within [min, max) (or [min, max] when `inclusiveMax`). */
export function numberIn(
  name: string,
  min: number,
  max = Infinity,
  inclusiveMax = false,
): (value: string) => number {
  return asArgParser((value) => {
    const n = decimal(value);
    const okMax = inclusiveMax ? n <= max : n < max;
    if (!Number.isFinite(n) || n < min || !okMax) {
      const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}${inclusiveMax ? ']' : ')'}`;
      throw new TopdownUsageError(`${name} must be a number ${range}`);
    }
    return n;
  });
}

/** An integer within [min, max], as a user types it in decimal. */
export function intInRange(name: string, min: number, max: number): (value: string) => number {
  return asArgParser((value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new TopdownUsageError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  });
}
