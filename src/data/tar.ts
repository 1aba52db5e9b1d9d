/**
 * A small in-memory tar reader (POSIX ustar, with GNU long names, GNU base-256 sizes and PAX `path`
 * records), enough to read the official CIFAR archives without extracting them.
 */
import { DataFormatError } from './errors.js';

const BLOCK = 512;
const decoder = new TextDecoder('utf-8');

function text(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  const stop = start + length;
  while (end < stop && bytes[end] !== 0) end++;
  return decoder.decode(bytes.subarray(start, end));
}

/** A numeric header field: octal ASCII (space/NUL padded), or GNU base-256 when the top bit is set. */
function numeric(header: Uint8Array, start: number, length: number): number {
  if (header[start]! & 0x80) {
    let value = header[start]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + header[start + i]!;
    return value;
  }
  const field = text(header, start, length).trim();
  if (field === '') return 0;
  return /^[0-7]+$/.test(field) ? parseInt(field, 8) : NaN;
}

function isZeroBlock(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < offset + BLOCK; i++) if (bytes[i] !== 0) return false;
  return true;
}

function checksumOk(header: Uint8Array): boolean {
  const stored = numeric(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === stored;
}

/** The `path` record of a PAX extended header, if any. */
function paxPath(data: Uint8Array): string | null {
  const records = decoder.decode(data);
  let path: string | null = null;
  let at = 0;
  while (at < records.length) {
    const space = records.indexOf(' ', at);
    if (space < 0) break;
    const length = Number(records.slice(at, space));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = records.slice(space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    at += length;
  }
  return path;
}

const normalise = (name: string): string => name.replace(/^(\.\/)+/, '');

/**
 * Lists the regular files of an (uncompressed) tar archive held in memory.
 * @param bytes - the archive's bytes
 * @param label - the archive's name, used in error messages
 * @returns member path (without a leading `./`) -> contents (views into `bytes`, not copies)
 * @throws DataFormatError for a corrupt header or a truncated archive
 */
export function readTar(bytes: Uint8Array, label: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let longName: string | null = null;
  let offset = 0;
  while (offset + BLOCK <= bytes.length) {
    if (isZeroBlock(bytes, offset)) return files;
    const header = bytes.subarray(offset, offset + BLOCK);
    if (!checksumOk(header)) {
      throw new DataFormatError(label, `not a tar archive or corrupt tar header at byte ${offset}`);
    }
    const size = numeric(header, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new DataFormatError(label, `bad member size in the tar header at byte ${offset}`);
    }
    const start = offset + BLOCK;
    const end = start + size;
    if (end > bytes.length) {
      throw new DataFormatError(
        label,
        `truncated tar archive: a member ends at byte ${end} of ${bytes.length}`,
      );
    }
    const data = bytes.subarray(start, end);
    const type = String.fromCharCode(header[156]!);
    if (type === 'L') {
      longName = text(data, 0, data.length);
    } else if (type === 'x') {
      longName = paxPath(data) ?? longName;
    } else if (type === '0' || type === '\0' || type === '7') {
      let name = text(header, 0, 100);
      // POSIX ustar ("ustar\0"): the prefix field extends the name. GNU's "ustar  " header has none.
      if (text(header, 257, 6) === 'ustar' && header[262] === 0) {
        const prefix = text(header, 345, 155);
        if (prefix) name = `${prefix}/${name}`;
      }
      files.set(normalise(longName ?? name), data);
      longName = null;
    } else if (type !== 'g') {
      longName = null; // directories, links and others are skipped
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  if (offset < bytes.length) {
    throw new DataFormatError(
      label,
      `truncated tar archive: ${bytes.length - offset} stray bytes at the end`,
    );
  }
  return files;
}
