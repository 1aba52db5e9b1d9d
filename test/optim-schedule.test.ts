import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { PAPER_STEP_DECAY, stepDecayLr, type StepDecayOptions } from '../src/optim/index.js';

// stepDecayLr is pure arithmetic on numbers: no engine is involved, so these tests run once.
describe('stepDecayLr', () => {
  const paper: StepDecayOptions = { milestones: [60, 90], gamma: 0.1 };

  it('has the paper defaults', () => {
    expect(PAPER_STEP_DECAY.milestones).toEqual([60, 90]);
    expect(PAPER_STEP_DECAY.gamma).toBe(0.1);
  });

  it("decays after the milestone epoch finishes with timing 'end' (the default)", () => {
    const at = (epoch: number) => stepDecayLr(0.01, epoch, paper);
    for (const epoch of [0, 1, 59, 60]) expect(at(epoch)).toBe(0.01);
    for (const epoch of [61, 75, 90]) expect(at(epoch)).toBe(0.01 * 0.1);
    for (const epoch of [91, 99, 1000]) expect(at(epoch)).toBe(0.01 * 0.1 * 0.1);
    expect(stepDecayLr(0.01, 60, { ...paper, timing: 'end' })).toBe(0.01);
  });

  it("decays from the milestone epoch itself with timing 'start'", () => {
    const at = (epoch: number) => stepDecayLr(0.01, epoch, { ...paper, timing: 'start' });
    for (const epoch of [0, 1, 59]) expect(at(epoch)).toBe(0.01);
    for (const epoch of [60, 61, 89]) expect(at(epoch)).toBe(0.01 * 0.1);
    for (const epoch of [90, 91, 1000]) expect(at(epoch)).toBe(0.01 * 0.1 * 0.1);
  });

  it('handles a milestone at epoch 0, no milestones, and gamma above 1', () => {
    expect(stepDecayLr(1, 0, { milestones: [0], gamma: 0.5, timing: 'start' })).toBe(0.5);
    expect(stepDecayLr(1, 0, { milestones: [0], gamma: 0.5 })).toBe(1);
    expect(stepDecayLr(1, 1, { milestones: [0], gamma: 0.5 })).toBe(0.5);
    expect(stepDecayLr(0.3, 500, { milestones: [], gamma: 0.1 })).toBe(0.3);
    expect(stepDecayLr(1, 3, { milestones: [1, 2], gamma: 2 })).toBe(4);
    expect(stepDecayLr(0, 100, paper)).toBe(0);
  });

  it('rejects invalid inputs with usage errors naming the field', () => {
    const cases: [() => number, string][] = [
      [() => stepDecayLr(-0.1, 0, paper), 'baseLr'],
      [() => stepDecayLr(NaN, 0, paper), 'baseLr'],
      [() => stepDecayLr(Infinity, 0, paper), 'baseLr'],
      [() => stepDecayLr(0.1, -1, paper), 'epoch'],
      [() => stepDecayLr(0.1, 1.5, paper), 'epoch'],
      [() => stepDecayLr(0.1, NaN, paper), 'epoch'],
      [() => stepDecayLr(0.1, 0, { ...paper, gamma: 0 }), 'gamma'],
      [() => stepDecayLr(0.1, 0, { ...paper, gamma: -0.1 }), 'gamma'],
      [() => stepDecayLr(0.1, 0, { ...paper, gamma: NaN }), 'gamma'],
      [() => stepDecayLr(0.1, 0, { milestones: [90, 60], gamma: 0.1 }), 'milestones'],
      [() => stepDecayLr(0.1, 0, { milestones: [60, 60], gamma: 0.1 }), 'milestones'],
      [() => stepDecayLr(0.1, 0, { milestones: [-1], gamma: 0.1 }), 'milestones'],
      [() => stepDecayLr(0.1, 0, { milestones: [2.5], gamma: 0.1 }), 'milestones'],
      [() => stepDecayLr(0.1, 0, { ...paper, timing: 'middle' as 'end' }), 'timing'],
    ];
    for (const [call, field] of cases) {
      expect(call).toThrow(TopdownUsageError);
      expect(call).toThrow(field);
    }
  });
});
