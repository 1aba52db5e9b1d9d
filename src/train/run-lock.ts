/**
 * Exclusive use of a run folder: `run.lock` holds the owner's pid and host, created by a hard link (which
 * fails when the name exists) so two processes can never both believe they own the folder. A lock whose
 * process is gone (killed, machine restarted) is stale and taken over. On a results directory shared between
 * machines the owner's liveness cannot be asked of another host: the owner touches its lock every
 * {@link LOCK_HEARTBEAT_MS}, and a lock of another host untouched for {@link LOCK_STALE_MS} (its machine lost,
 * its process killed) is stale too.
 */
import { hostname } from 'node:os';
import { linkSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { TopdownUsageError } from '../core/errors.js';
import { fileError } from '../core/files.js';

export const LOCK_FILE = 'run.lock';

/** How often an owner touches its lock, and after how long without a touch another host's lock is stale. */
export const LOCK_HEARTBEAT_MS = 10_000;
export const LOCK_STALE_MS = 60_000;

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** True when `pid` is a live process on this machine. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isSafeInteger(owner.pid) ? owner : null;
  } catch {
    return null; // torn or foreign: treated as stale
  }
}

/** Milliseconds since the lock file was last touched (Infinity when it cannot be read). */
function untouchedFor(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

export class RunLock {
  private held = true;
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(readonly path: string) {
    this.heartbeat = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(path, now, now);
      } catch {
        // the folder went away: nothing to keep
      }
    }, LOCK_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /**
   * Takes `dir`'s lock, or throws a one-line error naming the process that holds it; `name` is what the
   * message calls the locked thing (default: `dir`) and `orElse` what else the user may do.
   */
  static acquire(dir: string, inUse: { name?: string; orElse?: string } = {}): RunLock {
    const path = join(dir, LOCK_FILE);
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    // the lock appears with its content in one step (a hard link of a file written first), so no other
    // process can ever read it empty and take it for stale
    const draft = `${path}.${process.pid}`;
    try {
      writeFileSync(draft, JSON.stringify(owner) + '\n');
    } catch (error) {
      throw fileError(`cannot lock ${dir}`, error);
    }
    try {
      return RunLock.link(dir, path, draft, inUse.name ?? dir, inUse.orElse ? `, or ${inUse.orElse}` : '');
    } finally {
      rmSync(draft, { force: true });
    }
  }

  private static link(dir: string, path: string, draft: string, name: string, orElse: string): RunLock {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(draft, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(`cannot lock ${dir}`, error);
        const owner = readOwner(path);
        if (owner && owner.host === hostname() && owner.pid !== process.pid && alive(owner.pid)) {
          throw new TopdownUsageError(
            `${name} is in use by another topdown process (pid ${owner.pid}, since ${owner.since}); wait for it to end${orElse}`,
          );
        }
        if (owner && owner.host !== hostname() && untouchedFor(path) < LOCK_STALE_MS) {
          throw new TopdownUsageError(
            `${name} is in use by a topdown process on ${owner.host} (pid ${owner.pid}, since ${owner.since}); wait for it to end${orElse}`,
          );
        }
        rmSync(path, { force: true }); // stale: its process (or its machine) is gone
        continue;
      }
      return new RunLock(path);
    }
    throw new TopdownUsageError(`cannot lock ${dir}: another process keeps taking it`);
  }

  /** Gives the folder up (only if this process still owns the lock). */
  release(): void {
    if (!this.held) return;
    this.held = false;
    clearInterval(this.heartbeat);
    if (readOwner(this.path)?.pid === process.pid) rmSync(this.path, { force: true });
  }
}
