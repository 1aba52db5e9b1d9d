/** gzip in the browser (fflate), with the Node loaders' bound and messages. */
import { gunzipSync } from 'fflate';

import { DataFormatError } from '../../src/data/errors.js';
import { formatBytes, isGzip } from '../../src/data/formats.js';

/** Inflates gzipped `bytes` (others are returned as they are); corrupt data are a {@link DataFormatError}. */
export function inflate(bytes: Uint8Array, label: string, maxBytes: number): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  let out: Uint8Array;
  try {
    out = gunzipSync(bytes);
  } catch (error) {
    throw new DataFormatError(label, `unreadable gzip data (${(error as Error).message || String(error)})`);
  }
  if (out.length > maxBytes)
    throw new DataFormatError(
      label,
      `inflates to more than ${formatBytes(maxBytes)}, more than the whole dataset it should hold`,
    );
  return out;
}
