import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { meanStd, reducedBudget, slowness, summarizeCell, verdictOf } from '../src/reports/aggregate.js';
import { readManifests, writeManifest, type Manifest } from '../src/reports/manifest.js';
import { buildReport, readNotes, reportMarkdown } from '../src/reports/report.js';
import { trainingFigureSpec, writeTrainingFigure } from '../src/reports/training-figure.js';

const cli = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
let out: string;

/** A run folder whose test accuracy follows `acc` per epoch (a fraction), plus a config.json. */
function fakeRun(id: string, acc: number[], phase = false): void {
  const dir = join(out, 'runs', id);
  mkdirSync(dir, { recursive: true });
  const lines = acc.map((a, i) => JSON.stringify({ epoch: i + 1, test_acc: a, samples_per_s: 1000 + i }));
  if (phase) lines.unshift(JSON.stringify({ epoch: 0, phase: 'pre-mirror', test_acc: 0.99 }));
  writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n') + '\n');
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      rule: 'pepita',
      data: 'mnist',
      hidden: [16],
      batchSize: 32,
      feedback: { init: 'uniform' },
    }),
  );
}

const manifest: Manifest = {
  experiment: 'toy',
  description: 'a toy table',
  kind: 'table',
  metric: 'test_acc',
  budget: { seeds: 3, epochs: 3, trainSubset: null, testSubset: null },
  cells: [
    {
      id: 'a',
      label: 'A',
      dataset: 'mnist',
      rule: 'pepita',
      published: { mean: 90, std: 1, source: 'test' },
      runs: ['r1', 'r2', 'r3'],
    },
    { id: 'b', label: 'B', dataset: 'mnist', rule: 'pepita', published: null, runs: ['r4'] },
  ],
};

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'topdown-report-'));
  fakeRun('r1', [0.5, 0.8, 0.9], true);
  fakeRun('r2', [0.5, 0.8, 0.92]);
  fakeRun('r3', [0.5, 0.8]); // not at the budget yet
  fakeRun('r4', [0.4, 0.6, 0.7]);
  mkdirSync(join(out, 'experiments'));
  writeFileSync(join(out, 'experiments', 'toy.json'), JSON.stringify(manifest));
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('aggregation', () => {
  it('mean and sample std, z in published stds and the verdict, by hand', () => {
    expect(meanStd([90, 92])).toEqual({ mean: 91, std: Math.SQRT2 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0 });
    const a = summarizeCell(out, manifest, manifest.cells[0]!);
    // seeds at epoch 3: r1 90%, r2 92% (r3 has 2 epochs; r1's pre-mirror line is not an epoch)
    expect(a.seeds).toBe(2);
    expect(a.seeds_planned).toBe(3);
    expect(a.mean).toBeCloseTo(91, 10);
    expect(a.std).toBeCloseTo(Math.SQRT2, 10);
    expect(a.z).toBeCloseTo(1, 10);
    expect(a.verdict).toBe('consistent');
    expect(a.samples_per_s).toBe(1001);
    expect(verdictOf(-2.5, 3, true)).toBe('below');
    // a preview (fewer epochs than the full budget, or a data subset) is not judged against the paper
    expect(verdictOf(-80, 2, true, true)).toBe('reduced budget');
    expect(reducedBudget(manifest)).toBe(false);
    expect(reducedBudget({ ...manifest, full: { seeds: 10, epochs: 100 } })).toBe(true);
    expect(reducedBudget({ ...manifest, budget: { ...manifest.budget, trainSubset: 500 } })).toBe(true);
    expect(verdictOf(2.5, 3, true)).toBe('above');
    expect(verdictOf(null, 0, true)).toBe('no runs yet');
    const b = summarizeCell(out, manifest, manifest.cells[1]!);
    expect(b.verdict).toBe('no published value');
    expect(b.mean).toBeCloseTo(70, 10);
    expect(a.epochs_reached).toEqual([3, 3, 2]);
    // runs that stopped (or are still computing) before the budget: unfinished, with the epochs they reached
    const short = summarizeCell(out, manifest, { ...manifest.cells[0]!, runs: ['r3'] });
    expect(short.seeds).toBe(0);
    expect(short.verdict).toBe('unfinished');
    expect(short.epochs_reached).toEqual([2]);
    expect(summarizeCell(out, manifest, { ...manifest.cells[0]!, runs: ['missing'] }).verdict).toBe(
      'no runs yet',
    );
  });

  it('the slowness fit finds the least-squares s of spec 7.2 (checked by a dense scan) and orders fast before slow', () => {
    const curve = (s: number) =>
      Array.from({ length: 60 }, (_, i) => (97 * (i + 1)) / (s + i + 1) + 0.3 * Math.sin(i));
    for (const s0 of [0.5, 2, 8]) {
      const data = [10, ...curve(s0)];
      const fit = slowness(curve(s0), 10, 60);
      expect(fit.aMax).toBe(Math.max(...data));
      const loss = (s: number) => data.reduce((t, a, x) => t + ((fit.aMax * x) / (s + x) - a) ** 2, 0);
      let best = 0;
      let bestLoss = Infinity;
      for (let s = 0.001; s < 50; s *= 1.0005) {
        const l = loss(s);
        if (l < bestLoss) [best, bestLoss] = [s, l];
      }
      expect(fit.s / best).toBeCloseTo(1, 2);
    }
    expect(slowness(curve(0.5), 10).s).toBeLessThan(slowness(curve(8), 10).s);
  });

  it('topdown report writes report.md and report.json with the cells, the budget and the costs', () => {
    const r = spawnSync(process.execPath, [cli, 'report', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.budget.toy).toEqual(manifest.budget);
    expect(json.cells[0]).toMatchObject({
      experiment: 'toy',
      dataset: 'mnist',
      rule: 'pepita',
      metric: 'test_acc',
      seeds: 2,
      published_mean: 90,
      published_std: 1,
    });
    expect(json.cells[0].mean).toBeCloseTo(91, 10);
    expect(json.cells[0].z).toBeCloseTo(1, 10);
    expect(json.costs[0]).toMatchObject({ rule: 'pepita', sizes: [784, 16, 10], batch: 32 });
    expect(json.costs[0].macs_per_step).toBeGreaterThan(0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(
      /^- \*\*toy\*\*: 3 epochs, 3 seeds per configuration, full training set, full test set$/m,
    );
    expect(md).toMatch(
      /^\| A \| mnist \| pepita \| 2\/3 \| 91\.00 \+- 1\.41 \| 90\.00 \+- 1\.00 \| 1\.0 \| consistent \|/m,
    );
    // every table row has as many cells as its header
    for (const block of md.split('\n\n').filter((b) => b.startsWith('|'))) {
      const rows = block.trim().split('\n');
      const width = rows[0]!.split('|').length;
      for (const row of rows) expect(row.split('|').length).toBe(width);
    }
    expect(buildReport(out).curves[0]).toMatchObject({ epoch: [1, 2, 3], seeds: [3, 3, 2] });
    // the experiment's figure, from the Vega-Lite spec: a line and a band per cell, as SVG and PNG
    expect(md).toMatch(/^!\[toy\]\(figures\/toy.svg\)$/m);
    const svg = readFileSync(join(out, 'figures', 'toy.svg'), 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toMatch(/test accuracy \(%\)/);
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(svg).toContain('>A<');
    expect(svg).toContain('>B<');
    const png = readFileSync(join(out, 'figures', 'toy.png'));
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    expect(png.length).toBeGreaterThan(5000);
  });

  it('curve experiments: prelude epochs first, readings against the seed-mean curve and the histograms', () => {
    const dir = mkdtempSync(join(tmpdir(), 'topdown-report-curves-'));
    try {
      const run = join(dir, 'runs', 'c1');
      mkdirSync(run, { recursive: true });
      const lines = [
        { epoch: -1, phase: 'pre-mirror', angle_deg: 90 },
        { epoch: 0, phase: 'pre-mirror', angle_deg: 88 },
        { epoch: 1, angle_deg: 60, test_acc: 0.5 },
        { epoch: 2, angle_deg: 40, test_acc: 0.6 },
      ];
      writeFileSync(join(run, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const histogram = (epoch: number, counts: number[]) =>
        JSON.stringify({
          epoch,
          edges: [-0.2, -0.1, 0, 0.1, 0.2],
          counts,
          mean: 0,
          std: 0.1,
          p05: -0.15,
          median: 0.01,
          p95: 0.15,
          n: 10,
        });
      writeFileSync(
        join(run, 'goodness-histograms.jsonl'),
        [histogram(0, [1, 2, 6, 1]), histogram(2, [0, 8, 2, 0])].join('\n') + '\n',
      );
      const curves: Manifest = {
        experiment: 'angles',
        description: 'angle curves',
        kind: 'curves',
        metric: 'angle_deg',
        budget: { seeds: 1, epochs: 2, trainSubset: 100, testSubset: null },
        cells: [
          {
            id: 'wm',
            label: 'WM',
            dataset: 'cifar10',
            rule: 'pepita',
            published: null,
            runs: ['c1'],
            readings: [
              { feature: 'start', value: 90, tol: 1, source: 's' },
              { at: 2, value: 30, tol: 5, source: 's' },
              { at: 5, value: 10, tol: 5, source: 's' },
              { at: 2, metric: 'goodness.mode', value: -0.05, tol: 0.01, source: 's' },
              { at: 0, metric: 'goodness.peak_density', value: 6, tol: 0.1, source: 's' },
            ],
          },
        ],
      };
      mkdirSync(join(dir, 'experiments'));
      writeFileSync(join(dir, 'experiments', 'angles.json'), JSON.stringify(curves));
      const report = buildReport(dir);
      expect(report.curves[0]).toMatchObject({ epoch: [-1, 0, 1, 2], mean: [90, 88, 60, 40] });
      expect(report.readings.map((r) => [r.reading, r.ours[0]!.value, r.verdict])).toEqual([
        ['start', 90, 'matches'],
        ['epoch 2', 40, 'differs'],
        ['epoch 5', null, 'not reached'],
        ['epoch 2', -0.05, 'matches'],
        // 6 of 10 samples in a bin 0.1 wide: density 6
        ['epoch 0', 6, 'matches'],
      ]);
      expect(report.histograms.map((h) => [h.epoch, h.mode, h.peak_density])).toEqual([
        [0, 0.05, 6],
        [2, -0.05, 8],
      ]);
      mkdirSync(join(dir, 'notes'));
      writeFileSync(join(dir, 'notes', 'angles.md'), 'The angle falls faster than published: see why.\n');
      const md = reportMarkdown(report, [], readNotes(dir, ['angles', 'other']));
      expect(md).toContain('### Notes\n\nThe angle falls faster than published: see why.');
      expect(md).toContain('### Against the published figure');
      expect(md).toContain('| WM | epoch 2 | angle_deg | 30 +- 5 | 40 | differs |');
      expect(md).toContain('### Goodness-difference histograms');
      expect(md).toMatch(/- \*\*angles\*\*: 2 epochs, 1 seed per configuration, first 100 training examples/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a manifest keeps the cells of earlier runs at the same budget, and is replaced at another', () => {
    const dir = mkdtempSync(join(tmpdir(), 'topdown-manifest-'));
    try {
      const [a, b] = manifest.cells;
      writeManifest(dir, { ...manifest, cells: [b!] }, ['a', 'b']);
      writeManifest(dir, { ...manifest, cells: [a!] }, ['a', 'b']);
      expect(readManifests(dir)[0]!.cells.map((c) => c.id)).toEqual(['a', 'b']);
      writeManifest(dir, { ...manifest, budget: { ...manifest.budget, epochs: 9 }, cells: [b!] });
      const [only] = readManifests(dir);
      expect(only!.cells.map((c) => c.id)).toEqual(['b']);
      expect(only!.budget.epochs).toBe(9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every run gets a training-curve figure: accuracy, loss and the angle (ticked every 45 degrees)', async () => {
    const dir = join(out, 'runs', 'curves');
    mkdirSync(dir, { recursive: true });
    const line = (e: number) =>
      JSON.stringify({
        epoch: e,
        train_acc: 0.5 + e / 10,
        test_acc: 0.4 + e / 10,
        train_loss: 2 / e,
        test_loss: 2.2 / e,
        angle_deg: 90 - 5 * e,
      });
    writeFileSync(join(dir, 'metrics.jsonl'), [1, 2, 3, 4].map(line).join('\n') + '\n');
    const spec = trainingFigureSpec([], 'empty');
    expect(spec).toBeNull();
    expect(await writeTrainingFigure(dir, 'pepita on mnist')).toEqual(['curves.svg', 'curves.png']);
    const svg = readFileSync(join(dir, 'curves.svg'), 'utf8');
    for (const text of ['accuracy (%)', 'loss', 'angle (deg)', '>135<', '>train<', '>test<'])
      expect(svg).toContain(text);
  });
});
