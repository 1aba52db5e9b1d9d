/**
 * Writing files so that a crash, a kill or a full disk never leaves a torn one: the content goes to a
 * temporary file beside the target (same folder, so the rename is atomic), is flushed to disk, and replaces
 * the target in one rename; on any failure the temporary file is removed. File-system errors become one-line
 * errors: the user's path (missing folder, not a folder, no permission) a usage error, the environment (disk
 * full, read-only file system, too many open files) an unavailable error.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

import { TopdownUnavailableError, TopdownUsageError } from './errors.js';

/** Error codes that say the environment, not the path the user gave, is at fault. */
const ENVIRONMENT_CODES = new Set(['ENOSPC', 'EROFS', 'EDQUOT', 'EMFILE', 'ENFILE', 'EIO']);

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'it already exists',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'input/output error',
  ENAMETOOLONG: 'the name is too long',
};

/** One line for a file-system error while doing `what` (e.g. `cannot write results/metrics.jsonl`). */
export function fileError(what: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const reason = code ? `${REASONS[code] ?? code} (${code})` : String((error as Error)?.message ?? error);
  const message = `${what}: ${reason}`;
  return code && ENVIRONMENT_CODES.has(code)
    ? new TopdownUnavailableError(message)
    : new TopdownUsageError(message);
}

/** The text of `path`, or null when there is no such file; any other read error is one line (see {@link fileError}). */
export function readTextIfPresent(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileError(`cannot read ${path}`, error);
  }
}

/** True for errors that {@link fileError} made (or any other topdown error), which callers pass on as they are. */
function isTopdownError(error: unknown): boolean {
  return error instanceof TopdownUsageError || error instanceof TopdownUnavailableError;
}

/**
 * Creates `dir` and its missing parents, like `mkdir -p`. (Node's own recursive mkdir never returns on paths
 * under /proc, where every level answers ENOENT; this walks up at most once per level and gives up.)
 * Throws the file-system error as it is.
 */
export function ensureFolder(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (statSync(dir).isDirectory()) return;
      throw error;
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    ensureFolder(parent);
  }
  mkdirSync(dir);
}

/**
 * Fault injection for the reliability tests: `TOPDOWN_FAULT_SLOW_WRITE_MS` makes every atomic write pause
 * that long before each chunk, so that a kill lands inside a write (0, the default, never pauses).
 */
function faultPauseMs(): number {
  const ms = Number(process.env.TOPDOWN_FAULT_SLOW_WRITE_MS ?? 0);
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 10_000) : 0;
}

/**
 * Writes `chunks` to `path` atomically (temporary file, fsync, rename); the temporary file is removed when
 * anything fails, and the error is one line naming `path`.
 */
export function writeAtomic(path: string, ...chunks: (string | Uint8Array)[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    const pause = faultPauseMs();
    for (const chunk of chunks) {
      if (pause > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      for (let done = 0; done < bytes.byteLength;)
        done += writeSync(fd, bytes, done, bytes.byteLength - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    if (isTopdownError(error)) throw error;
    throw fileError(`cannot write ${path}`, error);
  }
}
