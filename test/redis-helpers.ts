/**
 * A private Redis for the tests: Debian's redis-server on a free loopback port, no persistence files (no RDB
 * snapshots, no AOF; its working folder is a temporary one, removed when it stops).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const redisAvailable = (): boolean =>
  spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;

/** A free TCP port on 127.0.0.1 (free when asked; the tests start their server right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  port: number;
  url: string;
  /** Stops it (its data is gone: no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  dispose(): Promise<void>;
}

function ping(port: number, password?: string): boolean {
  const args = [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    ...(password ? ['--no-auth-warning', '-a', password] : []),
    'PING',
  ];
  const r = spawnSync('redis-cli', args, { encoding: 'utf8', timeout: 2000 });
  return r.stdout.trim() === 'PONG' || /NOAUTH/.test(r.stdout);
}

/** Starts a private Redis; `extra` are more redis-server arguments (e.g. `--requirepass`). */
export async function startRedis(extra: string[] = []): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'topdown-redis-'));
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...extra,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      if (ping(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
