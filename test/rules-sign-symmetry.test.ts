import { describe, expect, it } from 'vitest';

import type { Engine } from '../src/core/engine.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng, type RngState } from '../src/core/rng.js';
import { DropoutMasks, ForwardState, forward } from '../src/nn/forward.js';
import { Network } from '../src/nn/network.js';
import { GradientBuffers } from '../src/optim/gradients.js';
import { Sgd } from '../src/optim/sgd.js';
import { BpRule } from '../src/rules/bp.js';
import { BrsfRule } from '../src/rules/brsf.js';
import { FrsfRule } from '../src/rules/frsf.js';
import type { SignConcordantRule } from '../src/rules/sign-concordant.js';
import { UsfRule } from '../src/rules/usf.js';

import { availableEngines } from './helpers.js';
import { randomBatch, referenceForward, referenceOuter, teacherBatch } from './rules-helpers.js';

const engines = availableEngines();
const RULES = ['usf', 'frsf', 'brsf'] as const;
type SignRule = (typeof RULES)[number];

const SIZES = [7, 6, 5, 3];
const BATCH = 6;

function makeRule(
  name: SignRule,
  net: Network,
  engine: Engine,
  maxBatch: number,
  seed: number,
  scale = 1,
): SignConcordantRule {
  switch (name) {
    case 'usf':
      return new UsfRule(net, engine, maxBatch, scale);
    case 'frsf':
      return new FrsfRule(net, engine, maxBatch, Rng.fromSeed(seed), scale);
    case 'brsf':
      return new BrsfRule(net, engine, maxBatch, Rng.fromSeed(seed), scale);
  }
}

/**
 * The magnitudes M_0..M_{L-2} the rule should use in its next step, rebuilt from the rule's definition:
 * usf a constant, frsf one draw per layer from the construction stream's derive(l), brsf consecutive draws
 * from `stream` (a copy of the rule's stream saved just before the step).
 */
function referenceMagnitudes(
  name: SignRule,
  net: Network,
  seed: number,
  scale: number,
  stream: Rng | null,
): Float32Array[] {
  return net.weights.slice(1).map((w, l) => {
    const out = new Float32Array(w.rows * w.cols);
    if (name === 'usf') out.fill(scale * Math.sqrt(2 / w.cols));
    else if (name === 'frsf')
      Rng.fromSeed(seed)
        .derive(l)
        .fillUniform(out, 0, scale * Math.sqrt(6 / w.cols));
    else stream!.fillUniform(out, 0, scale * Math.sqrt(6 / w.cols));
    return out;
  });
}

/** B_l = M_l o sign(W_{l+1}) in float64, sign(0) = 0. */
function referenceFeedback(net: Network, magnitudes: Float32Array[]): Float64Array[] {
  return magnitudes.map((m, l) => {
    const w = net.weights[l + 1]!.data;
    return Float64Array.from(m, (v, i) => v * Math.sign(w[i]!));
  });
}

/**
 * The float64 update of backprop with W_{l+1} replaced by `feedback[l]` in the backward pass, with plain loops:
 * e = y - t, delta_l = (delta_{l+1} B_l) * act'(a_l) * mask_l, G_l = delta_l^T h_{l-1} / b, bias = colsum / b.
 */
function referenceUpdate(
  net: Network,
  feedback: Float64Array[],
  x: Matrix,
  targets: Matrix,
  masks: Float32Array[] | null,
): { grads: Float64Array[]; biasGrads: (Float64Array | null)[] } {
  const L = net.depth;
  const s = net.sizes;
  const b = x.rows;
  const w64 = net.weights.map((w) => Float64Array.from(w.data));
  const b64 = net.biases.map((v) => (v ? Float64Array.from(v.data) : null));
  const h = referenceForward(net, w64, b64, x, masks);
  // pre-activations a_l of the hidden layers, from h_{l-1}
  const pre = (l: number): number[][] =>
    h[l]!.map((row) =>
      Array.from({ length: s[l + 1]! }, (_, i) => {
        let sum = b64[l] ? b64[l]![i]! : 0;
        for (let j = 0; j < s[l]!; j++) sum += w64[l]![i * s[l]! + j]! * row[j]!;
        return sum;
      }),
    );
  const derivative = (v: number): number => {
    const act = net.config.hiddenActivation;
    if (act === 'relu') return v > 0 ? 1 : 0;
    if (act === 'tanh') return 1 - Math.tanh(v) ** 2;
    throw new Error(`no reference derivative for ${act}`);
  };
  const deltas: number[][][] = new Array<number[][]>(L);
  deltas[L - 1] = h[L]!.map((row, r) => row.map((y, j) => y - targets.get(r, j)));
  for (let l = L - 2; l >= 0; l--) {
    const upper = deltas[l + 1]!;
    const fb = feedback[l]!;
    const d = s[l + 1]!;
    const dUp = s[l + 2]!;
    const a = pre(l);
    deltas[l] = upper.map((row, r) =>
      Array.from({ length: d }, (_, i) => {
        let sum = 0;
        for (let k = 0; k < dUp; k++) sum += row[k]! * fb[k * d + i]!;
        const mask = masks ? masks[l]![r * d + i]! : 1;
        return sum * derivative(a[r]![i]!) * mask;
      }),
    );
  }
  const grads = deltas.map((delta, l) => referenceOuter(delta, h[l]!, 1 / b));
  const biasGrads = deltas.map((delta, l) =>
    net.biases[l]
      ? Float64Array.from({ length: s[l + 1]! }, (_, i) => delta.reduce((p, row) => p + row[i]!, 0) / b)
      : null,
  );
  return { grads, biasGrads };
}

