/**
 * Downloading the official dataset files: each file is streamed from the first mirror that answers into a
 * temporary file next to its destination, its SHA-256 is checked, and only then is it renamed into place,
 * so a file under its final name is always complete and official.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import { TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';
import { ensureFolder } from '../core/files.js';

import { DATASETS, type DatasetName, type OfficialFile } from './datasets.js';
import { DataFormatError } from './errors.js';

/** The part of `fetch` the downloader uses (inject one in tests; the global `fetch` fits). */
export type FetchLike = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<Response>;

/** Progress of one file's download, reported after each chunk received. */
export interface DownloadProgress {
  /** The dataset. */
  name: DatasetName;
  /** The file being downloaded. */
  file: string;
  /** The address it comes from. */
  url: string;
  /** Bytes received so far. */
  received: number;
  /** Expected bytes (from the server or the official size), or null when unknown. */
  total: number | null;
  /** Position of this file (0-based) among the dataset's files. */
  index: number;
  /** Number of files of the dataset. */
  files: number;
}

/** Options of {@link downloadDataset}. */
export interface DownloadOptions {
  /** The fetch function (default: the global `fetch`). */
  fetchImpl?: FetchLike;
  /** Called as bytes arrive. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Replace the dataset's official files and checksums (e.g. in tests). */
  files?: readonly OfficialFile[];
  /** Give up on a mirror after this long without data (default 30 000 ms). */
  idleTimeoutMs?: number;
}

/** One file of a finished download. */
export interface DownloadedFile {
  /** File name. */
  file: string;
  /** Where it now is. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** The address it came from, or null when an official copy was already in place. */
  url: string | null;
}

/** What {@link downloadDataset} did. */
export interface DownloadResult {
  /** The dataset. */
  name: DatasetName;
  /** The folder the files are in. */
  folder: string;
  /** Each official file, in order. */
  files: DownloadedFile[];
}

class HttpStatusError extends Error {}
/** The request itself failed: no connection (DNS, refused, unreachable, timeout). */
class ConnectError extends Error {}
class ChecksumError extends Error {
  constructor(
    readonly url: string,
    readonly actual: string,
  ) {
    super(`SHA-256 ${actual}`);
  }
}

