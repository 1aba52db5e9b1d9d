/**
 * The README as a user meets it: its generated tables match the schemas, every TypeScript example runs as
 * written against the built package, and every `topdown train` command it shows is a valid configuration.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readmeTables, withGeneratedTables } from '../src/cli/docs.js';

import { writeSyntheticMnist } from './train-helpers.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'topdown-readme-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The fenced blocks of a language, in order. */
function blocks(lang: string): string[] {
  return [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** Table text without the padding prettier adds. */
const unpadded = (text: string): string => text.replace(/ +/g, ' ').replace(/-{3,}/g, '---');

const shared = join(root, '..', 'shared', 'data');
let dataDir = shared;
beforeAll(() => {
  // examples import 'topdown' as a user's program would: through node_modules/topdown -> this package
  mkdirSync(join(tmp, 'node_modules'));
  symlinkSync(root, join(tmp, 'node_modules', 'topdown'), 'dir');
  if (!existsSync(join(shared, 'mnist'))) {
    dataDir = join(tmp, 'data');
    writeSyntheticMnist(dataDir, 1, 2000, 500);
  }
});

describe('README', () => {
  it('its generated tables are current (npm run docs regenerates them)', () => {
    expect(Object.keys(readmeTables()).length).toBeGreaterThan(3);
    expect(unpadded(withGeneratedTables(readme))).toBe(unpadded(readme));
  });

  const examples = blocks('ts');
  it('has TypeScript examples', () => expect(examples.length).toBeGreaterThanOrEqual(3));

  it.each(examples.map((code, i) => [i + 1, code] as const))(
    'TypeScript example %i runs as written',
    (i, code) => {
      const js = ts.transpileModule(code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      const file = join(tmp, `example-${i}.mjs`);
      writeFileSync(file, js);
      const r = spawnSync(process.execPath, [file], {
        cwd: tmp,
        encoding: 'utf8',
        env: { ...process.env, TOPDOWN_DATA: dataDir, TOPDOWN_ENGINE: undefined },
      });
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.status, r.stderr).toBe(0);
    },
  );

  const trainLines = blocks('sh')
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('npx topdown train ') && !l.includes('--resume'));
  it.each(trainLines)('`%s` is a valid command', (line) => {
    const args = line.split(/\s+/).slice(2);
    const help = args.includes('--help');
    const r = spawnSync(process.execPath, [cli, ...args, ...(help ? [] : ['--dry-run'])], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    if (!help) expect(JSON.parse(r.stdout)).toHaveProperty('rule');
  });
});
