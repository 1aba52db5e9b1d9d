/**
 * Where the distributed queue lives: a Redis URL (`redis://[user:password@]host:port[/db]`, `rediss://` for
 * TLS), checked and connected to with one-line errors for the usual mistakes (a wrong URL, nothing listening,
 * an unknown host, refused credentials, a Redis too old for BullMQ).
 */
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

import { TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';

/** The BullMQ queue that holds topdown's runs, and the prefix of its Redis keys. */
export const QUEUE_NAME = 'runs';
export const KEY_PREFIX = 'topdown';

/** A parsed queue URL: the options of an ioredis connection, and the URL to show (password hidden). */
export interface QueueAddress {
  options: RedisOptions;
  /** `redis://host:port/db` without credentials, for messages. */
  display: string;
}

/** Parses `--queue URL`; a one-line usage error for anything else. */
export function parseQueueUrl(text: string): QueueAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TopdownUsageError(`--queue "${text}" is not a URL; expected redis://HOST:PORT[/DB]`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new TopdownUsageError(
      `--queue "${text}": expected a redis:// (or rediss://) URL, not ${url.protocol}//`,
    );
  }
  if (!url.hostname) throw new TopdownUsageError(`--queue "${text}" names no host`);
  const port = url.port ? Number(url.port) : 6379;
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) {
    throw new TopdownUsageError(
      `--queue "${text}": the database after the "/" must be a number, not "${dbText}"`,
    );
  }
  const db = dbText === '' ? 0 : Number(dbText);
  if (db > 2 ** 31 - 1) {
    throw new TopdownUsageError(`--queue "${text}": database ${dbText} is out of range`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const options: RedisOptions = {
    host,
    port,
    db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return { options, display: `${url.protocol}//${shownHost}:${port}${db ? `/${db}` : ''}` };
}

/** The one line an error of a Redis connection is shown as. */
export function describeRedisError(address: QueueAddress, error: unknown): string {
  const e = error as NodeJS.ErrnoException & { message: string };
  const where = `Redis at ${address.display}`;
  const message = String(e?.message ?? error);
  if (e?.code === 'ECONNREFUSED')
    return `cannot reach ${where}: connection refused (is redis-server running there?)`;
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN')
    return `cannot reach ${where}: unknown host "${address.options.host}"`;
  if (e?.code === 'ETIMEDOUT' || /timed? ?out/i.test(message))
    return `cannot reach ${where}: no answer (timed out)`;
  if (/Protocol error/.test(message)) {
    return `the server at ${address.display} does not speak the Redis protocol (is it an HTTP server or a proxy?)`;
  }
  if (/Connection is closed|Stream isn't writeable/.test(message)) return `${where} closed the connection`;
  if (/WRONGPASS|invalid username-password|NOAUTH|NOPERM|AUTH/.test(message)) {
    return `${where} refused the credentials (${message.split('\n')[0]}); give them in the URL: redis://USER:PASSWORD@HOST:PORT`;
  }
  return `${where}: ${message.split('\n')[0]}`;
}

/** How long any one Redis command may go unanswered before it fails (BullMQ's blocking waits are at most 10 s). */
export const COMMAND_TIMEOUT_MS = 30_000;

/**
 * Checks that the queue's Redis answers, with these credentials, has the database the URL names (checked by
 * `SELECT` before anything else is done there), and is recent enough for BullMQ (5 or later); resolves with
 * its version, or throws one line: exit 2 for a database that is not there, exit 3 (unavailable) otherwise.
 * A server that accepts the connection and never answers fails after `timeoutMs` like one that is not there.
 */
export async function checkRedis(address: QueueAddress, timeoutMs = 5000): Promise<string> {
  const db = address.options.db ?? 0;
  const client = new Redis({
    ...address.options,
    // selected by hand below, so that a database that is not there is an error, not database 0
    db: 0,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // the socket's own error (ECONNREFUSED, ENOTFOUND, ...) arrives here; the promise only says "closed"
  let socketError: unknown = null;
  client.on('error', (error) => (socketError = error));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), timeoutMs + 1000);
  });
  try {
    return await Promise.race([deadline, checkOn(client, address, db)]);
  } catch (error) {
    if (error instanceof TopdownUnavailableError || error instanceof TopdownUsageError) throw error;
    // a command on a connection the server has just closed fails with one of these; the socket's own
    // error (an HTTP server's answer read as a protocol error, say) says why
    const closed = /Connection is closed|Stream isn't writeable/.test(String((error as Error)?.message));
    throw new TopdownUnavailableError(
      describeRedisError(address, closed && socketError ? socketError : error),
    );
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

async function checkOn(client: Redis, address: QueueAddress, db: number): Promise<string> {
  await client.connect();
  if (db !== 0) {
    try {
      await client.select(db);
    } catch (error) {
      const message = String((error as Error)?.message ?? error);
      if (!/DB index is out of range|invalid DB index|ERR/i.test(message)) throw error;
      const count = await client
        .config('GET', 'databases')
        .then((r) => Number((r as string[])[1]))
        .catch(() => NaN);
      const has = Number.isFinite(count) ? ` (it has databases 0 to ${count - 1})` : '';
      throw new TopdownUsageError(
        `--queue ${address.display}: Redis has no database ${db}${has}; nothing was done there`,
      );
    }
  }
  await client.ping();
  const info = await client.info('server');
  const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? '0';
  if (Number(version.split('.')[0]) < 5) {
    throw new TopdownUnavailableError(
      `Redis at ${address.display} is version ${version}; the queue needs Redis 5 or later`,
    );
  }
  return version;
}

/**
 * Connection options for a BullMQ worker's connections: they retry for ever while Redis is away (running
 * runs go on), and every command fails after {@link COMMAND_TIMEOUT_MS} without an answer.
 */
export function bullConnection(address: QueueAddress): ConnectionOptions {
  return {
    ...address.options,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  } as ConnectionOptions;
}

/**
 * Connection options for the queue as enqueuers and `topdown queue` use it (no blocking commands): every
 * command fails after `timeoutMs` without an answer, so a server that stops answering is an error, not a
 * command that waits for ever.
 */
export function queueConnection(address: QueueAddress, timeoutMs = 10_000): ConnectionOptions {
  return { ...bullConnection(address), commandTimeout: timeoutMs } as ConnectionOptions;
}
