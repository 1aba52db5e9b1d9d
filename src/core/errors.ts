/**
 * Typed errors thrown by the library. Library code never prints or exits; the CLI maps these to messages
 * and exit codes.
 */

/** A caller passed something invalid (a shape mismatch, a bad option value, an unknown name). */
export class TopdownUsageError extends Error {
  override readonly name = 'TopdownUsageError';
}

/** The work was stopped by a signal (Ctrl-C, SIGTERM) after saving what it could; exit code 130 or 143. */
export class TopdownInterruptedError extends Error {
  override readonly name = 'TopdownInterruptedError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A requested capability is not available here (for example the `blas` engine without OpenBLAS). */
export class TopdownUnavailableError extends Error {
  override readonly name = 'TopdownUnavailableError';
}
