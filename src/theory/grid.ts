/** The shared time grid: t = 0 and log-spaced times, each snapped to a whole number of SGD steps (t = step / D). */
import type { TheoryProblem } from './problem.js';

export interface TimeGrid {
  /** Times t = steps / D, strictly increasing, starting at 0. */
  t: number[];
  /** The SGD step count at each time. */
  steps: number[];
}

export function timeGrid(problem: Pick<TheoryProblem, 'D' | 'tMin' | 'tMax' | 'points'>): TimeGrid {
  const { D, tMin, tMax, points } = problem;
  const steps = [0];
  const lo = Math.log10(tMin);
  const hi = Math.log10(tMax);
  for (let i = 0; i < points; i++) {
    const t = points === 1 ? tMax : 10 ** (lo + ((hi - lo) * i) / (points - 1));
    const step = Math.max(1, Math.round(t * D));
    if (step > steps[steps.length - 1]!) steps.push(step);
  }
  return { t: steps.map((s) => s / D), steps };
}
