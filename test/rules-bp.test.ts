import { describe, expect, it } from 'vitest';

import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { createBackwardMatrices } from '../src/feedback/backward-matrices.js';
import type { ActivationName } from '../src/nn/activations.js';
import { DropoutMasks } from '../src/nn/forward.js';
import { Network, type Normalization } from '../src/nn/network.js';
import { GradientBuffers } from '../src/optim/gradients.js';
import { BpRule } from '../src/rules/bp.js';
import { DfaRule } from '../src/rules/dfa.js';
import { FaRule } from '../src/rules/fa.js';

import { availableEngines } from './helpers.js';
import { randomBatch, referenceLoss } from './rules-helpers.js';

const engines = availableEngines();

interface GradCase {
  hidden: ActivationName;
  output: ActivationName;
  normalization: Normalization;
  dropout: number;
  bias: boolean;
}

const CASES: GradCase[] = [
  { hidden: 'tanh', output: 'softmax', normalization: 'none', dropout: 0, bias: false },
  { hidden: 'sigmoid', output: 'identity', normalization: 'none', dropout: 0, bias: true },
  { hidden: 'erf', output: 'sigmoid', normalization: 'none', dropout: 0.3, bias: true },
  { hidden: 'relu', output: 'softmax', normalization: 'sample-l2', dropout: 0.2, bias: false },
  { hidden: 'tanh', output: 'softmax', normalization: 'batch-frobenius', dropout: 0, bias: true },
  { hidden: 'tanh', output: 'identity', normalization: 'sample-rms', dropout: 0.2, bias: true },
];

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: backprop family', (_n, engine) => {
  it.each(CASES)('BP matches float64 central finite differences (%j)', (c) => {
    const rng = Rng.fromSeed(21);
    const net = Network.create(
      {
        sizes: [6, 7, 5, 4],
        hiddenActivation: c.hidden,
        outputActivation: c.output,
        normalization: c.normalization,
        dropout: c.dropout,
        bias: c.bias,
        init: 'xavier',
      },
      rng,
    );
    for (const b of net.biases) if (b) rng.fillNormal(b.data, 0, 0.3);
    const b = 5;
    const { x, targets } = randomBatch(rng.derive('data'), b, 6, 4);
    if (c.output !== 'softmax') rng.fillUniform(targets.data);
    const masks = c.dropout > 0 ? new DropoutMasks(net, b) : null;
    masks?.draw(rng.derive('dropout'));
    const grads = new GradientBuffers(engine, net);
    new BpRule(net, engine, b).train({ x, targets }, grads, masks);

    const w64 = net.weights.map((w) => Float64Array.from(w.data));
    const b64 = net.biases.map((v) => (v ? Float64Array.from(v.data) : null));
    const loss = (): number => referenceLoss(net, w64, b64, x, targets, masks?.masks ?? null);
    const h = 1e-6;
    const check = (params: Float64Array, grad: Float32Array, what: string): void => {
      for (let i = 0; i < params.length; i++) {
        const saved = params[i]!;
        params[i] = saved + h;
        const up = loss();
        params[i] = saved - h;
        const down = loss();
        params[i] = saved;
        const fd = (up - down) / (2 * h);
        const tol = 2e-4 * Math.max(1, Math.abs(fd)) + 1e-5;
        if (!(Math.abs(grad[i]! - fd) <= tol))
          throw new Error(`${what}[${i}]: BP ${grad[i]} vs finite difference ${fd}`);
      }
    };
    w64.forEach((w, l) => check(w, grads.grads[l]!.data, `W_${l + 1}`));
    b64.forEach((v, l) => v && check(v, grads.biasGrads[l]!.data, `b_${l + 1}`));
  });

  it('FA with feedback equal to the forward weights is exactly BP', () => {
    const rng = Rng.fromSeed(22);
    const net = Network.create({ sizes: [30, 20, 15, 10], dropout: 0.1, bias: true }, rng);
    const { x, targets } = randomBatch(rng, 16, 30, 10);
    const masks = new DropoutMasks(net, 16);
    masks.draw(rng);
    const bp = new GradientBuffers(engine, net);
    const fa = new GradientBuffers(engine, net);
    new BpRule(net, engine, 16).train({ x, targets }, bp, masks);
    const feedback = net.weights.slice(1).map((w) => w.clone());
    new FaRule(net, engine, 16, feedback).train({ x, targets }, fa, masks);
    bp.grads.forEach((g, l) => expect(Array.from(fa.grads[l]!.data)).toEqual(Array.from(g.data)));
    bp.biasGrads.forEach((g, l) => expect(Array.from(fa.biasGrads[l]!.data)).toEqual(Array.from(g!.data)));
  });

  it('DFA on one hidden layer equals FA when both feedback matrices are W_2', () => {
    const rng = Rng.fromSeed(23);
    const net = Network.create({ sizes: [12, 9, 4] }, rng);
    const { x, targets } = randomBatch(rng, 8, 12, 4);
    const fa = new GradientBuffers(engine, net);
    const dfa = new GradientBuffers(engine, net);
    new FaRule(net, engine, 8, [net.weights[1]!.clone()]).train({ x, targets }, fa, null);
    new DfaRule(net, engine, 8, [net.weights[1]!.clone()]).train({ x, targets }, dfa, null);
    fa.grads.forEach((g, l) => expect(Array.from(dfa.grads[l]!.data)).toEqual(Array.from(g.data)));
  });

  it('random FA/DFA feedback has the shapes of the matrices it replaces', () => {
    const fa = createBackwardMatrices([8, 6, 5, 3], 'fa', Rng.fromSeed(1));
    expect(fa.map((m) => [m.rows, m.cols])).toEqual([
      [5, 6],
      [3, 5],
    ]);
    const direct = createBackwardMatrices([8, 6, 5, 3], 'direct', Rng.fromSeed(1));
    expect(direct.map((m) => [m.rows, m.cols])).toEqual([
      [3, 6],
      [3, 5],
    ]);
    expect(
      () =>
        new FaRule(Network.create({ sizes: [8, 6, 5, 3] }, Rng.fromSeed(1)), engine, 4, [new Matrix(6, 5)]),
    ).toThrow(/FA needs 2 feedback matrices|must be/);
  });
});
