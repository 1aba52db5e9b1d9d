/**
 * Strings that cross a trust boundary (a queue job, a results folder someone sent you, a URL, an environment
 * variable) are checked here before they become file names or reach a terminal: one helper turns an untrusted
 * name into a path that stays inside a given folder, another makes a string safe to print.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';

import { TopdownUsageError } from './errors.js';

/** Longest name a file system is sure to take (ext4, xfs, APFS: 255 bytes). */
const MAX_NAME_BYTES = 255;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Why `name` cannot be one file name inside a folder, or null when it can: empty, `.` or `..`, a path
 * separator, an absolute path, a control character, or longer than a file system takes.
 */
export function unsafeNameReason(name: unknown): string | null {
  if (typeof name !== 'string') return `is ${name === null ? 'null' : typeof name}, not a name`;
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return `is "${name}"`;
  if (CONTROL.test(name)) return 'holds a control character';
  if (name.includes('/') || name.includes('\\')) return 'holds a path separator';
  if (isAbsolute(name)) return 'is an absolute path';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `is over ${MAX_NAME_BYTES} bytes long`;
  return null;
}

/**
 * `name` checked as one file name from an untrusted source; throws one line naming `source` (e.g.
 * `the queued job's id`) and why.
 */
export function safeName(name: unknown, source: string): string {
  const reason = unsafeNameReason(name);
  if (reason !== null) throw new TopdownUsageError(`${source} ${quoted(name)} ${reason}`);
  return name as string;
}

/**
 * The path of the untrusted `name` inside `folder` (plus an optional `suffix` such as `.json`), refusing
 * whatever could lead out of it: see {@link unsafeNameReason}. Throws one line naming `source`.
 */
export function pathInside(folder: string, name: unknown, source: string, suffix = ''): string {
  const checked = safeName(typeof name === 'string' ? name + suffix : name, source);
  const path = join(folder, checked);
  const rel = relative(resolve(folder), resolve(path));
  // belt and braces: safeName already refuses everything that could make this fail
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new TopdownUsageError(`${source} ${quoted(name)} leads out of ${folder}`);
  }
  return path;
}

/**
 * `text` with every control character (escape sequences, carriage returns, line breaks, C1 codes) shown as a
 * visible escape (`\x1b`, `\n`, `\u2028`), so an untrusted string printed to a terminal can neither move the
 * cursor, clear the screen nor forge a line.
 */
export function printable(text: unknown): string {
  const s = typeof text === 'string' ? text : (JSON.stringify(text) ?? String(text));
  return s.replace(CONTROL_ALL, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

/** An untrusted value for a message: a string in quotes, anything else as JSON; control characters escaped. */
export function quoted(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const short = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return typeof value === 'string' ? `"${printable(short)}"` : printable(short);
}
