import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'topdown-cli-theory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function topdown(args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'theory', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SMALL = ['--D', '300', '--t-max', '3', '--t-min', '0.1', '--points', '6', '--lr', '0.5'];

interface JsonCurve {
  kind: string;
  rule: string;
  t: number[];
  eg: number[];
  eg_std?: number[];
  angles: Record<string, Array<number | null>>;
}

describe('topdown theory (spawned)', () => {
  it('--json prints ODE and seed-averaged simulation curves on one grid, the same with 1 or 2 workers', () => {
    const args = [...SMALL, '--rule', 'pepita,dfa', '--seeds', '2', '--json'];
    const two = topdown([...args, '--workers', '2']);
    expect(two.err).toBe('');
    expect(two.code).toBe(0);
    const result = JSON.parse(two.out) as {
      curves: JsonCurve[];
      max_rel_gap: number;
      problem: { D: number };
    };
    expect(result.problem.D).toBe(300);
    expect(result.curves.map((c) => `${c.kind}:${c.rule}`)).toEqual([
      'ode:pepita',
      'ode:dfa',
      'sim:pepita',
      'sim:dfa',
    ]);
    const t = result.curves[0]!.t;
    expect(t[0]).toBe(0);
    expect(t.at(-1)).toBeCloseTo(3, 10);
    for (const c of result.curves) {
      expect(c.t).toEqual(t);
      expect(c.eg).toHaveLength(t.length);
      expect(c.eg.every((e) => e > 0 && e < 5)).toBe(true);
      expect(c.angles.teacher).toHaveLength(t.length);
    }
    expect(result.curves[2]!.eg_std).toHaveLength(t.length);
    expect(typeof result.max_rel_gap).toBe('number');
    // identical numbers whatever the parallelism (only the timings differ)
    const withoutTimes = (text: string) => JSON.parse(text.replace(/"seconds":[0-9.e+-]+/g, '"seconds":0'));
    const one = topdown([...args, '--workers', '1']);
    expect(withoutTimes(one.out)).toEqual(withoutTimes(two.out));
  });

  it('--ode alone integrates only (no gap), and --out --plot writes the tables and both figures', () => {
    const out = join(tmp, 'run');
    const r = topdown([...SMALL, '--rule', 'bp', '--ode', '--out', out, '--plot', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { curves: JsonCurve[]; max_rel_gap: null };
    expect(result.curves.map((c) => c.kind)).toEqual(['ode']);
    expect(result.max_rel_gap).toBeNull();
    expect(JSON.parse(readFileSync(join(out, 'theory.json'), 'utf8'))).toEqual(result);
    expect(JSON.parse(readFileSync(join(out, 'problem.json'), 'utf8'))).toMatchObject({ D: 300, lr: 0.5 });
    const csv = readFileSync(join(out, 'theory.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('t,bp_ode_eg,bp_ode_angle_teacher,bp_ode_angle_degenerate,bp_ode_angle_feedback');
    expect(csv).toHaveLength(result.curves[0]!.t.length + 1);
    expect(Number(csv[1]!.split(',')[1])).toBeCloseTo(result.curves[0]!.eg[0]!, 12);
    expect(readFileSync(join(out, 'figure.svg'), 'utf8')).toMatch(
      /^<svg[\s\S]*Generalisation error[\s\S]*<\/svg>\s*$/,
    );
    const png = readFileSync(join(out, 'figure.png'));
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it('prints a readable table without --json, with the simulation-vs-ODE gap', () => {
    const r = topdown([...SMALL, '--rule', 'afa']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^eps_g \(1\/2 mean squared error\)\n\s+t\s+afa ode\s+afa sim\n/);
    expect(r.out).toMatch(/afa: simulation \(1 seed\) vs ODE: mean relative gap \d+\.\d+%, max \d+\.\d+%/);
  });

  it('reads a YAML problem file, flags override it', () => {
    const file = join(tmp, 'problem.yaml');
    writeFileSync(file, 'D: 250\nK: 3\nlr: 0.2\nt-max: 2\npoints: 4\nfeedback:\n  draw: student-mix\n');
    const r = topdown(['--config', file, '--K', '2', '--ode', '--json']);
    expect(r.code).toBe(0);
    const { problem } = JSON.parse(r.out) as { problem: Record<string, unknown> };
    expect(problem).toMatchObject({ D: 250, K: 2, lr: 0.2, tMax: 2, feedback: { draw: 'student-mix' } });
  });

  it.each([
    [['--rule', 'pepita,foo'], /unknown rule "foo"/],
    [['--K', '0'], /--K must be a positive integer/],
    [['--t-min', '5', '--t-max', '2'], /tMin: must be below tMax/],
    [['--plot'], /--plot needs --out/],
    [['--lr', '-1'], /--lr must be a number >= 0/],
    [['--config', join(tmp, 'missing.yaml')], /cannot read config file/],
    [['--eg', 'rmse'], /argument 'rmse' is invalid/],
  ])('bad input %j: one line, exit 2, nothing written', (args, message) => {
    const r = topdown([...SMALL, ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });
});
