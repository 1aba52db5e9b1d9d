// `topdown web` at its trust boundaries, driven as a user meets them: a real server process whose served file
// fails on read, requests naming another host (DNS rebinding), paths that try to leave the app, and the
// command line's --host and --data-dir checks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runWeb } from '../src/cli/commands/web.js';
import type { CliIO } from '../src/cli/io.js';
import { allowedHostHeader, isLoopbackHost } from '../src/cli/web-server.js';
import { TopdownUsageError } from '../src/core/errors.js';

import { syntheticMnistFiles } from './web-helpers.js';

const root = join(import.meta.dirname, '..');
const CLI = join(root, 'dist/cli/main.js');
/** A file that stat calls a regular file and whose first read fails (EIO), on every Linux. */
const FAILS_ON_READ = '/proc/self/mem';

/** One GET with exactly the headers given (fetch will not send another `Host:`). */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, body, error: e.message }));
    });
    req.on('error', (e) => resolve({ status: 0, body: '', error: e.message }));
    req.end();
  });
}

/** Output of the commands run in this process (they fail before printing anything). */
const io: CliIO = { out: () => undefined, err: () => undefined, errIsTTY: false };

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('topdown web at its trust boundaries', () => {
  let server: ChildProcess;
  let url = '';
  let port = 0;
  let stderr = '';
  let dataDir = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'topdown-trust-web-'));
    mkdirSync(join(dataDir, 'mnist'));
    for (const f of syntheticMnistFiles(3, 20, 10)) {
      // the test labels: a file the server finds and lists, and that fails when it is read
      if (f.name.startsWith('t10k-labels') && existsSync(FAILS_ON_READ))
        symlinkSync(FAILS_ON_READ, join(dataDir, 'mnist', 't10k-labels-idx1-ubyte'));
      else writeFileSync(join(dataDir, 'mnist', f.name), f.bytes);
    }
    server = spawn(process.execPath, [CLI, 'web', '--data-dir', dataDir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = /^(http:\/\/127\.0\.0\.1:(\d+)\/)\n/m.exec(out);
        if (line) resolve(line[1]!);
      });
      server.on('close', (code) => reject(new Error(`topdown web exited (${code}): ${stderr}`)));
    });
    port = Number(new URL(url).port);
  }, 60_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const closed = new Promise((resolve) => server.on('close', resolve));
      server.kill('SIGINT');
      await closed;
    }
  });

  it.runIf(existsSync(FAILS_ON_READ))(
    'answers a served file that fails on read with a 500, and stays up',
    async () => {
      const index = JSON.parse((await get(`${url}data/index.json`)).body) as {
        datasets: { files: { url: string }[] }[];
      };
      const broken = index.datasets[0]!.files.find((f) => f.url.endsWith('t10k-labels-idx1-ubyte'))!;
      expect(broken).toBeDefined();
      const failed = await get(url + broken.url);
      expect(failed).toEqual({ status: 500, body: 'cannot read this file' });
      // the server is still there, and serves the rest
      expect((await get(`${url}data/mnist/train-labels-idx1-ubyte.gz`)).status).toBe(200);
      expect((await get(url)).status).toBe(200);
      expect(server.exitCode).toBeNull();
      expect(stderr).not.toMatch(/\n\s+at |Error/);
    },
  );

  it('refuses a request naming another host (DNS rebinding), and serves its own names', async () => {
    const refused = await get(url, { Host: `evil.example:${port}` });
    expect(refused.status).toBe(403);
    expect(refused.body).toBe(
      `host "evil.example:${port}" refused: topdown web answers only to localhost:${port}, 127.x.x.x:${port} or [::1]:${port}\n`,
    );
    expect((await get(`${url}data/index.json`, { Host: 'evil.example' })).status).toBe(403);
    expect((await get(url, { Host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await get(url, { Host: `localhost.evil.example:${port}` })).status).toBe(403);
    expect((await get(url, { Host: `user@localhost:${port}` })).status).toBe(403);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `127.9.9.9:${port}`])
      expect((await get(url, { Host: host })).status, host).toBe(200);
    expect(allowedHostHeader(`[::1]:${port}`, port)).toBe(true);
    expect(allowedHostHeader('localhost', 80)).toBe(true);
    expect(allowedHostHeader(undefined, port)).toBe(false);
  });

  it('keeps requested paths inside the app and the listed data files', async () => {
    for (const path of [
      '../package.json',
      '..%2fpackage.json',
      '%2e%2e/package.json',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      'assets/..%2f..%2f..%2fpackage.json',
      '..%5c..%5cpackage.json',
      '%00index.html',
      'data/mnist/../../package.json',
      'data/mnist/..%2f..%2fpackage.json',
      `data${encodeURIComponent(dataDir)}/mnist/train-labels-idx1-ubyte.gz`,
      '%2fetc%2fpasswd',
      '//etc/passwd',
    ]) {
      const { status } = await get(`${url}${path}`);
      expect([400, 404], path).toContain(status);
    }
    expect((await get(`${url}index.html`)).status).toBe(200);
  });

  it('takes only a loopback --host: a malformed address is one line, exit 2', async () => {
    const run = cli('web', '--host', '127.999.999.999', '--port', '0');
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'topdown: --host must be a loopback address (127.x.x.x, ::1 or localhost), got "127.999.999.999"\n',
    );
    expect(run.stdout).toBe('');
    for (const host of [
      '127.0.0.1.evil',
      '128.0.0.1',
      '0.0.0.0',
      '127.1',
      '127.0.0.01',
      '::2',
      '',
      'evil.example',
    ])
      await expect(runWeb({ host, port: 0 }, io), host).rejects.toThrow(
        `--host must be a loopback address (127.x.x.x, ::1 or localhost), got "${host}"`,
      );
    for (const host of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', 'localhost'])
      expect(isLoopbackHost(host), host).toBe(true);
  });

  it('names a --data-dir that does not exist, in one line, exit 2', async () => {
    const missing = join(dataDir, 'nope');
    const run = cli('web', '--data-dir', missing, '--port', '0');
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`topdown: --data-dir: no folder "${missing}"\n`);
    const file = join(dataDir, 'mnist', 'train-labels-idx1-ubyte.gz');
    await expect(runWeb({ dataDir: file, host: '127.0.0.1', port: 0 }, io)).rejects.toThrow(
      new TopdownUsageError(`--data-dir: "${file}" is not a folder`),
    );
  });
});
