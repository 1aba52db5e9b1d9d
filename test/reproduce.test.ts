import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { gridPoints, parseGrid } from '../src/cli/commands/reproduce.js';
import { EXIT } from '../src/cli/program.js';
import { experimentPlan, planJobs } from '../src/experiments/plan.js';
import type { TrainJob } from '../src/runner/job.js';
import { listExperiments, loadExperimentFile } from '../src/experiments/experiment.js';
import { runId } from '../src/runner/job.js';
import { runState } from '../src/runner/local.js';

import { untimedMetrics, writeSyntheticMnist } from './train-helpers.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
let tmp: string;
let data: string;
let experiment: string;

function topdown(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** An experiment of two small cells on synthetic MNIST-shaped data (and optionally one that cannot run). */
function writeExperiment(file: string, epochs: number, failing = false): void {
  const cell = (id: string, rule: string) =>
    `  - { id: ${id}, config: { rule: ${rule}, data: mnist, hidden: [16], batchSize: 50, trainSubset: 400, testSubset: 100, lr: 0.05 } }\n`;
  writeFileSync(
    file,
    `name: ${file.split('/').pop()!.replace('.yaml', '')}\ndescription: a tiny test experiment\nseeds: 2\nepochs: ${epochs}\ncells:\n` +
      cell('pepita', 'pepita') +
      cell('bp', 'bp') +
      (failing
        ? '  - { id: missing-data, config: { rule: bp, data: fashion-mnist, hidden: [8], trainSubset: 100 } }\n'
        : ''),
  );
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'topdown-reproduce-'));
  data = join(tmp, 'data');
  writeSyntheticMnist(data, 3, 400, 100);
  experiment = join(tmp, 'tiny.yaml');
  writeExperiment(experiment, 2);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const runs = (out: string): string[] => readdirSync(join(out, 'runs')).sort();

/** `topdown reproduce FILE` on 2 workers into `out`, as a child process of its own. */
const spawnReproduce = (file: string, out: string) =>
  spawn(process.execPath, [cli, 'reproduce', file, '--workers', '2', '--data-dir', data, '--out', out]);

describe('experiments as data', () => {
  it('every shipped experiment loads, validates its cells, and reproduce --list prints it with a cost', () => {
    const all = listExperiments();
    expect(all.map((e) => e.name)).toEqual(expect.arrayContaining(['baselines', 'fig3c', 'fig-s1']));
    expect(all.map((e) => e.name)).toEqual(expect.arrayContaining(['fig2-theory', 'fig-s2', 'fig2a']));
    for (const e of all) expect(e.configs.size + e.problems.size).toBe(e.cells.length);
    const theory = all.find((e) => e.name === 'fig2-theory')!;
    expect(theory.problems.get('pepita-afa')).toMatchObject({ D: 500, K: 2, M: 2, lr: 0.05 });
    const r = topdown(['reproduce', '--list']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^baselines\s+240 runs\s+~[\d.]+ h\s+BP, FA, DRTP and PEPITA/m);
    expect(r.out).toMatch(/^fig2-theory\s+1 runs\s+~\d+ s\s+teacher-student theory/m);
  });

  it('theory cells are checked against the theory problem, and kinds are not mixed', () => {
    const write = (name: string, body: string): string => {
      const f = join(tmp, `${name}.yaml`);
      writeFileSync(f, `name: ${name}\ndescription: x\nseeds: 1\n${body}`);
      return f;
    };
    const noRules = write('t1', 'kind: theory\ncells:\n  - { id: a, theory: { D: 20 } }\n');
    expect(() => loadExperimentFile(noRules)).toThrow(/cell a: a theory cell needs `theory`.*and `rules`/);
    const badProblem = write('t2', 'kind: theory\ncells:\n  - { id: a, rules: [afa], theory: { D: 1 } }\n');
    expect(() => loadExperimentFile(badProblem)).toThrow(/cell a: D: /);
    const mixed = write('t3', 'cells:\n  - { id: a, rules: [afa], theory: { D: 20 } }\n');
    expect(() => loadExperimentFile(mixed)).toThrow(/`theory` and `rules` need kind: theory/);
    const badReading = write(
      't4',
      'kind: curves\ncells:\n  - { id: a, readings: [{ value: 1, tol: 1, source: s }] }\n',
    );
    expect(() => loadExperimentFile(badReading)).toThrow(
      /readings.0: a reading names either `at` or `feature`/,
    );
  });

  it('a bad cell is one line naming the file and the cell', () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'name: bad\ndescription: x\nseeds: 1\ncells:\n  - { id: a, config: { lr: -1 } }\n');
    expect(() => loadExperimentFile(bad)).toThrow(/bad.yaml: .*cell a.*lr/);
  });

  it('a run is named by its configuration without epochs or engine settings; seeds make distinct runs', () => {
    const e = loadExperimentFile(experiment);
    const jobs = (budget: Parameters<typeof experimentPlan>[1]) =>
      planJobs(experimentPlan(e, budget)) as TrainJob[];
    const short = jobs({ epochs: 1 });
    const long = jobs({ epochs: 5 });
    expect(short.map((j) => j.id)).toEqual(long.map((j) => j.id));
    expect(new Set(short.map((j) => j.id)).size).toBe(4);
    expect(runId({ ...short[0]!.config, threads: 7, engine: 'js' })).toBe(short[0]!.id);
    expect(jobs({ trainSubset: 200 })[0]!.id).not.toBe(short[0]!.id);
  });
});

