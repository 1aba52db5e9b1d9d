import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';

import { registerDataCommands } from '../src/cli/commands/data.js';
import type { CliIO } from '../src/cli/io.js';
import { TopdownUnavailableError } from '../src/core/errors.js';

import { tempDir, writeIdxDataset } from './data-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs `topdown data ...` on a program holding only the data commands, capturing output and errors. */
async function run(args: string[]): Promise<{ out: string; err: string; error: unknown }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (s) => void (out += s), err: (s) => void (err += s), errIsTTY: false };
  const program = new Command('topdown')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  registerDataCommands(program, io);
  let error: unknown = null;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    error = e;
  }
  return { out, err, error };
}

describe('topdown data', () => {
  it('list prints a table with name, status, detail and where', async () => {
    const dir = tempDir();
    dirs.push(dir);
    writeIdxDataset(join(dir, 'mnist'), { gzip: true });
    const r = await run(['data', 'list', '--data-dir', dir]);
    expect(r.error).toBeNull();
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`data folder: ${dir}`);
    expect(lines[1]).toMatch(/^name +status +detail +where$/);
    expect(lines[2]).toMatch(/^mnist +valid +30 train \/ 12 test .* mnist$/);
    expect(lines[3]).toMatch(
      /^fashion-mnist +missing +not found \(run `topdown data download fashion-mnist`\) +fashion-mnist$/,
    );
    expect(lines).toHaveLength(6);
  });

  it('list --json prints the statuses', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const r = await run(['data', 'list', '--json', '--data-dir', dir]);
    const parsed = JSON.parse(r.out);
    expect(parsed.dataDir).toBe(dir);
    expect(parsed.datasets.map((d: { status: string }) => d.status)).toEqual([
      'missing',
      'missing',
      'missing',
      'missing',
    ]);
  });

  it('download validates the name and reports offline machines in one line', async () => {
    const bad = await run(['data', 'download', 'imagenet']);
    expect(bad.error).toBeInstanceOf(CommanderError);
    expect(bad.err).toMatch(/Allowed choices are mnist, fashion-mnist, cifar10, cifar100/);
    const dir = tempDir();
    dirs.push(dir);
    const saved = globalThis.fetch;
    globalThis.fetch = async () => {
      throw new TypeError('fetch failed', { cause: { code: 'EAI_AGAIN' } });
    };
    try {
      const r = await run(['data', 'download', 'mnist', '--data-dir', dir]);
      expect(r.error).toBeInstanceOf(TopdownUnavailableError);
      expect((r.error as Error).message).toMatch(/no internet access \(.*EAI_AGAIN/);
    } finally {
      globalThis.fetch = saved;
    }
  });

  it('shows help for the data commands', async () => {
    const r = await run(['data', '--help']);
    expect(r.out).toMatch(/list/);
    expect(r.out).toMatch(/download/);
  });
});
