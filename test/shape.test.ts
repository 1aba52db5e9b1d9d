import { describe, expect, it } from 'vitest';

import type { Reading } from '../src/experiments/experiment.js';
import {
  escapeOf,
  featureOf,
  measureReading,
  plateauOf,
  readingLabel,
  valueAt,
} from '../src/reports/shape.js';

/** A learning curve on a log grid: flat at 1.2, down to a plateau of 0.6 over t = 10..300, then to 0. */
function learningCurve(): { x: number[]; y: number[] } {
  const x = [0, ...Array.from({ length: 41 }, (_, i) => 10 ** (-2 + (i * 6) / 40))];
  const y = x.map((t) => 0.6 + 0.6 / (1 + (t / 3) ** 2) - 0.6 / (1 + (1000 / t) ** 4));
  return { x, y };
}

describe('curve shapes', () => {
  it('interpolates linearly between points and is null outside the curve', () => {
    const c = { x: [1, 2, 4], y: [10, 20, 0] };
    expect(valueAt(c, 1)).toBe(10);
    expect(valueAt(c, 1.5)).toBe(15);
    expect(valueAt(c, 3)).toBe(10);
    expect(valueAt(c, 4)).toBe(0);
    expect(valueAt(c, 0.5)).toBeNull();
    expect(valueAt(c, 5)).toBeNull();
    expect(valueAt({ x: [], y: [] }, 1)).toBeNull();
  });

  it('finds the start, end, extremes, the plateau and its escape of a known curve', () => {
    const c = learningCurve();
    expect(featureOf(c, 'start')).toEqual({ value: c.y[0], at: 0 });
    expect(featureOf(c, 'final')!.at).toBe(1e4);
    expect(featureOf(c, 'max')!.value).toBeCloseTo(1.2, 3);
    expect(featureOf(c, 'min')!.value).toBeLessThan(0.01);
    const plateau = plateauOf(c)!;
    // the flattest point of the 0.6 plateau: between the two transitions (about t = 3 and t = 1000)
    expect(plateau.value).toBeGreaterThan(0.58);
    expect(plateau.value).toBeLessThan(0.62);
    expect(plateau.at).toBeGreaterThan(20);
    expect(plateau.at).toBeLessThan(300);
    const escape = escapeOf(c)!;
    // below 0.9 x plateau: 0.6 / (1 + (1000/t)^4) > 0.06 + ..., i.e. t of about 600
    expect(escape.at).toBeGreaterThan(400);
    expect(escape.at).toBeLessThan(900);
    expect(escape.value).toBeLessThan(0.9 * plateau.value);
  });

  it('has no plateau on a curve that does not fall, and measures readings by value or feature', () => {
    expect(plateauOf({ x: [1, 2, 3, 4], y: [1, 1, 1, 1] })).toBeNull();
    expect(escapeOf({ x: [1, 2, 3, 4], y: [1, 2, 3, 4] })).toBeNull();
    const c = learningCurve();
    const at: Reading = { at: 1, value: 1, tol: 0.1, source: 's' };
    const escape: Reading = { feature: 'escape', value: 500, tol: 100, source: 's' };
    const plateau: Reading = { feature: 'plateau', value: 0.6, tol: 0.1, source: 's' };
    expect(measureReading(c, at)).toBeCloseTo(valueAt(c, 1)!, 12);
    expect(measureReading(c, escape)).toBe(escapeOf(c)!.at);
    expect(measureReading(c, plateau)).toBe(plateauOf(c)!.value);
    expect(readingLabel(at, 't')).toBe('t = 1');
    expect(readingLabel({ ...at, at: 25 }, 'epoch')).toBe('epoch 25');
    expect(readingLabel(escape, 't')).toBe('escape time');
  });
});
