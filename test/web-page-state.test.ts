// The page's settings: generated from the option schemas, carried by the URL, turned into runs.
import { describe, expect, it } from 'vitest';

import { RULE_NAMES, optionSections } from '../src/rules/registry.js';
import { resolveTrainConfig } from '../src/train/config.js';
import {
  PAGE_DEFAULTS,
  coreFormFields,
  fieldOf,
  holdToField,
  parsePageUrl,
  queryFromState,
  runInputs,
  sectionGroups,
  stateFromQuery,
  stateProblem,
} from '../web/src/page-state.js';
import { SLIDERS, THEORY_DEFAULTS } from '../web/src/theory-state.js';

describe('the page state', () => {
  it('opens on MNIST, PEPITA and a small net when the URL names nothing', () => {
    const s = stateFromQuery('');
    expect(s).toEqual({ data: 'mnist', rules: ['pepita'], values: { ...PAGE_DEFAULTS } });
    const [run] = runInputs(s);
    expect(resolveTrainConfig({ ...run, data: 'mnist' })).toMatchObject({
      rule: 'pepita',
      hidden: [256],
      epochs: 3,
      trainSubset: 10000,
    });
  });

  it("an architecture typed over the page's default widths trains that architecture; widths typed beside it are one line", () => {
    const s = stateFromQuery('');
    s.values.arch = 'fc100-fc';
    const [run] = runInputs(s);
    expect(resolveTrainConfig({ ...run, data: 'mnist' })).toMatchObject({ arch: 'fc100-fc', hidden: [100] });
    s.values.hidden = '64';
    expect(() => resolveTrainConfig({ ...runInputs(s)[0], data: 'mnist' })).toThrow(
      /hidden.*conflicts with .*arch fc100-fc/,
    );
  });

  it('round-trips through the URL, keeping only what differs from the schema defaults', () => {
    const s = stateFromQuery(
      'data=cifar10&rule=pepita,bp&hidden=512,256&epochs=4&mode=hebbian&mirror=true&mirror-lr=0.05&lr=0.01',
    );
    expect(s.rules).toEqual(['pepita', 'bp']);
    const q = queryFromState(s);
    expect(q).toBe(
      'data=cifar10&rule=pepita,bp&hidden=512,256&epochs=4&lr=0.01&mode=hebbian&mirror=true&mirror-lr=0.05',
    );
    expect(stateFromQuery(q)).toEqual(s);
    // a default written out is left out of the link; unknown keys are ignored
    expect(queryFromState(stateFromQuery('rule=bp&epochs=100&frobnicate=3'))).toBe('data=mnist&rule=bp');
  });

  it("gives each rule only its sections' options", () => {
    const runs = runInputs(
      stateFromQuery(
        'rule=pepita,bp,ff&mode=hebbian&mirror=true&feedback-init=normal&ff-threshold=2&epochs=2',
      ),
    );
    expect(runs[0]).toMatchObject({ rule: 'pepita', mode: 'hebbian', mirror: true, epochs: 2 });
    expect(runs[1]).toEqual({ rule: 'bp', epochs: 2 });
    expect(runs[2]).toMatchObject({ rule: 'ff', ffThreshold: 2 });
    for (const r of runs) expect(() => resolveTrainConfig({ ...r, data: 'mnist' })).not.toThrow();
    // an optional section's options count only when it is switched on
    expect(runInputs(stateFromQuery('rule=pepita&mirror-lr=0.05'))[0]).toEqual({ rule: 'pepita' });
  });

  it('has a field for every option of every section, and none for what a page cannot set', () => {
    const flags = sectionGroups().flatMap((g) => g.fields.map((f) => f.flag));
    expect(sectionGroups().map((g) => g.section.key)).toEqual(optionSections().map((s) => s.key));
    expect(new Set(flags).size).toBe(flags.length);
    const core = coreFormFields().map((f) => f.name);
    for (const hidden of ['dataDir', 'engine', 'threads', 'rule', 'data']) expect(core).not.toContain(hidden);
    expect(core).toContain('hidden');
  });

  it('says which value typed in the form is wrong as the flag would', () => {
    const typed = (values: Record<string, string>) =>
      stateProblem({ data: 'mnist', rules: ['pepita'], values });
    expect(typed({ epochs: '0' })).toBe('--epochs must be a positive integer');
    expect(typed({ mode: 'fast' })).toMatch(/^--mode must be one of /);
    expect(typed({ hidden: '1,x' })).toBe('--hidden must be a comma-separated list of positive integers');
  });

  it("holds a link's values to the controls' ranges, and says what it changed", () => {
    const { state, notes } = parsePageUrl('rule=pepita,pepita,nope&epochs=0&mode=fast&hidden=1,x&lr=abc');
    expect(state.rules).toEqual(['pepita']);
    expect(state.values).toEqual({ epochs: '1' }); // the nearest positive integer; the rest: their defaults
    expect(stateProblem(state)).toBeNull();
    expect(notes).toHaveLength(5);
    expect(notes[0]).toBe('rule: only ' + RULE_NAMES.join(', ') + ' are known, each once');
    expect(notes[1]).toBe('epochs=0 is out of range: 1 used');
    expect(notes[2]).toMatch(/^mode="fast" is not a value of --mode: \w+ used$/);
    expect(holdToField(fieldOf('hidden')!, ' 512, 0.4 ,1e3 ')).toBe('512,1,1000');
    expect(parsePageUrl('data=../../etc&tab=evil').state.data).toBe('mnist');
    expect(parsePageUrl('data=../../etc&tab=evil').tab).toBe('train');
  });

  it('holds the theory sliders to their bounds and steps', () => {
    const { tab, theory, notes } = parsePageUrl(
      '?tab=theory&theory-D=1e9&theory-tMax=1e15&theory-lr=0&theory-K=2.6&theory-seed=&theory-rules=bp,bp',
    );
    expect(tab).toBe('theory');
    expect(theory.values).toEqual({ ...THEORY_DEFAULTS, D: 1000, tMax: 4000, lr: 0.001, K: 3 });
    expect(theory.rules).toEqual(['bp']);
    expect(notes[0]).toBe('theory-D=1e9 is outside the slider (50 to 1000): 1000 used');
    // the defaults and what the sliders themselves set pass untouched
    expect(parsePageUrl('tab=theory&theory-D=100&theory-tMax=300&theory-lr=0.0891').notes).toEqual([]);
  });

  it('never throws on a link, and every value it keeps is one the controls take', () => {
    const fields = [
      ...coreFormFields(),
      ...sectionGroups().flatMap((g) => (g.toggle ? [g.toggle, ...g.fields] : g.fields)),
    ];
    const pieces = [
      '0',
      '-1',
      '1e9',
      '1e400',
      'NaN',
      '',
      ' ',
      ',',
      '1,,2',
      '0x10',
      '2.5',
      'true',
      '%',
      '\u0000',
    ];
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const keys = [
      ...fields.map((f) => f.flag),
      ...SLIDERS.map((s) => `theory-${s.key}`),
      'rule',
      'data',
      'tab',
    ];
    for (let i = 0; i < 1000; i++) {
      const params = new URLSearchParams();
      for (let j = random(6); j >= 0; j--) {
        const value = Array.from({ length: 1 + random(3) }, () => pieces[random(pieces.length)]).join(
          random(2) ? ',' : '',
        );
        params.append(keys[random(keys.length)]!, value);
      }
      const parsed = parsePageUrl(params.toString());
      expect(stateProblem(parsed.state)).toBeNull();
      for (const s of SLIDERS) {
        const v = parsed.theory.values[s.key]!;
        const low = s.log ? 10 ** s.min : s.min;
        const high = s.log ? 10 ** s.max : s.max;
        expect(v >= low && v <= high, `${params} ${s.key}=${v}`).toBe(true);
      }
    }
  });
});
