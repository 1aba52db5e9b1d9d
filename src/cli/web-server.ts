/**
 * The server behind `topdown web`: the built browser app and the official files of the datasets found in a
 * data folder, on a loopback address, with the headers that make the page cross-origin isolated (so the wasm
 * engine can run threads on a shared memory). Only the files the index lists are served from the data folder.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { basename, extname, join, normalize, relative, sep } from 'node:path';

import { TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';
import { DATASET_NAMES, DATASETS, type DatasetName } from '../data/datasets.js';
import { locateDataset } from '../data/paths.js';

/** The data folder's index the page reads (`data/index.json`). */
export interface ServedIndex {
  datasets: { name: DatasetName; title: string; files: { name: string; url: string }[] }[];
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Headers of every response: cross-origin isolation (threads), and no caching of a local tool's files. */
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
  'X-Content-Type-Options': 'nosniff',
};

/** The datasets found in `dataDir`, each with the URLs of its stored files. */
export function servedIndex(dataDir: string | null): { index: ServedIndex; files: Map<string, string> } {
  const files = new Map<string, string>();
  const index: ServedIndex = { datasets: [] };
  if (!dataDir) return { index, files };
  for (const name of DATASET_NAMES) {
    let paths: string[];
    try {
      const location = locateDataset(name, dataDir);
      paths = location.kind === 'folder' ? [...location.train, ...location.test] : [location.where];
    } catch {
      continue; // not there, or incomplete: the page offers to drop its files
    }
    const entry = { name, title: DATASETS[name].title, files: [] as { name: string; url: string }[] };
    for (const path of paths) {
      const parts = relative(dataDir, path).split(sep);
      const url = `data/${parts.map(encodeURIComponent).join('/')}`;
      files.set(`/data/${parts.join('/')}`, path); // by the decoded path a request names
      entry.files.push({ name: basename(path), url });
    }
    index.datasets.push(entry);
  }
  return { index, files };
}

/** The app's folder in this installation (dist/web), or an error saying how to build it. */
export function appFolder(): string {
  const dir = new URL('../web/', import.meta.url).pathname;
  if (!existsSync(join(dir, 'index.html')))
    throw new TopdownUnavailableError(
      `the browser app is not built (${dir}index.html is missing): run npm run build`,
    );
  return dir;
}

export interface WebServerOptions {
  /** The built app (default: this installation's). */
  appDir?: string;
  /** The data folder whose datasets are served, or null for none. */
  dataDir: string | null;
  port: number;
  host: string;
}

/** Starts the server; resolves with it and its URL once it listens. */
export async function startWebServer(
  options: WebServerOptions,
): Promise<{ server: Server; url: string; index: ServedIndex }> {
  const appDir = normalize(options.appDir ?? appFolder());
  const { index, files } = servedIndex(options.dataDir);
  const server = createServer((req, res) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...HEADERS, 'Content-Type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad path');
    }
    if (path === '/data/index.json') return send(200, JSON.stringify(index), TYPES['.json']);
    const file = path.startsWith('/data/')
      ? files.get(path)
      : safeJoin(appDir, path === '/' ? '/index.html' : path);
    if (!file || !existsSync(file) || !statSync(file).isFile()) return send(404, 'not found');
    res.writeHead(200, {
      ...HEADERS,
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size,
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new TopdownUsageError(`port ${options.port} is in use: choose another with --port`)
          : error.code === 'EACCES'
            ? new TopdownUsageError(
                `cannot listen on port ${options.port} (permission denied): choose another with --port`,
              )
            : error,
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { server, url: `http://${host}:${port}/`, index };
}

/** `root` + `path`, or null when the path leaves `root`. */
function safeJoin(root: string, path: string): string | null {
  const full = normalize(join(root, path));
  return full.startsWith(root) ? full : null;
}
