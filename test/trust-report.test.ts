/**
 * `topdown report` on a results folder someone sent you (issue 28, defects 7-9): a copy of real results from
 * docs/results, edited as the issue describes, reported by the real CLI. What is not valid is refused in one
 * line naming the file and the field, exit 2, and nothing is written, inside the folder or outside it.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { parseManifest, parseMetricsLine, parseRunConfig, parseTheoryOutput } from '../src/reports/inputs.js';

import { runCliCaptured } from './helpers.js';

const RESULTS = join(import.meta.dirname, '..', 'docs', 'results');
/** A theory experiment (one run) and a curves experiment whose run has goodness histograms. */
const THEORY = 'fig2-theory';
const CURVES = 'fig-s2';

let root: string;
let base: string;

const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** Every file and folder under `dir`, relative to it. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => relative(dir, join(dir, f))).sort();
}

/** A fresh copy of the small results folder at `<case>/a/b/results` (so `../..` stays inside `<case>`). */
function results(name: string): { top: string; dir: string } {
  const top = join(root, name);
  const dir = join(top, 'a', 'b', 'results');
  cpSync(base, dir, { recursive: true });
  return { top, dir };
}

function editJson(file: string, edit: (value: Record<string, unknown>) => void): void {
  const value = readJson(file);
  edit(value);
  writeFileSync(file, JSON.stringify(value, null, 2));
}

const cellsOf = (manifest: Record<string, unknown>) => manifest.cells as { id: string; runs: string[] }[];

/** The run folder of an experiment's first cell in `dir`. */
function runOf(dir: string, experiment: string): string {
  const manifest = readJson(join(dir, 'experiments', `${experiment}.json`));
  return join(dir, 'runs', cellsOf(manifest)[0]!.runs[0]!);
}

/**
 * Reports `dir` (into `out` when given) and checks the refusal: exit 2, one line matching `message`, and no
 * file written or changed under `top`.
 */
