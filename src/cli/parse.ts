/** Flag value parsers: each throws a usage error that commander reports in one line. */
import { TopdownUsageError } from '../core/errors.js';

import { asArgParser } from './engine-flags.js';

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
    const n = value.trim() === '' ? NaN : Number(value);
    const okMax = inclusiveMax ? n <= max : n < max;
    if (!Number.isFinite(n) || n < min || !okMax) {
      const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}${inclusiveMax ? ']' : ')'}`;
      throw new TopdownUsageError(`${name} must be a number ${range}`);
    }
    return n;
  });
}
