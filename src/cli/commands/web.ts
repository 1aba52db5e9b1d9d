import { statSync } from 'node:fs';
import { resolve } from 'node:path';

import type { Command } from 'commander';

import { TopdownUsageError } from '../../core/errors.js';
import { resolveDataDir } from '../../data/paths.js';
import { asArgParser } from '../engine-flags.js';
import type { CliIO } from '../io.js';
import { printable, quoted } from '../../core/untrusted.js';
import { nonEmpty } from '../parse.js';
import { isLoopbackHost, startWebServer } from '../web-server.js';

export interface WebFlags {
  dataDir?: string;
  port: number;
  host: string;
}

/** Serves the app until Ctrl-C; resolves when the server has closed. */
export async function runWeb(flags: WebFlags, io: CliIO): Promise<void> {
  if (!isLoopbackHost(flags.host))
    throw new TopdownUsageError(
      `--host must be a loopback address (127.x.x.x, ::1 or localhost), got ${quoted(flags.host)}`,
    );
  const dataDir = resolveDataDir(flags.dataDir);
  // a folder named on purpose (the flag or TOPDOWN_DATA) must be there; the default cache may not exist yet
  if (flags.dataDir !== undefined || process.env.TOPDOWN_DATA) {
    const source = flags.dataDir !== undefined ? '--data-dir' : 'TOPDOWN_DATA';
    let folder: boolean;
    try {
      folder = statSync(dataDir).isDirectory();
    } catch {
      throw new TopdownUsageError(`${source}: no folder "${printable(dataDir)}"`);
    }
    if (!folder) throw new TopdownUsageError(`${source}: "${printable(dataDir)}" is not a folder`);
  }
  const { server, url, index } = await startWebServer({ dataDir, port: flags.port, host: flags.host });
  // Ctrl-C is handled before the URL is printed: a script that reads the URL and interrupts at once is honoured
  const stopped = new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.closeAllConnections();
      server.close(() => done());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const found = index.datasets.map((d) => d.name).join(', ') || 'no dataset (the page takes dropped files)';
  io.err(`topdown web: data from ${printable(resolve(dataDir))}: ${found}\n`);
  io.out(`${url}\n`);
  io.err('press Ctrl-C to stop\n');
  await stopped;
  io.err('topdown web: stopped\n');
}

export function registerWebCommand(program: Command, io: CliIO): void {
  program
    .command('web')
    .description(
      'serve the browser app and your datasets on this machine (threads on: the page is cross-origin isolated); prints its URL',
    )
    .option(
      '--data-dir <dir>',
      'the data folder whose datasets the page offers (default: TOPDOWN_DATA, else the per-user cache); a folder named here or in TOPDOWN_DATA must exist',
      nonEmpty('--data-dir'),
    )
    .option(
      '--port <n>',
      'port (0: any free port)',
      asArgParser((v) => {
        const n = /^\d+$/.test(v) ? Number(v) : NaN;
        if (!(n >= 0 && n <= 65535)) throw new TopdownUsageError('--port must be an integer from 0 to 65535');
        return n;
      }),
      8600,
    )
    .option(
      '--host <address>',
      'loopback address to listen on (127.x.x.x, ::1 or localhost); requests naming another host are refused',
      '127.0.0.1',
    )
    .action((flags: WebFlags) => runWeb(flags, io));
}