async function expectRefused(top: string, dir: string, message: RegExp, out?: string): Promise<void> {
  const before = listing(top);
  const r = await runCliCaptured(['report', dir, ...(out ? ['--out', out] : [])]);
  expect(r.code, r.err).toBe(2);
  expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
  expect(r.err).toMatch(/^topdown: /);
  expect(r.err).toMatch(message);
  expect(r.out).toBe('');
  expect(listing(top)).toEqual(before);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'topdown-trust-report-'));
  base = join(root, 'base');
  mkdirSync(join(base, 'experiments'), { recursive: true });
  for (const experiment of [THEORY, CURVES]) {
    const file = join('experiments', `${experiment}.json`);
    cpSync(join(RESULTS, file), join(base, file));
    for (const cell of cellsOf(readJson(join(base, file)))) {
      for (const run of cell.runs)
        cpSync(join(RESULTS, 'runs', run), join(base, 'runs', run), { recursive: true });
    }
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('topdown report on a results folder someone sent', () => {
  it('the untouched copy reports, and a last metrics line cut by a crash is left out', async () => {
    const { dir } = results('valid');
    const metrics = join(runOf(dir, CURVES), 'metrics.jsonl');
    writeFileSync(metrics, readFileSync(metrics, 'utf8') + '{"epoch":101,"test_a');
    const out = join(root, 'valid-report');
    const r = await runCliCaptured(['report', dir, '--out', out]);
    expect(r.code, r.err).toBe(0);
    const report = readJson(join(out, 'report.json')) as { cells: { seeds: number }[]; theory: unknown[] };
    expect(report.cells.map((c) => c.seeds)).toEqual([1]);
    expect(report.theory.length).toBeGreaterThan(0);
    expect(listing(join(out, 'figures'))).toEqual([
      `${CURVES}-pepita-2x1024-goodness.png`,
      `${CURVES}-pepita-2x1024-goodness.svg`,
      `${CURVES}.png`,
      `${CURVES}.svg`,
      `${THEORY}-pepita-afa.png`,
      `${THEORY}-pepita-afa.svg`,
    ]);
  });

  it('defect 7: a manifest that is JSON of the wrong shape ({}, [], null, cells: 5) is refused, naming the file', async () => {
    const cases: [string, RegExp][] = [
      ['{}', /fig-s2\.json: experiment: missing$/m],
      ['{"cells":5}', /fig-s2\.json: experiment: missing$/m],
      ['[]', /fig-s2\.json: is a list, not a manifest$/m],
      ['null', /fig-s2\.json: is null, not a manifest$/m],
      [
        '{"experiment":"fig-s2","budget":{"seeds":1,"epochs":1,"trainSubset":null,"testSubset":null},"cells":5}',
        /fig-s2\.json: cells: .*expected array.*\(got 5\)$/m,
      ],
    ];
    for (const [text, message] of cases) {
      const { top, dir } = results(`manifest-${cases.findIndex((c) => c[0] === text)}`);
      writeFileSync(join(dir, 'experiments', `${CURVES}.json`), text);
      await expectRefused(top, dir, message, join(top, 'report'));
    }
  });

  it('defect 8: an experiment name, a cell id or a run id that leads out of the folder is refused, nothing written', async () => {
    // the experiment name named figures/../../evilreport.svg (beside the results folder) and the notes
    let { top, dir } = results('evil-experiment');
    editJson(join(dir, 'experiments', `${CURVES}.json`), (m) => (m.experiment = '../../evilreport'));
    await expectRefused(
      top,
      dir,
      /fig-s2\.json: experiment: "\.\.\/\.\.\/evilreport" holds a path separator$/m,
    );
    // a theory cell's id names its figure
    ({ top, dir } = results('evil-cell'));
    editJson(join(dir, 'experiments', `${THEORY}.json`), (m) => (cellsOf(m)[0]!.id = '../../evilcell'));
    await expectRefused(
      top,
      dir,
      /fig2-theory\.json: cells\.0\.id: "\.\.\/\.\.\/evilcell" holds a path separator$/m,
    );
    // a run id names the folder read: here a run beside the results folder
    ({ top, dir } = results('evil-run'));
    cpSync(runOf(dir, CURVES), join(dir, '..', 'victim'), { recursive: true });
    editJson(join(dir, 'experiments', `${CURVES}.json`), (m) => (cellsOf(m)[0]!.runs = ['../../victim']));
    await expectRefused(
      top,
      dir,
      /fig-s2\.json: cells\.0\.runs\.0: "\.\.\/\.\.\/victim" holds a path separator$/m,
    );
    // a name that is one file name, but too long once the figure's suffix is added, is refused before writing
    ({ top, dir } = results('long-cell'));
    editJson(join(dir, 'experiments', `${CURVES}.json`), (m) => (cellsOf(m)[0]!.id = 'c'.repeat(240)));
    await expectRefused(
      top,
      dir,
      /a figure name of experiment fig-s2 "fig-s2-c{50}.* is over 255 bytes long$/m,
    );
  });

  it('defect 9: a metrics line with an impossible accuracy or a loss that is not finite is refused, naming the file, line and field', async () => {
    const cases: [string, (line: string) => string, RegExp][] = [
      [
        'acc',
        (l) => l.replace(/"test_acc":[^,]+/, '"test_acc":-5'),
        /line 3: test_acc: must be an accuracy in \[0, 1\] \(got -5\)$/m,
      ],
      ['nan', (l) => l.replace(/"test_loss":[^,]+/, '"test_loss":NaN'), /line 3: not JSON \(/m],
      [
        'null',
        (l) => l.replace(/"test_loss":[^,]+/, '"test_loss":null'),
        /line 3: test_loss: must be a finite loss \(got null\)$/m,
      ],
      [
        'inf',
        (l) => l.replace(/"train_loss":[^,]+/, '"train_loss":1e999'),
        /line 3: train_loss: must be a finite loss \(got Infinity\)$/m,
      ],
    ];
    for (const [name, edit, message] of cases) {
      const { top, dir } = results(`metrics-${name}`);
      const file = join(runOf(dir, CURVES), 'metrics.jsonl');
      const lines = readFileSync(file, 'utf8').split('\n');
      lines[2] = edit(lines[2]!);
      writeFileSync(file, lines.join('\n'));
      await expectRefused(
        top,
        dir,
        new RegExp(`metrics\\.jsonl ${message.source}`, 'm'),
        join(top, 'report'),
      );
    }
  });

  it('a theory output (theory.json) or a run config of the wrong shape is refused, naming the file and the field', async () => {
    const cases: [string, (file: string) => void, RegExp][] = [
      ['list', (f) => writeFileSync(f, '[]'), /theory\.json: is a list, not a theory output$/m],
      [
        'curves',
        (f) => editJson(f, (t) => (t.curves = 5)),
        /theory\.json: curves: .*expected array.*\(got 5\)$/m,
      ],
      [
        'short',
        (f) => editJson(f, (t) => ((t.curves as { eg: number[] }[])[0]!.eg.length = 5)),
        /theory\.json: curves\.0\.eg: must have one value per t \(61\)$/m,
      ],
    ];
    for (const [name, edit, message] of cases) {
      const { top, dir } = results(`theory-${name}`);
      edit(join(runOf(dir, THEORY), 'theory.json'));
      await expectRefused(top, dir, message, join(top, 'report'));
    }
    const { top, dir } = results('config');
    editJson(join(runOf(dir, CURVES), 'config.json'), (c) => (c.batchSize = -3));
    await expectRefused(top, dir, /config\.json: batchSize: /m, join(top, 'report'));
  });
});

describe('the validating readers (pure: a value, or one line)', () => {
  const junk = ['', 'x', '5', 'null', '[]', '{}', '{"__proto__":{"cells":[]}}', '{"a":1e999}', '"\u001b[2J"'];

  it('return a valid value or throw a TopdownUsageError of one line naming the source', () => {
    const readers = [parseManifest, parseMetricsLine, parseTheoryOutput, parseRunConfig];
    for (const read of readers) {
      for (const text of junk) {
        let error: unknown = null;
        try {
          read(text, 'SRC');
        } catch (e) {
          error = e;
        }
        // a run config of {} is the defaults, valid
        if (error === null) continue;
        expect(error, `${read.name}(${text})`).toBeInstanceOf(TopdownUsageError);
        const message = (error as Error).message;
        expect(message).toMatch(/^SRC/);
        // eslint-disable-next-line no-control-regex
        expect(message).not.toMatch(/[\u0000-\u001f]/);
      }
    }
    expect(parseMetricsLine('{"epoch":2,"test_acc":0.5,"angle_deg":null}', 'l')).toMatchObject({ epoch: 2 });
    expect(() => parseMetricsLine('{"epoch":2,"test_acc":1.5}', 'l')).toThrow(
      'l: test_acc: must be an accuracy in [0, 1] (got 1.5)',
    );
    expect(() => parseMetricsLine('{"epoch":2,"angle_deg":200}', 'l')).toThrow('angle_deg: must be an angle');
    expect(() => parseMetricsLine('{"epoch":1,"__proto__":{"test_acc":-5}}', 'l')).toThrow('"__proto__"');
  });
});
