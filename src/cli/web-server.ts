/**
 * The server behind `topdown web`: the built browser app and the official files of the datasets found in a
 * data folder, on a loopback address, with the headers that make the page cross-origin isolated (so the wasm
 * engine can run threads on a shared memory). Only the files the index lists are served from the data folder.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import { basename, extname, join, normalize, relative, sep } from 'node:path';

import { TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';
import { pathInside, quoted } from '../core/untrusted.js';
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

/**
 * Whether `host` names this machine's loopback interface: `localhost`, an IPv4 address in 127.0.0.0/8 (four
 * decimal octets of 0 to 255) or the IPv6 loopback `::1` (in any of its spellings).
 */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  if (isIPv4(host)) return host.split('.')[0] === '127';
  if (!isIPv6(host)) return false;
  try {
    return new URL(`http://[${host}]/`).hostname === '[::1]';
  } catch {
    return false;
  }
}

/**
 * Whether a request's `Host:` header names this server: a loopback name or address with the port it listens
 * on. A page of another site whose name was made to resolve to 127.0.0.1 (DNS rebinding) sends its own name,
 * and is refused.
 */
export function allowedHostHeader(header: string | undefined, port: number): boolean {
  if (!header) return false;
  let url: URL;
  try {
    url = new URL(`http://${header}/`);
  } catch {
    return false;
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return false;
  const name = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isLoopbackHost(name) && Number(url.port || 80) === port;
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
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    if (!allowedHostHeader(req.headers.host, port))
      return send(
        403,
        `host ${quoted(req.headers.host ?? '')} refused: topdown web answers only to localhost:${port}, 127.x.x.x:${port} or [::1]:${port}\n`,
      );
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
    let size: number;
    try {
      const stat = file ? statSync(file) : null;
      if (!file || !stat?.isFile()) return send(404, 'not found');
      size = stat.size;
    } catch {
      return send(404, 'not found');
    }
    serveFile(file, size, req, res, send);
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

/**
 * Streams a file; a read error (the file removed, unreadable or failing underneath) is a 500 when nothing has
 * been sent yet, else the connection is cut, so the client sees the response was incomplete. The server stays up.
 */
function serveFile(
  file: string,
  size: number,
  req: IncomingMessage,
  res: ServerResponse,
  send: (status: number, body: string) => void,
): void {
  const head = () => {
    if (res.headersSent) return;
    res.writeHead(200, {
      ...HEADERS,
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': size,
    });
  };
  if (req.method === 'HEAD') {
    head();
    res.end();
    return;
  }
  const stream = createReadStream(file);
  // headers wait for the first bytes, so that a file that cannot be read at all is answered with a 500
  stream.on('data', (chunk) => {
    head();
    if (!res.write(chunk)) {
      stream.pause();
      res.once('drain', () => stream.resume());
    }
  });
  stream.on('end', () => {
    head();
    res.end();
  });
  stream.on('error', (error) => {
    if (!res.headersSent) send(500, 'cannot read this file');
    else res.destroy(error);
  });
  res.on('close', () => stream.destroy());
}

/**
 * `root` + `path`, or null when the path could leave `root`: each part of the request's path must be one
 * plain file name (no `..`, no separator, no control character), checked by the shared path helper.
 */
function safeJoin(root: string, path: string): string | null {
  let full = root;
  try {
    for (const part of path.split('/')) if (part !== '') full = pathInside(full, part, 'the path');
  } catch {
    return null;
  }
  full = normalize(full);
  const rel = relative(root, full);
  return rel !== '' && !rel.startsWith('..') ? full : null;
}