function describeNetworkError(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause;
  const text = cause?.code ?? cause?.message ?? e?.message ?? String(error);
  return text.replace(/\s+/g, ' ').trim();
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

interface FetchJob {
  name: DatasetName;
  file: OfficialFile;
  url: string;
  folder: string;
  target: string;
  index: number;
  files: number;
}

/** Streams one URL into a temporary file, checks its SHA-256 and renames it into place. */
async function fetchInto(job: FetchJob, fetchImpl: FetchLike, options: DownloadOptions): Promise<number> {
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new Error(`no data for ${idleMs >= 1000 ? `${Math.round(idleMs / 1000)} s` : `${idleMs} ms`}`),
      ),
    idleMs,
  );
  const temp = join(job.folder, `.${job.file.file}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  let handle: FileHandle | null = null;
  let placed = false;
  try {
    let response: Response;
    try {
      response = await fetchImpl(job.url, {
        signal: controller.signal,
        headers: { 'accept-encoding': 'identity' },
      });
    } catch (error) {
      throw new ConnectError(describeNetworkError(error));
    }
    if (!response.ok) throw new HttpStatusError(`HTTP ${response.status}`);
    if (!response.body) throw new HttpStatusError('empty response');
    const length = Number(response.headers.get('content-length'));
    const total = length > 0 ? length : (job.file.bytes ?? null);
    handle = await open(temp, 'wx');
    const hash = createHash('sha256');
    const reader = response.body.getReader();
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      timer.refresh();
      hash.update(value);
      await writeAll(handle, value);
      received += value.length;
      options.onProgress?.({
        name: job.name,
        file: job.file.file,
        url: job.url,
        received,
        total,
        index: job.index,
        files: job.files,
      });
    }
    await handle.sync();
    await handle.close();
    handle = null;
    const digest = hash.digest('hex');
    if (digest !== job.file.sha256.toLowerCase()) throw new ChecksumError(job.url, digest);
    await rename(temp, job.target);
    placed = true;
    return received;
  } finally {
    clearTimeout(timer);
    if (handle) await handle.close().catch(() => undefined);
    if (!placed) await rm(temp, { force: true }).catch(() => undefined);
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

function offlineMessage(
  name: DatasetName,
  folder: string,
  files: readonly OfficialFile[],
  detail: string,
): string {
  const firsts = files.map((f) => f.urls[0] ?? f.file);
  const base = firsts[0]!.slice(0, firsts[0]!.lastIndexOf('/') + 1);
  const sources =
    base && firsts.every((u) => u.startsWith(base))
      ? `${files.map((f) => f.file).join(', ')} from ${base}`
      : firsts.join(' ');
  return (
    `cannot download ${name}: this machine has no internet access (${detail}); ` +
    `on a machine that has, fetch ${sources} and copy the files into ${folder}, ` +
    `or point --data-dir (or TOPDOWN_DATA) at a folder that already has them`
  );
}

/**
 * Downloads a dataset's official files into `<dataDir>/<downloadFolder>/`, trying each file's mirrors in
 * order. Each file is streamed to a temporary file in that folder, its SHA-256 checked, and then renamed
 * atomically into place; a file that is already there with the official checksum is kept.
 * @throws TopdownUnavailableError when no mirror can be reached (no internet access) or all answer with an
 *   HTTP error
 * @throws DataFormatError when a downloaded file's SHA-256 is not the official one (nothing is kept)
 * @throws TopdownUsageError when the folder cannot be created
 */
export async function downloadDataset(
  name: DatasetName,
  dataDir: string,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  const spec = DATASETS[name];
  const files = options.files ?? spec.downloads;
  const fetchImpl: FetchLike = options.fetchImpl ?? ((url, init) => fetch(url, init));
  const folder = join(dataDir, spec.downloadFolder);
  const created = !existsSync(folder);
  try {
    ensureFolder(folder);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new TopdownUsageError(`cannot create the data folder ${folder} (${e.code ?? e.message})`);
  }
  const result: DownloadResult = { name, folder, files: [] };
  try {
    for (const [index, file] of files.entries()) {
      const target = join(folder, file.file);
      if (existsSync(target) && (await sha256OfFile(target)) === file.sha256.toLowerCase()) {
        result.files.push({ file: file.file, path: target, bytes: statSync(target).size, url: null });
        continue;
      }
      const failures: string[] = [];
      let mismatch: ChecksumError | null = null;
      let connectOnly = true;
      let done = false;
      for (const url of file.urls) {
        try {
          const bytes = await fetchInto(
            { name, file, url, folder, target, index, files: files.length },
            fetchImpl,
            options,
          );
          result.files.push({ file: file.file, path: target, bytes, url });
          done = true;
          break;
        } catch (error) {
          if (error instanceof TopdownUsageError || error instanceof TopdownUnavailableError) throw error;
          if (error instanceof ChecksumError) {
            mismatch = error;
            failures.push(`${url}: wrong SHA-256`);
          } else if (error instanceof ConnectError) {
            failures.push(`${hostOf(url)}: ${error.message}`);
          } else {
            const what =
              error instanceof HttpStatusError
                ? error.message
                : `interrupted (${describeNetworkError(error)})`;
            failures.push(`${url}: ${what}`);
          }
          if (!(error instanceof ConnectError)) connectOnly = false;
        }
      }
      if (done) continue;
      if (mismatch) {
        throw new DataFormatError(
          mismatch.url,
          `downloaded ${file.file} has SHA-256 ${mismatch.actual}, expected ${file.sha256}; nothing was kept`,
        );
      }
      if (!connectOnly || failures.length === 0) {
        const why = failures.length ? failures.join('; ') : 'no download address';
        throw new TopdownUnavailableError(`cannot download ${file.file} for ${name}: ${why}`);
      }
      throw new TopdownUnavailableError(offlineMessage(name, folder, files, failures.join('; ')));
    }
  } finally {
    try {
      if (created && readdirSync(folder).length === 0) rmdirSync(folder);
    } catch {
      // best effort: an empty folder left behind is harmless
    }
  }
  return result;
}
