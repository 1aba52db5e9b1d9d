/**
 * Node's side of reading the official files: whole files into memory, bounded, and gzip inflated (whatever the
 * file is called) with the bound checked while inflating.
 */
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

import { DataFormatError } from './errors.js';
import { MAX_DATA_BYTES, formatBytes, isGzip } from './formats.js';

/** A plain Uint8Array view of a Buffer (so that `slice` copies, as it does for typed arrays). */
function plain(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decompresses `bytes` when they start with the gzip magic number (whatever the file is called); returns
 * them unchanged otherwise.
 * @param label - the file name used in error messages
 * @throws DataFormatError when the gzip data are corrupt or truncated
 */
export function gunzipIfNeeded(bytes: Uint8Array, label: string, maxBytes = MAX_DATA_BYTES): Uint8Array {
  if (!isGzip(bytes)) return plain(bytes);
  try {
    // the bound stops inflation as soon as it is passed, before the memory is taken
    return plain(gunzipSync(bytes, { maxOutputLength: maxBytes }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataFormatError(
        label,
        `inflates to more than ${formatBytes(maxBytes)}, more than the whole dataset it should hold`,
      );
    }
    const reason = (error as Error).message || String(error);
    throw new DataFormatError(label, `unreadable gzip data (${reason})`);
  }
}

/**
 * Reads a whole file into memory.
 * @throws DataFormatError when it cannot be read
 */
export function readBytes(path: string, maxBytes = MAX_DATA_BYTES): Uint8Array {
  try {
    const size = statSync(path).size;
    if (size > maxBytes)
      throw new DataFormatError(
        path,
        `holds ${formatBytes(size)}, more than the ${formatBytes(maxBytes)} of the whole dataset it should hold`,
      );
    return plain(readFileSync(path));
  } catch (error) {
    if (error instanceof DataFormatError) throw error;
    const e = error as NodeJS.ErrnoException;
    throw new DataFormatError(path, `cannot read the file (${e.code ?? e.message})`);
  }
}