describe('the runner', () => {
  it('runs every cell x seed on 2 workers, then skips them all; more epochs extend the same runs', () => {
    const out = join(tmp, 'out-a');
    const first = topdown(['reproduce', experiment, '--workers', '2', '--data-dir', data, '--out', out]);
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(/4 runs in .*, 2 at a time with 1 thread each/);
    expect(first.err).toMatch(/4 of 4 runs done, 0 failed, 0 interrupted/);
    expect(runs(out)).toHaveLength(4);
    for (const id of runs(out)) expect(runState(join(out, 'runs', id)).epochs).toBe(2);
    const again = topdown(['reproduce', experiment, '--workers', '2', '--data-dir', data, '--out', out]);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toMatch(/4 of 4 runs done/);
    const before = untimedMetrics(join(out, 'runs', runs(out)[0]!));
    expect(untimedMetrics(join(out, 'runs', runs(out)[0]!))).toEqual(before);
    // the manifest lets report aggregate the directory
    const report = topdown(['report', out, '--json']);
    expect(report.code, report.err).toBe(0);
    const cells = JSON.parse(report.out).cells;
    expect(cells.map((c: { cell: string; seeds: number }) => [c.cell, c.seeds])).toEqual([
      ['pepita', 2],
      ['bp', 2],
    ]);
    const longer = topdown(['reproduce', experiment, '--epochs', '3', '--data-dir', data, '--out', out]);
    expect(longer.code, longer.err).toBe(0);
    expect(runs(out)).toHaveLength(4);
    for (const id of runs(out)) expect(runState(join(out, 'runs', id)).epochs).toBe(3);
    // one cell at another budget would replace the manifest and drop the other cell from the report
    const subset = topdown([
      'reproduce',
      experiment,
      '--cells',
      'bp',
      '--seeds',
      '1',
      '--epochs',
      '3',
      '--data-dir',
      data,
      '--out',
      out,
    ]);
    expect(subset.code).toBe(EXIT.usage);
    expect(subset.err.trim().split('\n')).toHaveLength(1);
    expect(subset.err).toMatch(
      /holds 2 cells at 2 seeds x 3 epochs on a data subset; this run's budget \(1 seed x 3 epochs on a data subset\) would replace it and drop 1 of them.*keep --seeds 2 --epochs 3/,
    );
    const kept = JSON.parse(topdown(['report', out, '--json']).out).cells;
    expect(kept.map((c: { cell: string }) => c.cell)).toEqual(['pepita', 'bp']);
    expect(runs(out)).toHaveLength(4);
  });

  it('Ctrl-C stops every run with a checkpoint (exit 130); running again resumes them bit for bit', async () => {
    const file = join(tmp, 'slow.yaml');
    writeExperiment(file, 6);
    const reference = join(tmp, 'out-ref');
    const ref = topdown(['reproduce', file, '--workers', '2', '--data-dir', data, '--out', reference]);
    expect(ref.code, ref.err).toBe(0);
    const out = join(tmp, 'out-int');
    const child = spawnReproduce(file, out);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // wait until a run has finished an epoch, then interrupt
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        const dir = join(out, 'runs');
        if (existsSync(dir) && readdirSync(dir).some((id) => runState(join(dir, id)).epochs >= 1)) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(130);
    expect(err).toMatch(
      /stopped: \d of 4 runs done, 0 failed, [12] interrupted; results in .*; run the same command again/,
    );
    const resumed = topdown(['reproduce', file, '--workers', '2', '--data-dir', data, '--out', out]);
    expect(resumed.code, resumed.err).toBe(0);
    expect(runs(out)).toEqual(runs(reference));
    for (const id of runs(reference)) {
      expect(untimedMetrics(join(out, 'runs', id))).toEqual(untimedMetrics(join(reference, 'runs', id)));
    }
  });

  it('a runner killed with SIGKILL: its runs notice, save a checkpoint and stop (no orphan trains on)', async () => {
    const file = join(tmp, 'orphans.yaml');
    // far more epochs than the runs get before the kill, however fast the machine
    writeExperiment(file, 5000);
    const out = join(tmp, 'out-orphans');
    const child = spawnReproduce(file, out);
    const dir = join(out, 'runs');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (
          existsSync(dir) &&
          readdirSync(dir).filter((id) => runState(join(dir, id)).epochs >= 1).length >= 2
        ) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    child.kill('SIGKILL');
    const running = (): string[] =>
      spawnSync('pgrep', ['-f', `train .*${out}`], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .filter(Boolean);
    const end = Date.now() + 20_000;
    while (running().length && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(running()).toEqual([]);
    const states = readdirSync(dir).map((id) => runState(join(dir, id)));
    const started = states.filter((s) => s.epochs >= 1);
    expect(started.length).toBeGreaterThanOrEqual(2);
    for (const s of started) {
      expect(s.hasCheckpoint).toBe(true);
      expect(s.epochs).toBeLessThan(5000);
    }
    // and the same command resumes them
    const again = topdown(['reproduce', file, '--epochs', '3', '--data-dir', data, '--out', out]);
    expect(again.code, again.err).toBe(0);
  }, 180_000);

  it('a run that fails is reported in one line and the others are kept', () => {
    const file = join(tmp, 'failing.yaml');
    writeExperiment(file, 1, true);
    const out = join(tmp, 'out-fail');
    const r = topdown(['reproduce', file, '--data-dir', data, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/failing\/missing-data seed 0 failed: .*fashion-mnist/);
    expect(r.err).toMatch(/4 of 6 runs done, 2 failed/);
    expect(runs(out).filter((id) => runState(join(out, 'runs', id)).epochs === 1)).toHaveLength(4);
  });
});

describe('theory experiments on the runner', () => {
  it('runs a theory cell once (ODEs and simulations), skips it after, and the report compares its shape', () => {
    const file = join(tmp, 'tiny-theory.yaml');
    writeFileSync(
      file,
      [
        'name: tiny-theory',
        'description: a small teacher-student problem',
        'seeds: 2',
        'kind: theory',
        'metric: eg',
        'cells:',
        '  - id: afa',
        '    rules: [pepita, afa]',
        '    theory: { D: 40, K: 2, M: 2, lr: 0.5, tMax: 30, points: 12, feedback: { draw: student-mix } }',
        '    readings:',
        '      - { feature: start, value: 100, tol: 1, source: test }',
        '      - { metric: angle_feedback, at: 30, value: 0, tol: 180, source: test }',
        '',
      ].join('\n'),
    );
    const out = join(tmp, 'out-theory');
    const first = topdown(['reproduce', file, '--out', out]);
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(/tiny-theory\/afa \(2 simulations per rule\): done/);
    expect(runs(out)).toHaveLength(1);
    const folder = join(out, 'runs', runs(out)[0]!);
    for (const f of ['theory.json', 'theory.csv', 'problem.json', 'figure.svg']) {
      expect(existsSync(join(folder, f)), f).toBe(true);
    }
    const result = JSON.parse(readFileSync(join(folder, 'theory.json'), 'utf8'));
    expect(result.curves.map((c: { rule: string; kind: string }) => `${c.rule} ${c.kind}`).sort()).toEqual([
      'afa ode',
      'afa sim',
      'pepita ode',
      'pepita sim',
    ]);
    expect(result.curves.find((c: { kind: string }) => c.kind === 'sim').seeds).toBe(2);
    const stamp = statSync(join(folder, 'theory.json')).mtimeMs;
    const again = topdown(['reproduce', file, '--out', out]);
    expect(again.code, again.err).toBe(0);
    expect(statSync(join(folder, 'theory.json')).mtimeMs).toBe(stamp);

    const report = topdown(['report', out, '--json']);
    expect(report.code, report.err).toBe(0);
    const json = JSON.parse(report.out);
    expect(json.kinds['tiny-theory']).toBe('theory');
    // the ODE once (PEPITA's is AFA's), each rule's simulation
    expect(json.theory.map((t: { series: string }) => t.series)).toEqual([
      'AFA ODE',
      'PEPITA sim',
      'AFA sim',
    ]);
    const start = json.theory[0].start;
    expect(start).toBeCloseTo(result.curves[0].eg[0], 12);
    const [byStart, byAngle] = json.readings;
    expect(byStart.ours.map((o: { value: number }) => o.value)).toEqual([start, start, start]);
    expect(byStart.verdict).toBe('differs');
    expect(byAngle.verdict).toBe('matches');
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('teacher-student theory, ODEs and 2 simulations per rule');
    expect(md).toContain('### Shapes of the curves');
    expect(md).toContain('![tiny-theory, afa](figures/tiny-theory-afa.svg)');
    const svg = readFileSync(join(out, 'figures', 'tiny-theory-afa.svg'), 'utf8');
    expect(svg).toContain('Generalisation error');
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(10);
  });
});

describe('sweep', () => {
  it('parses a grid with the flags parsers and expands every combination', () => {
    const axes = parseGrid(['lr=0.1,0.01', 'hidden=16,16/8', 'rule=bp,pepita', 'bias=true,false']);
    expect(axes).toEqual([
      { key: 'lr', values: [0.1, 0.01] },
      { key: 'hidden', values: [[16, 16], [8]] },
      { key: 'rule', values: ['bp', 'pepita'] },
      { key: 'bias', values: [true, false] },
    ]);
    expect(gridPoints(axes)).toHaveLength(16);
    expect(gridPoints(axes.slice(0, 2))).toEqual([
      { lr: 0.1, hidden: [16, 16] },
      { lr: 0.1, hidden: [8] },
      { lr: 0.01, hidden: [16, 16] },
      { lr: 0.01, hidden: [8] },
    ]);
    expect(() => parseGrid(['nope=1'])).toThrow(/no train option "nope"/);
    expect(() => parseGrid(['lr=-1'])).toThrow(/--lr must be a number >= 0/);
    expect(() => parseGrid(['rule=xyz'])).toThrow(/--rule must be one of/);
    expect(() => parseGrid(['lr'])).toThrow(/expected key=value1,value2/);
  });

  it('runs the grid x seeds on the runner and leaves a manifest the report reads', () => {
    const config = join(tmp, 'base.yaml');
    writeFileSync(
      config,
      'data: mnist\nhidden: [8]\nepochs: 1\ntrainSubset: 200\ntestSubset: 50\nbatchSize: 50\n',
    );
    const out = join(tmp, 'out-sweep');
    const args = ['sweep', config, '--grid', 'lr=0.1,0.01', '--seeds', '2', '--data-dir', data, '--out', out];
    const r = topdown(args);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/4 of 4 runs done/);
    const report = topdown(['report', out, '--json']);
    const json = JSON.parse(report.out);
    // the subsets the config file set are the budget the report states
    expect(json.budget.base).toMatchObject({ trainSubset: 200, testSubset: 50 });
    const cells = json.cells.map((c: { cell: string; seeds: number }) => [c.cell, c.seeds]);
    expect(cells).toEqual([
      ['lr=0.1', 2],
      ['lr=0.01', 2],
    ]);
    expect(topdown(args).err).toMatch(/4 of 4 runs done/);
  });
});
