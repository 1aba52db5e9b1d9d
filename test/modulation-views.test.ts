import { describe, expect, it } from 'vitest';

import { JsEngine } from '../src/core/engine.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { TopDownFeedback } from '../src/feedback/top-down.js';
import { modulationViews } from '../src/rules/modulation-views.js';

describe('the modulated-input views of show-samples', () => {
  it('show x -+ k F e with k per image (max |k F e| = 0.25), and F e scaled per image', () => {
    const engine = new JsEngine();
    const rng = Rng.fromSeed(3);
    const feedback = TopDownFeedback.create([20, 8, 4], {}, rng, engine);
    const x = new Matrix(3, 20);
    rng.fillUniform(x.data);
    const targets = new Matrix(3, 4);
    for (let i = 0; i < 3; i++) targets.set(i, i, 1);
    const e = new Matrix(3, 4);
    rng.fillNormal(e.data);
    for (let j = 0; j < 4; j++) e.set(2, j, 0.01 * e.get(2, j)); // one sample with a far smaller error
    const [modulated, fe] = modulationViews(engine, feedback, 'minus', x, targets, e);
    expect(fe!.signed).toBe(true);
    expect(fe!.perImage).toBe(true);
    for (let i = 0; i < 3; i++) {
      let max = 0;
      for (let j = 0; j < 20; j++) max = Math.max(max, Math.abs(fe!.images.get(i, j)));
      const k = 0.25 / max;
      for (let j = 0; j < 20; j++) {
        expect(modulated!.images.get(i, j)).toBeCloseTo(x.get(i, j) - k * fe!.images.get(i, j), 5);
      }
      expect(fe!.captions[i]).toBe(`max ${max.toPrecision(2)}`);
      expect(modulated!.captions[i]!.endsWith(`, k ${k.toPrecision(2)}`)).toBe(true);
    }
  });
});