/** Float32 result against float64 reference: |g - r| <= 2e-4 max(1, |r|) + 1e-5 (as the BP test's). */
function expectClose(got: Float32Array, want: Float64Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = 2e-4 * Math.max(1, Math.abs(want[i]!)) + 1e-5;
    if (!(Math.abs(got[i]! - want[i]!) <= tol))
      throw new Error(`${what}[${i}]: rule ${got[i]} vs reference ${want[i]}`);
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

interface RefCase {
  hidden: 'relu' | 'tanh';
  bias: boolean;
  dropout: number;
  scale: number;
}

const CASES: RefCase[] = [
  { hidden: 'relu', bias: false, dropout: 0, scale: 1 },
  { hidden: 'relu', bias: true, dropout: 0, scale: 0.5 },
  { hidden: 'tanh', bias: true, dropout: 0.3, scale: 1 },
];

function setup(c: RefCase, seed: number) {
  const rng = Rng.fromSeed(seed);
  const net = Network.create(
    { sizes: SIZES, hiddenActivation: c.hidden, bias: c.bias, dropout: c.dropout },
    rng,
  );
  for (const v of net.biases) if (v) rng.fillNormal(v.data, 0, 0.3);
  const data = rng.derive('data');
  const masks = c.dropout > 0 ? new DropoutMasks(net, BATCH) : null;
  const dropoutRng = rng.derive('dropout');
  const next = () => {
    masks?.draw(dropoutRng);
    return randomBatch(data, BATCH, SIZES[0]!, SIZES[3]!);
  };
  return { net, masks, next };
}

describe.each(engines.map((e) => [e.name, e] as const))(
  '%s engine: sign-concordant feedback',
  (_n, engine) => {
    describe.each(RULES)('%s', (name) => {
      it.each(CASES)('update and feedback match a float64 reference (%j)', (c) => {
        const seed = 31;
        const { net, masks, next } = setup(c, 5);
        const rule = makeRule(name, net, engine, BATCH, seed, c.scale);
        // one optimiser step first, so the compared step must rebuild B from moved weights (and brsf's
        // stream has advanced)
        const sgd = new Sgd(engine, net, { lr: 0.2 });
        const moved = net.weights.map((w) => w.clone());
        rule.train(next(), sgd, masks);
        expect(net.weights[1]!.data.some((v, i) => v !== moved[1]!.data[i])).toBe(true);
        // a zero forward weight must give a zero feedback entry (sign(0) = 0)
        net.weights[1]!.data[4] = 0;
        net.weights[2]!.data[2] = 0;

        const saved = rule.state.saveState().values.magnitudes as RngState | undefined;
        expect(saved === undefined).toBe(name !== 'brsf');
        const stream = saved ? Rng.fromState(structuredClone(saved)) : null;
        const magnitudes = referenceMagnitudes(name, net, seed, c.scale, stream);
        const feedback = referenceFeedback(net, magnitudes);
        const { x, targets } = next();
        const grads = new GradientBuffers(engine, net);
        rule.train({ x, targets }, grads, masks);

        expect(rule.feedback.map((m) => [m.rows, m.cols])).toEqual(
          net.weights.slice(1).map((w) => [w.rows, w.cols]),
        );
        rule.feedback.forEach((m, l) =>
          expect(Array.from(m.data), `B_${l}`).toEqual(Array.from(feedback[l]!)),
        );
        expect(rule.feedback[0]!.data[4]).toBe(0);
        expect(rule.feedback[1]!.data[2]).toBe(0);
        if (name === 'frsf') {
          (rule as FrsfRule).magnitudes.forEach((m, l) =>
            expect(Array.from(m.data), `M_${l}`).toEqual(Array.from(magnitudes[l]!)),
          );
        }

        const ref = referenceUpdate(net, feedback, x, targets, masks?.masks ?? null);
        ref.grads.forEach((g, l) => expectClose(grads.grads[l]!.data, g, `G_${l + 1}`));
        ref.biasGrads.forEach((g, l) => {
          expect(grads.biasGrads[l] === null).toBe(g === null);
          if (g) expectClose(grads.biasGrads[l]!.data, g, `bias G_${l + 1}`);
        });
        // the hidden updates are not trivially zero
        for (const g of grads.grads) expect(g.data.some((v) => v !== 0)).toBe(true);
      });

      it('the magnitudes lie in [0, bound] and the feedback follows the signs of W', () => {
        const { net, next } = setup(CASES[0]!, 6);
        const rule = makeRule(name, net, engine, BATCH, 8);
        rule.train(next(), new GradientBuffers(engine, net), null);
        rule.feedback.forEach((m, l) => {
          const w = net.weights[l + 1]!;
          const bound = name === 'usf' ? Math.sqrt(2 / w.cols) : Math.sqrt(6 / w.cols);
          for (let i = 0; i < m.size; i++) {
            expect(Math.sign(m.data[i]!)).toBe(Math.sign(w.data[i]!));
            expect(Math.abs(m.data[i]!)).toBeLessThanOrEqual(Math.fround(bound));
          }
          if (name === 'usf') expect(new Set(Array.from(m.data, Math.abs)).size).toBe(1);
          else expect(new Set(Array.from(m.data, Math.abs)).size).toBeGreaterThan(m.size / 2);
        });
        const angles = rule.diagnostics().layer_angles_deg as number[];
        expect(angles).toHaveLength(2);
        for (const a of angles) expect(a).toBeLessThan(90);
        if (name === 'usf') for (const a of angles) expect(a).toBeGreaterThan(0);
      });
    });

    it('usf updates point the way of backprop gradients, layer by layer', () => {
      for (const seed of [1, 2, 3]) {
        const { net, next } = setup(CASES[1]!, seed);
        const batch = next();
        const usf = new GradientBuffers(engine, net);
        const bp = new GradientBuffers(engine, net);
        new UsfRule(net, engine, BATCH).train(batch, usf, null);
        new BpRule(net, engine, BATCH).train(batch, bp, null);
        const cos = usf.grads.map((g, l) => cosine(g.data, bp.grads[l]!.data));
        for (const [l, v] of cos.entries())
          expect(v, `seed ${seed} layer ${l}: ${cos.join(', ')}`).toBeGreaterThan(0);
        // the output layer's update does not depend on the feedback
        expect(Array.from(usf.grads[2]!.data)).toEqual(Array.from(bp.grads[2]!.data));
        expect(Array.from(usf.biasGrads[2]!.data)).toEqual(Array.from(bp.biasGrads[2]!.data));
      }
    });

    it("frsf's magnitudes stay fixed across steps while brsf's are redrawn", () => {
      const fixed: Record<string, boolean> = {};
      for (const name of ['frsf', 'brsf'] as const) {
        const { net, next } = setup(CASES[0]!, 9);
        const rule = makeRule(name, net, engine, BATCH, 10);
        const sgd = new Sgd(engine, net, { lr: 0.1, momentum: 0.9 });
        const before = net.weights.map((w) => w.clone());
        rule.train(next(), sgd, null);
        const first = rule.feedback.map((m) => Array.from(m.data, Math.abs));
        const between = net.weights.map((w) => w.clone());
        rule.train(next(), sgd, null);
        const second = rule.feedback.map((m) => Array.from(m.data, Math.abs));
        // the weights moved, and the second step's B follows the signs they had before that step
        expect(between.some((w, l) => w.data.some((v, i) => v !== before[l]!.data[i]))).toBe(true);
        rule.feedback.forEach((m, l) =>
          m.data.forEach((v, i) => expect(Math.sign(v)).toBe(Math.sign(between[l + 1]!.data[i]!))),
        );
        fixed[name] = first.every((m, l) => m.every((v, i) => v === second[l]![i]));
        if (name === 'frsf') {
          (rule as FrsfRule).magnitudes.forEach((m, l) => expect(second[l]).toEqual(Array.from(m.data)));
        } else {
          for (const [l, m] of first.entries()) {
            const changed = m.filter((v, i) => v !== second[l]![i]).length;
            expect(changed).toBeGreaterThan(0.9 * m.length);
          }
        }
      }
      expect(fixed).toEqual({ frsf: true, brsf: false });
    });

    it.each(RULES)('%s: saveState/restoreState into a rule from another seed resumes identically', (name) => {
      const { net, masks, next } = setup(CASES[2]!, 12);
      masks!.draw(Rng.fromSeed(13));
      const a = makeRule(name, net, engine, BATCH, 1);
      const warm = next();
      a.train(warm, new GradientBuffers(engine, net), masks);
      const saved = a.state.saveState();
      if (name === 'usf') {
        expect(saved).toEqual({ values: {}, tensors: {} });
        expect(a.state.empty).toBe(true);
      } else if (name === 'frsf') {
        expect(Object.keys(saved.tensors).sort()).toEqual(['M1', 'M2']);
        expect(saved.values).toEqual({});
      } else {
        expect(Object.keys(saved.values)).toEqual(['magnitudes']);
        expect(saved.tensors).toEqual({});
      }

      const batch = next();
      // without the restore, a rule from another seed gives another update (usf has no randomness)
      const other = new GradientBuffers(engine, net);
      makeRule(name, net, engine, BATCH, 2).train(batch, other, masks);
      const b = makeRule(name, net, engine, BATCH, 2);
      b.state.restoreState(structuredClone(saved), 'test');
      if (name === 'frsf') {
        (b as FrsfRule).magnitudes.forEach((m, l) =>
          expect(Array.from(m.data)).toEqual(Array.from((a as FrsfRule).magnitudes[l]!.data)),
        );
      }
      for (let step = 0; step < 2; step++) {
        const ga = new GradientBuffers(engine, net);
        const gb = new GradientBuffers(engine, net);
        const input = step === 0 ? batch : next();
        a.train(input, ga, masks);
        b.train(input, gb, masks);
        a.feedback.forEach((m, l) => expect(Array.from(b.feedback[l]!.data)).toEqual(Array.from(m.data)));
        ga.grads.forEach((g, l) => expect(Array.from(gb.grads[l]!.data)).toEqual(Array.from(g.data)));
        ga.biasGrads.forEach((g, l) =>
          expect(Array.from(gb.biasGrads[l]!.data)).toEqual(Array.from(g!.data)),
        );
        if (step === 0) {
          const same = ga.grads.every((g, l) => g.data.every((v, i) => v === other.grads[l]!.data[i]));
          expect(same).toBe(name === 'usf');
        }
      }
    });

    it.each(RULES)('%s learns a teacher task with SGD', (name) => {
      const rng = Rng.fromSeed(7);
      const net = Network.create({ sizes: [20, 32, 16, 4], dropout: 0.1 }, rng);
      const rule = makeRule(name, net, engine, 32, 17);
      const sgd = new Sgd(engine, net, { lr: 0.05, momentum: 0.9 });
      const masks = new DropoutMasks(net, 32);
      const dropoutRng = rng.derive('dropout');
      const dataRng = rng.derive('data');
      const teacher = new Matrix(4, 20);
      Rng.fromSeed(99).fillNormal(teacher.data);
      const test = teacherBatch(Rng.fromSeed(123), teacher, 1000);
      engine.run('scal', { alpha: 0.25, x: test.x.data });
      const accuracy = (): number => {
        const y = forward(engine, new ForwardState(net, 1000), test.x, null);
        let correct = 0;
        for (let r = 0; r < y.rows; r++) {
          const row = Array.from(y.row(r));
          if (row.indexOf(Math.max(...row)) === test.labels[r]) correct++;
        }
        return correct / y.rows;
      };
      const before = accuracy();
      for (let i = 0; i < 1500; i++) {
        masks.draw(dropoutRng);
        const batch = teacherBatch(dataRng, teacher, 32);
        engine.run('scal', { alpha: 0.25, x: batch.x.data });
        rule.train(batch, sgd, masks);
      }
      const after = accuracy();
      // chance is 0.25
      expect(after, `accuracy ${before} -> ${after}`).toBeGreaterThan(0.6);
      expect(after).toBeGreaterThan(before + 0.2);
      expect(net.weights.every((w) => w.data.every(Number.isFinite))).toBe(true);
    });
  },
);
