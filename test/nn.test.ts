import { describe, expect, it } from 'vitest';

import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { activate, activationDerivative, ACTIVATIONS, type ActivationName } from '../src/nn/activations.js';
import { DropoutMasks, ForwardState, forward } from '../src/nn/forward.js';
import { initWeights } from '../src/nn/init.js';
import { Network, resolveNetworkConfig } from '../src/nn/network.js';
import { GradientBuffers } from '../src/optim/gradients.js';
import { angleToGradient } from '../src/rules/gradient-alignment.js';
import { FaRule } from '../src/rules/fa.js';
import { DfaRule } from '../src/rules/dfa.js';
import { createBackwardMatrices } from '../src/feedback/backward-matrices.js';

import { availableEngines } from './helpers.js';
import { randomBatch } from './rules-helpers.js';

const engines = availableEngines();

describe('activations', () => {
  it.each(ACTIVATIONS.filter((a) => a !== 'softmax'))('%s derivative matches central differences', (name) => {
    const a = Float32Array.from([-2.5, -0.7, -0.1, 0.3, 1.1, 2.9]);
    const h = new Float32Array(6);
    activate(name as ActivationName, a, h, 1, 6);
    const d = new Float32Array(6);
    activationDerivative(name as ActivationName, a, h, d, 6);
    const f = (v: number): number => {
      const x = Float32Array.of(v);
      const y = new Float32Array(1);
      activate(name as ActivationName, x, y, 1, 1);
      return y[0]!;
    };
    for (let i = 0; i < 6; i++) {
      const e = 1e-3;
      expect(d[i]).toBeCloseTo((f(a[i]! + e) - f(a[i]! - e)) / (2 * e), 2);
    }
  });

  it('erf is the theory activation erf(a / sqrt 2), softmax normalises rows', () => {
    const h = new Float32Array(1);
    activate('erf', Float32Array.of(1), h, 1, 1);
    expect(h[0]).toBeCloseTo(0.6826894921, 6); // P(|z| < 1)
    const s = new Float32Array(4);
    activate('softmax', Float32Array.of(1, 2, 0, 0), s, 2, 2);
    expect(s[0]! + s[1]!).toBeCloseTo(1, 6);
    expect(s[2]).toBeCloseTo(0.5, 6);
    expect(() => activationDerivative('softmax', s, s, s, 4)).toThrow(/softmax/);
  });
});

describe('initialisation', () => {
  const stats = (m: Matrix) => {
    let s = 0;
    let s2 = 0;
    let max = 0;
    for (const v of m.data) {
      s += v;
      s2 += v * v;
      max = Math.max(max, Math.abs(v));
    }
    const mean = s / m.size;
    return { mean, std: Math.sqrt(s2 / m.size - mean * mean), max };
  };
  it('he_uniform, he_normal, xavier and torch_default have their ranges and spreads', () => {
    const w = new Matrix(400, 300);
    initWeights(w, 'he_uniform', Rng.fromSeed(1));
    expect(stats(w).max).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(stats(w).std / Math.sqrt(2 / 300)).toBeCloseTo(1, 1);
    initWeights(w, 'he_normal', Rng.fromSeed(1));
    expect(stats(w).std / Math.sqrt(2 / 300)).toBeCloseTo(1, 1);
    expect(Math.abs(stats(w).mean)).toBeLessThan(0.002);
    initWeights(w, 'xavier', Rng.fromSeed(1));
    expect(stats(w).max).toBeLessThanOrEqual(Math.sqrt(6 / 700));
    expect(stats(w).std / Math.sqrt(2 / 700)).toBeCloseTo(1, 1);
    initWeights(w, 'torch_default', Rng.fromSeed(1));
    expect(stats(w).max).toBeLessThanOrEqual(1 / Math.sqrt(300));
    expect(stats(w).max).toBeGreaterThan(0.99 / Math.sqrt(300));
    expect(stats(w).std / Math.sqrt(1 / 900)).toBeCloseTo(1, 1);
  });
});

