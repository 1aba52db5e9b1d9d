/** Flags and help generated from the schemas, as a user meets them on the command line. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sectionFields } from '../src/core/options.js';
import { optionSections, RULE_NAMES, ruleDefinition, rulesUsing } from '../src/rules/registry.js';
import { coreFields, resolveMergedConfig, resolveTrainConfig } from '../src/train/config.js';
import { presetConfig } from '../src/train/presets.js';

import { runCliCaptured } from './helpers.js';
import { writeSyntheticMnist } from './train-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'topdown-cli-options-'));
const data = join(tmp, 'data');
beforeAll(() => writeSyntheticMnist(data, 4, 3000, 300));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = runCliCaptured;

describe('train flags come from the schemas', () => {
  it('every option of every section and of the run is a flag of train', async () => {
    const help = (await run(['train', '--help'])).out;
    for (const f of coreFields()) expect(help).toContain(`--${f.flag}`);
    for (const s of optionSections())
      for (const f of sectionFields(s)) expect(help).toContain(`--${f.flag} `);
    expect(help).toContain('--mirror ');
    expect(help).toMatch(/--ff-threshold <LIST>\s+theta.*\[rule ff\]/s);
  });

  it.each(RULE_NAMES.map((r) => [r]))(
    'train --help --rule %s lists only the options that apply',
    async (rule) => {
      const help = (await run(['train', '--help', '--rule', rule])).out;
      const used = new Set(ruleDefinition(rule).sections.map((s) => s.key));
      for (const s of optionSections()) {
        for (const f of sectionFields(s)) {
          if (used.has(s.key)) expect(help, f.flag).toContain(`--${f.flag} `);
          else expect(help, f.flag).not.toContain(`--${f.flag} `);
        }
      }
      expect(help).toContain('--epochs');
    },
  );

  it("help shows a rule's own defaults", async () => {
    const help = (await run(['train', '--help', '--rule', 'ff'])).out.replace(/\s+/g, ' ');
    expect(help).toMatch(/--optimizer <NAME> .*\(default: adam for rule ff\)/);
    expect(help).toMatch(/--dropout <P> .*\(default: 0 for rule ff\)/);
  });

  it.each([
    [['--ff-threshold', '3'], /flags: --ff-threshold applies to rule ff, not pepita/],
    [['--rule', 'bp', '--sign', 'plus'], /flags: --sign applies to rules pepita, afa, not bp/],
    [
      ['--rule', 'ff', '--backward-scale', '2'],
      new RegExp(`--backward-scale applies to rules ${rulesUsing('backward').join(', ')}, not ff`),
    ],
    [['--rule', 'fa', '--mode', 'hebbian'], /--mode applies to rule pepita, not fa/],
    [['--ff-threshold', 'x'], /--ff-threshold must be a comma-separated list of numbers/],
    [['--rule', 'ff', '--dropout', '0.2'], /rule ff does not use dropout/],
  ])('%j is refused with one line', async (args, message) => {
    const r = await run(['train', '--data-dir', data, '--out', join(tmp, 'never'), ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('a config file may use sections or flat keys, and flags win', async () => {
    const out = join(tmp, 'dry');
    const { writeFileSync } = await import('node:fs');
    const file = join(tmp, 'ff.yaml');
    writeFileSync(
      file,
      'rule: ff\nhidden: [40, 30]\nff:\n  negatives: all\n  threshold: 5\nff-label-value: 0.5\n',
    );
    const r = await run(['train', '--config', file, '--ff-threshold', '7,8', '--out', out, '--dry-run']);
    expect(r.code, r.err).toBe(0);
    const config = JSON.parse(r.out);
    expect(config.ff).toMatchObject({ negatives: 'all', threshold: [7, 8], labelValue: 0.5 });
    expect(config).toMatchObject({ optimizer: 'adam', lr: 0.001, dropout: 0 });
  });
});

describe('--hidden and --arch (issue 28: decided, not silent)', () => {
  const preset = (name: string): [Record<string, unknown>, string] => [
    presetConfig(name) as Record<string, unknown>,
    `preset ${name}`,
  ];

  it('an empty --hidden is refused, pointing at --arch fc, the way to no hidden layer', () => {
    expect(() => resolveTrainConfig({ hidden: [] }, 'flags')).toThrow(
      /hidden: needs at least one width \(for a network with no hidden layer, give --arch fc\)/,
    );
    const linear = resolveTrainConfig({ rule: 'bp', arch: 'fc' });
    expect(linear.hidden).toEqual([]);
    // a resolved config (a run's config.json, a runner's job) holds both, equal: it resolves again unchanged
    expect(resolveTrainConfig(linear)).toEqual(linear);
    const conv = resolveMergedConfig(preset('pepita-conv-mnist'));
    expect(resolveTrainConfig(conv)).toEqual(conv);
  });

  it('hidden widths arch would replace are refused when given with it or after it; an earlier source gives way', () => {
    expect(() => resolveTrainConfig({ hidden: [16], arch: 'fc100-fc' }, 'flags')).toThrow(
      /hidden 16 conflicts with .*arch fc100-fc, which sets the hidden widths \(100\): give one of them/,
    );
    expect(() => resolveMergedConfig(preset('pepita-conv-mnist'), [{ hidden: [64] }, 'flags'])).toThrow(
      /flags: --hidden 64 conflicts with preset pepita-conv-mnist: arch conv32x5-pool2-fc/,
    );
    // a later arch replaces an earlier source's widths: a preset's, or a resolved config's stale ones
    expect(resolveMergedConfig(preset('pepita-mnist'), [{ arch: 'fc64-fc' }, 'flags']).hidden).toEqual([64]);
    const conv = resolveMergedConfig(preset('pepita-conv-mnist'));
    expect(resolveMergedConfig([conv, 'config file run.json'], [{ arch: 'fc32-fc' }, 'grid']).hidden).toEqual(
      [32],
    );
    // the same widths written twice are harmless, and so is an empty list (a cleared form field)
    expect(resolveTrainConfig({ hidden: [100], arch: 'fc100-fc' }).hidden).toEqual([100]);
    expect(resolveTrainConfig({ hidden: [], arch: 'fc100-fc' }).hidden).toEqual([100]);
  });
});

describe('FF through the command line', () => {
  it('bench train --rule ff builds the model as train does', async () => {
    const r = await run([
      'bench',
      'train',
      '--rule',
      'ff',
      '--data',
      'mnist',
      '--hidden',
      '32,32',
      '--batches',
      '2',
      '--warmup',
      '1',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ rule: 'ff', sizes: [784, 32, 32, 10], batches: 2 });
    expect(report.samples_per_s).toBeGreaterThan(0);
  });

  it("train --rule ff with nothing else learns, and its summary gives both classifiers' accuracies", async () => {
    const out = join(tmp, 'ff');
    const r = await run([
      'train',
      '--rule',
      'ff',
      '--data-dir',
      data,
      '--hidden',
      '64',
      '--epochs',
      '2',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const m = r.out.match(/test accuracy ([\d.]+)%, goodness classifier ([\d.]+)% after 2 epochs/);
    expect(m, r.out).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(60);
    expect(Number(m![2])).toBeGreaterThan(60);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.ff.threshold).toEqual([64]);
  });
});
