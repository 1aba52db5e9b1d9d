// The page's settings: generated from the option schemas, carried by the URL, turned into runs.
import { describe, expect, it } from 'vitest';

import { optionSections } from '../src/rules/registry.js';
import { resolveTrainConfig } from '../src/train/config.js';
import {
  PAGE_DEFAULTS,
  coreFormFields,
  queryFromState,
  runInputs,
  sectionGroups,
  stateFromQuery,
  stateProblem,
} from '../web/src/page-state.js';

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

  it('says which value is wrong as the flag would', () => {
    expect(stateProblem(stateFromQuery('rule=pepita&epochs=0'))).toBe('--epochs must be a positive integer');
    expect(stateProblem(stateFromQuery('rule=pepita&mode=fast'))).toMatch(/^--mode must be one of /);
    expect(stateProblem(stateFromQuery('rule=pepita&hidden=1,x'))).toBe(
      '--hidden must be a comma-separated list of positive integers',
    );
  });
});
