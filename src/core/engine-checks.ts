/** Argument checks shared by the engines. */
import { TopdownUsageError } from './errors.js';
import type { Matrix } from './matrix.js';

/** Throws a usage error unless x and y have the same length. */
export function checkSameLength(what: string, x: Float32Array, y: Float32Array): void {
  if (x.length !== y.length)
    throw new TopdownUsageError(`${what}: lengths differ (${x.length} vs ${y.length})`);
}

/** Throws a usage error unless A is x.length x y.length. */
export function checkGer(x: Float32Array, y: Float32Array, a: Matrix): void {
  if (a.rows !== x.length || a.cols !== y.length) {
    throw new TopdownUsageError(`ger: A must be ${x.length}x${y.length}, got ${a.rows}x${a.cols}`);
  }
}