describe('network configuration', () => {
  it('fills defaults: fully connected, no biases, relu hidden, softmax output, he_uniform, no dropout', () => {
    expect(resolveNetworkConfig({ sizes: [4, 3, 2] })).toEqual({
      sizes: [4, 3, 2],
      layers: [{ kind: 'dense' }, { kind: 'dense' }],
      input: null,
      hiddenActivation: 'relu',
      outputActivation: 'softmax',
      bias: false,
      init: 'he_uniform',
      dropout: 0,
      normalization: 'none',
    });
    const net = Network.create({ sizes: [4, 3, 2] }, Rng.fromSeed(1));
    expect(net.depth).toBe(2);
    expect(net.weights.map((w) => [w.rows, w.cols])).toEqual([
      [3, 4],
      [2, 3],
    ]);
    expect(net.biases).toEqual([null, null]);
    expect(net.clone().weights[0]!.data).toEqual(net.weights[0]!.data);
  });

  it.each([
    [{ sizes: [4] }, /at least two/],
    [{ sizes: [4, 0, 2] }, /positive integer/],
    [{ sizes: [4, 2], hiddenActivation: 'softmax' as const }, /only allowed on the output/],
    [{ sizes: [4, 2], dropout: 1 }, /dropout/],
    [{ sizes: [4, 2], hiddenActivation: 'gelu' as never }, /hidden activation must be one of/],
    [{ sizes: [4, 2], init: 'orthogonal' as never }, /weight init must be one of/],
    [{ sizes: [4, 2], normalization: 'layer' as never }, /normalization must be one of/],
  ])('rejects %j', (config, message) => {
    expect(() => resolveNetworkConfig(config)).toThrow(message);
  });
});

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: forward pass', (_n, engine) => {
  it('applies inverted dropout with masks fixed until redrawn, and none at evaluation', () => {
    const rng = Rng.fromSeed(2);
    const net = Network.create({ sizes: [50, 400, 3], dropout: 0.25 }, rng);
    const x = new Matrix(8, 50);
    rng.fillUniform(x.data);
    const masks = new DropoutMasks(net, 8);
    masks.draw(rng);
    const values = new Set(masks.masks[0]);
    expect([...values].sort()).toEqual([0, 1 / 0.75].map(Math.fround).sort());
    const zeros = masks.masks[0]!.filter((v) => v === 0).length / masks.masks[0]!.length;
    expect(zeros).toBeGreaterThan(0.2);
    expect(zeros).toBeLessThan(0.3);
    const s1 = new ForwardState(net, 8);
    const s2 = new ForwardState(net, 8);
    forward(engine, s1, x, masks);
    forward(engine, s2, x, masks);
    expect(s2.post[0]!.data).toEqual(s1.post[0]!.data);
    const plain = new ForwardState(net, 8);
    forward(engine, plain, x, null);
    const hd = s1.post[0]!.data;
    const hp = plain.post[0]!.data;
    const m = masks.masks[0]!;
    for (let i = 0; i < hd.length; i++) expect(hd[i]).toBeCloseTo(hp[i]! * m[i]!, 5);
  });

  it('normalises hidden activity per sample or over the whole batch', () => {
    const rng = Rng.fromSeed(3);
    const x = new Matrix(5, 6);
    rng.fillNormal(x.data);
    for (const normalization of ['sample-l2', 'batch-frobenius'] as const) {
      const net = Network.create({ sizes: [6, 9, 2], normalization }, rng);
      const state = new ForwardState(net, 5);
      forward(engine, state, x, null);
      const h = state.postView(0).toArray();
      const norms = h.map((row) => Math.sqrt(row.reduce((s, v) => s + v * v, 0)));
      if (normalization === 'sample-l2') norms.forEach((n) => expect(n).toBeCloseTo(1, 5));
      else expect(Math.sqrt(norms.reduce((s, n) => s + n * n, 0))).toBeCloseTo(1, 5);
    }
  });

  it('handles smaller batches than the buffers and rejects wrong inputs', () => {
    const net = Network.create({ sizes: [4, 3, 2], bias: true }, Rng.fromSeed(4));
    net.biases[0]!.data.set([1, 2, 3]);
    const state = new ForwardState(net, 10);
    const y = forward(engine, state, new Matrix(3, 4), null);
    expect(y.rows).toBe(3);
    expect(state.preView(0).toArray()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(() => forward(engine, state, new Matrix(3, 5), null)).toThrow(/features/);
    expect(() => forward(engine, state, new Matrix(11, 4), null)).toThrow(/exceeds/);
  });

  it('angleToGradient is 0 for FA with W as feedback and under 90 degrees for DFA at init', () => {
    const rng = Rng.fromSeed(5);
    const net = Network.create({ sizes: [12, 10, 8, 3] }, rng);
    const batch = randomBatch(rng, 16, 12, 3);
    const fa = angleToGradient(
      engine,
      net,
      new FaRule(
        net,
        engine,
        16,
        net.weights.slice(1).map((w) => w.clone()),
      ),
      batch,
      null,
    );
    fa.perLayer.forEach((a) => expect(a).toBeCloseTo(0, 3));
    expect(fa.total).toBeCloseTo(0, 3);
    const dfa = angleToGradient(
      engine,
      net,
      new DfaRule(net, engine, 16, createBackwardMatrices(net.sizes, 'direct', rng)),
      batch,
      null,
    );
    expect(dfa.perLayer[2]).toBeCloseTo(0, 3); // the output layer's update is the gradient
    expect(dfa.total).toBeLessThan(90);
    expect(new GradientBuffers(engine, net).grads).toHaveLength(3);
  });
});
