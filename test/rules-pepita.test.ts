import { describe, expect, it } from 'vitest';

import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { TopDownFeedback } from '../src/feedback/top-down.js';
import { DropoutMasks } from '../src/nn/forward.js';
import { Network } from '../src/nn/network.js';
import { GradientBuffers } from '../src/optim/gradients.js';
import { Sgd } from '../src/optim/sgd.js';
import { AfaRule } from '../src/rules/afa.js';
import { PepitaRule, type PepitaOptions } from '../src/rules/pepita.js';

import { availableEngines } from './helpers.js';
import { randomBatch, referenceForward, referenceOuter } from './rules-helpers.js';

const engines = availableEngines();

function frob(a: Float32Array, b?: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - (b ? b[i]! : 0)) ** 2;
  return Math.sqrt(s);
}

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: PEPITA and AFA', (_n, engine) => {
  it.each([
    ['standard', 'minus', 'first-pass-error', true, 0],
    ['standard', 'plus', 'modulated-error', false, 0],
    ['forward', 'minus', 'first-pass-error', true, 0.25],
    ['hebbian', 'minus', 'first-pass-error', true, 0],
  ] as const)(
    'mode %s, sign %s, last layer %s, shortcut %s, dropout %s matches the float64 formulas',
    (mode, sign, lastLayer, shortcut, dropout) => {
      const rng = Rng.fromSeed(31);
      const net = Network.create({ sizes: [9, 8, 7, 4], dropout, bias: true }, rng);
      for (const bias of net.biases) rng.fillNormal(bias!.data, 0, 0.1);
      const b = 6;
      const { x, targets } = randomBatch(rng, b, 9, 4);
      const feedback = TopDownFeedback.create(net.sizes, { scale: 2 }, rng, engine);
      const masks = dropout > 0 ? new DropoutMasks(net, b) : null;
      masks?.draw(rng);
      const grads = new GradientBuffers(engine, net);
      const options: PepitaOptions = { mode, sign, lastLayer, firstLayerShortcut: shortcut };
      new PepitaRule(net, engine, b, feedback, options).train({ x, targets }, grads, masks);

      // Independent float64 computation of both passes and of the update formulas.
      const w64 = net.weights.map((w) => Float64Array.from(w.data));
      const b64 = net.biases.map((v) => Float64Array.from(v!.data));
      const ms = masks?.masks ?? null;
      const clean = referenceForward(net, w64, b64, x, ms);
      const y = clean[3]!;
      const e = y.map((row, r) => row.map((v, j) => v - targets.get(r, j)));
      const s = sign === 'minus' ? -1 : 1;
      const xMod = x
        .toArray()
        .map((row, r) =>
          row.map((v, i) => v + s * e[r]!.reduce((acc, ej, j) => acc + ej * feedback.matrix.get(i, j), 0)),
        );
      const mod = referenceForward(net, w64, b64, Matrix.from(b, 9, xMod.flat()), ms);
      const t = targets.toArray();
      const diff = (l: number): number[][] =>
        clean[l]!.map((row, r) => row.map((v, i) => v - mod[l]![r]![i]!));
      const expected: Float64Array[] = [];
      for (let l = 1; l <= 3; l++) {
        if (mode === 'hebbian') {
          const post = l === 3 ? t : mod[l]!;
          const a = referenceOuter(clean[l]!, clean[l - 1]!, 1 / b);
          const c = referenceOuter(post, mod[l - 1]!, -1 / b);
          expected.push(a.map((v, i) => v + c[i]!));
          continue;
        }
        const pre = mode === 'forward' ? clean[l - 1]! : mod[l - 1]!;
        const top =
          lastLayer === 'modulated-error' ? mod[3]!.map((row, r) => row.map((v, j) => v - t[r]![j]!)) : e;
        expected.push(referenceOuter(l === 3 ? top : diff(l), pre, 1 / b));
      }
      expected.forEach((exp, l) => {
        const got = grads.grads[l]!.data;
        const scale = Math.max(...Array.from(exp, Math.abs));
        for (let i = 0; i < exp.length; i++)
          expect(Math.abs(got[i]! - exp[i]!)).toBeLessThan(1e-4 * scale + 1e-6);
      });
    },
  );

  it('PEPITA tends to AFA: the first-layer update difference shrinks linearly with the scale of F', () => {
    for (const hidden of ['tanh', 'relu'] as const) {
      const rng = Rng.fromSeed(32);
      const net = Network.create({ sizes: [20, 16, 12, 5], hiddenActivation: hidden }, rng);
      const { x, targets } = randomBatch(rng, 8, 20, 5);
      const rel: number[] = [];
      for (const scale of [0.4, 0.2, 0.1, 0.05]) {
        const feedback = TopDownFeedback.create(net.sizes, { scale }, Rng.fromSeed(5), engine);
        const pep = new GradientBuffers(engine, net);
        const afa = new GradientBuffers(engine, net);
        new PepitaRule(net, engine, 8, feedback).train({ x, targets }, pep, null);
        new AfaRule(net, engine, 8, feedback).train({ x, targets }, afa, null);
        rel.push(frob(pep.grads[0]!.data, afa.grads[0]!.data) / frob(afa.grads[0]!.data));
      }
      for (let i = 1; i < rel.length; i++) {
        const ratio = rel[i]! / rel[i - 1]!;
        // halving the scale halves the relative difference (ReLU kinks add noise to the ratio)
        expect(ratio, `${hidden}: ${rel.join(', ')}`).toBeGreaterThan(hidden === 'tanh' ? 0.4 : 0.2);
        expect(ratio, `${hidden}: ${rel.join(', ')}`).toBeLessThan(hidden === 'tanh' ? 0.6 : 0.8);
      }
      expect(rel[rel.length - 1]).toBeLessThan(0.1);
    }
  });

  it('PEPITA-Hebbian is the gradient of the layer-local loss (||h_l||^2 - ||h_l^mod||^2) / 2 for ReLU', () => {
    const rng = Rng.fromSeed(33);
    const net = Network.create({ sizes: [10, 8, 6, 3] }, rng);
    const b = 5;
    const { x, targets } = randomBatch(rng, b, 10, 3);
    const feedback = TopDownFeedback.create(net.sizes, { scale: 3 }, rng, engine);
    const rule = new PepitaRule(net, engine, b, feedback, { mode: 'hebbian' });
    const grads = new GradientBuffers(engine, net);
    rule.train({ x, targets }, grads, null);
    // J_l(W) = (1/b) sum_r 0.5 (||relu(W h_{l-1})||^2 - ||relu(W h_{l-1}^mod)||^2), presynaptic activities fixed.
    for (let l = 0; l < 2; l++) {
      const pre = rule.clean.postView(l - 1).toArray();
      const preMod = rule.modulated.postView(l - 1).toArray();
      const w = Float64Array.from(net.weights[l]!.data);
      const rows = net.weights[l]!.rows;
      const cols = net.weights[l]!.cols;
      const J = (): number => {
        let total = 0;
        for (let r = 0; r < b; r++) {
          for (let i = 0; i < rows; i++) {
            let a = 0;
            let am = 0;
            for (let j = 0; j < cols; j++) {
              a += w[i * cols + j]! * pre[r]![j]!;
              am += w[i * cols + j]! * preMod[r]![j]!;
            }
            total += 0.5 * (Math.max(0, a) ** 2 - Math.max(0, am) ** 2);
          }
        }
        return total / b;
      };
      const h = 1e-6;
      for (let i = 0; i < w.length; i++) {
        const saved = w[i]!;
        w[i] = saved + h;
        const up = J();
        w[i] = saved - h;
        const down = J();
        w[i] = saved;
        expect(grads.grads[l]!.data[i]).toBeCloseTo((up - down) / (2 * h), 4);
      }
    }
  });

  it('time-local mode applies the clean-pass update before the modulated pass (worked example)', () => {
    // x = [1, 2], W1 = I, W2 = [[1, 1], [0, 1]], t = [0, 1], identity output, F = 0.1 I, lr = 0.1, batch 1.
    // Clean: h1 = relu(W1 x) = [1, 2]; y = W2 h1 = [3, 2]; e = y - t = [3, 1].
    // Step 1 (G1 = h1 x^T, G2 = y h1^T): W1+ = [[0.9, -0.2], [-0.2, 0.6]], W2+ = [[0.7, 0.4], [-0.2, 0.6]].
    // x_mod = x - F e = [0.7, 1.9]; with W1+: h1^mod = relu([0.63 - 0.38, -0.14 + 1.14]) = [0.25, 1].
    //   (with the old W1 it would be [0.7, 1.9]: the test tells the two apart)
    // Step 2 (G1 = -h1^mod x_mod^T, G2 = -t h1^mod^T):
    //   W1 = W1+ + 0.1 [[0.175, 0.475], [0.7, 1.9]] = [[0.9175, -0.1525], [-0.13, 0.79]]
    //   W2 = W2+ + 0.1 [[0, 0], [0.25, 1]] = [[0.7, 0.4], [-0.175, 0.7]]
    const net = new Network(
      { sizes: [2, 2, 2], outputActivation: 'identity' },
      [Matrix.from(2, 2, [1, 0, 0, 1]), Matrix.from(2, 2, [1, 1, 0, 1])],
      [null, null],
    );
    const feedback = new TopDownFeedback(
      [2, 2, 2],
      'uniform',
      0.05,
      Matrix.from(2, 2, [0.1, 0, 0, 0.1]),
      null,
    );
    const sgd = new Sgd(engine, net, { lr: 0.1 });
    new PepitaRule(net, engine, 1, feedback, { mode: 'time-local' }).train(
      { x: Matrix.from(1, 2, [1, 2]), targets: Matrix.from(1, 2, [0, 1]) },
      sgd,
      null,
    );
    const close = (m: Matrix, values: number[]): void =>
      Array.from(m.data).forEach((v, i) => expect(v).toBeCloseTo(values[i]!, 6));
    close(net.weights[0]!, [0.9175, -0.1525, -0.13, 0.79]);
    close(net.weights[1]!, [0.7, 0.4, -0.175, 0.7]);
  });

  it('a network without hidden layers learns by the delta rule G = e^T x / b', () => {
    const rng = Rng.fromSeed(34);
    const net = Network.create({ sizes: [5, 3] }, rng);
    const { x, targets } = randomBatch(rng, 4, 5, 3);
    const grads = new GradientBuffers(engine, net);
    const feedback = TopDownFeedback.create(net.sizes, {}, rng, engine);
    const rule = new PepitaRule(net, engine, 4, feedback);
    const state = rule.train({ x, targets }, grads, null);
    const e = state.output.toArray().map((row, r) => row.map((v, j) => v - targets.get(r, j)));
    const expected = referenceOuter(e, x.toArray(), 1 / 4);
    expected.forEach((v, i) => expect(grads.grads[0]!.data[i]).toBeCloseTo(v, 5));
  });
});
