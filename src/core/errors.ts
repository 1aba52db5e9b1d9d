/**
 * Typed errors thrown by the library. Library code never prints or exits; the CLI maps these to messages
 * and exit codes.
 */

/** A caller passed something invalid (a shape mismatch, a bad option value, an unknown name). */
export class TopdownUsageError extends Error {
  override readonly name = 'TopdownUsageError';
}

/** A requested capability is not available here (for example the `blas` engine without OpenBLAS). */
export class TopdownUnavailableError extends Error {
  override readonly name = 'TopdownUnavailableError';
}
