/**
 * `topdown data list` and `topdown data download NAME`: what is in the data folder, and fetching the
 * official files.
 */
import { relative } from 'node:path';

import { Argument, type Command } from 'commander';

import {
  DATASET_NAMES,
  downloadDataset,
  listDatasets,
  resolveDataDir,
  type DatasetName,
  type DownloadProgress,
  type DatasetStatus,
} from '../../data/index.js';
import type { CliIO } from '../io.js';

/** Flags of `topdown data list`. */
export interface DataListFlags {
  dataDir?: string;
  json?: boolean;
}

/** Flags of `topdown data download`. */
export interface DataDownloadFlags {
  dataDir?: string;
}

const DATA_DIR_HELP = 'data folder (default: TOPDOWN_DATA, else the user cache folder ~/.cache/topdown/data)';

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  '))
    .join('\n');
}

/** Runs `topdown data list`: a table (or JSON) of each dataset's status in the data folder. */
export function runDataList(flags: DataListFlags, io: CliIO): DatasetStatus[] {
  const dataDir = resolveDataDir(flags.dataDir);
  const statuses = listDatasets(dataDir, {
    onCheck: (name) => {
      if (io.errIsTTY) io.err(`\r\x1b[Kchecking ${name} ...`);
    },
  });
  if (io.errIsTTY) io.err('\r\x1b[K');
  if (flags.json) {
    io.out(JSON.stringify({ dataDir, datasets: statuses }, null, 2) + '\n');
    return statuses;
  }
  const rows = [['name', 'status', 'detail', 'where']];
  for (const s of statuses) {
    const where = relative(dataDir, s.where) || '.';
    rows.push([s.name, s.status, s.detail, where.startsWith('..') ? s.where : where]);
  }
  io.out(`data folder: ${dataDir}\n${table(rows)}\n`);
  return statuses;
}

/** Runs `topdown data download NAME`: downloads and checks the official files; progress on a terminal. */
export async function runDataDownload(name: DatasetName, flags: DataDownloadFlags, io: CliIO): Promise<void> {
  const dataDir = resolveDataDir(flags.dataDir);
  let last = 0;
  const onProgress = (p: DownloadProgress): void => {
    const now = Date.now();
    if (!io.errIsTTY || (now - last < 100 && p.received !== p.total)) return;
    last = now;
    const size = p.total
      ? `${megabytes(p.received)} / ${megabytes(p.total)} (${Math.floor((100 * p.received) / p.total)}%)`
      : megabytes(p.received);
    io.err(`\r\x1b[K[${p.index + 1}/${p.files}] ${p.file} ${size}`);
  };
  try {
    const result = await downloadDataset(name, dataDir, { onProgress });
    if (io.errIsTTY) io.err('\r\x1b[K');
    const lines = result.files.map(
      (f) => `  ${f.file}  ${megabytes(f.bytes)}  ${f.url === null ? 'already present' : `from ${f.url}`}`,
    );
    io.out(`${name}: official files (SHA-256 checked) in ${result.folder}\n${lines.join('\n')}\n`);
  } catch (error) {
    if (io.errIsTTY) io.err('\r\x1b[K');
    throw error;
  }
}

/**
 * Adds `topdown data list [--data-dir DIR] [--json]` and `topdown data download NAME [--data-dir DIR]` to
 * the program. Errors are thrown (usage, format and unavailable errors) for the program to report.
 */
export function registerDataCommands(program: Command, io: CliIO): void {
  const data = program.command('data').description('list, check and download the datasets');
  data
    .command('list')
    .description(
      'status of each dataset in the data folder: missing, invalid, valid or verified (official bytes)',
    )
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .option('--json', 'print one JSON object: {dataDir, datasets: [{name, status, detail, files, where}]}')
    .action((flags: DataListFlags) => void runDataList(flags, io));
  data
    .command('download')
    .description("download a dataset's official files into the data folder, checking their SHA-256")
    .addArgument(new Argument('<name>', 'dataset').choices(DATASET_NAMES))
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action((name: DatasetName, flags: DataDownloadFlags) => runDataDownload(name, flags, io));
  for (const command of [data, ...data.commands]) {
    command.exitOverride().configureOutput(program.configureOutput());
  }
}
