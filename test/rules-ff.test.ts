import { describe, expect, it } from 'vitest';

import { JsEngine } from '../src/core/engine.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { forward, ForwardState } from '../src/nn/forward.js';
import { Network } from '../src/nn/network.js';
import { Adam } from '../src/optim/adam.js';
import { GradientBuffers } from '../src/optim/gradients.js';
import { Sgd } from '../src/optim/sgd.js';
import { embedLabels, embedNeutral, readEmbeddedLabel } from '../src/rules/ff-labels.js';
import { FfRule, softplus, type FfOptions } from '../src/rules/ff.js';
import { TopDownFeedback } from '../src/feedback/top-down.js';
import { PepitaRule } from '../src/rules/pepita.js';

const engine = new JsEngine();
const argmax = (row: Float32Array): number => row.indexOf(Math.max(...row));
const C = 3;

function ffNet(seed: number, activation: 'relu' | 'tanh', bias: boolean, sizes = [10, 7, 6, C]): Network {
  return Network.create(
    { sizes, hiddenActivation: activation, bias, init: 'he_uniform', dropout: 0, normalization: 'sample-l2' },
    Rng.fromSeed(seed),
  );
}

function batchOf(rng: Rng, b: number, d0: number): { x: Matrix; targets: Matrix; labels: number[] } {
  const x = new Matrix(b, d0);
  rng.fillUniform(x.data);
  const targets = new Matrix(b, C);
  const labels = Array.from({ length: b }, () => rng.int(0, C - 1));
  labels.forEach((c, i) => targets.set(i, c, 1));
  return { x, targets, labels };
}

/** Float64 FF objective of hidden layer l (and the read-out's cross-entropy for l = L-1), from scratch. */
function referenceLoss(
  net: Network,
  W: Float64Array[],
  B: (Float64Array | null)[],
  x: Matrix,
  labels: number[],
  negatives: number[][],
  options: Required<Pick<FfOptions, 'goodness' | 'labelValue'>>,
  l: number,
): number {
  const sizes = net.sizes;
  const L = net.depth;
  const act = (v: number) => (net.activationOf(0) === 'relu' ? Math.max(0, v) : Math.tanh(v));
  const input = (i: number, label: number | null): number[] => {
    const row = Array.from({ length: sizes[0]! }, (_, j) => x.get(i, j));
    for (let c = 0; c < C; c++)
      row[c] = label === null ? options.labelValue / C : c === label ? options.labelValue : 0;
    const n = Math.hypot(...row);
    return row.map((v) => v / n);
  };
  /** raw activity of every hidden layer and the read-out's softmax for one input */
  const run = (h0: number[]): { raw: number[][]; out: number[] } => {
    let h = h0;
    const raw: number[][] = [];
    for (let k = 0; k < L; k++) {
      const a = Array.from({ length: sizes[k + 1]! }, (_, r) => {
        let s = B[k] ? B[k]![r]! : 0;
        for (let c = 0; c < sizes[k]!; c++) s += W[k]![r * sizes[k]! + c]! * h[c]!;
        return s;
      });
      if (k === L - 1) {
        const m = Math.max(...a);
        const e = a.map((v) => Math.exp(v - m));
        const z = e.reduce((p, q) => p + q, 0);
        return { raw, out: e.map((v) => v / z) };
      }
      const g = a.map(act);
      raw.push(g);
      const n = Math.hypot(...g);
      h = g.map((v) => (n > 0 ? v / n : 0));
    }
    throw new Error('unreachable');
  };
  const b = x.rows;
  if (l === L - 1) {
    let ce = 0;
    for (let i = 0; i < b; i++) ce -= Math.log(run(input(i, null)).out[labels[i]!]!);
    return ce / b;
  }
  const d = sizes[l + 1]!;
  const theta = options.goodness === 'sum' ? d : 2;
  const goodness = (h: number[]) => h.reduce((s, v) => s + v * v, 0) / (options.goodness === 'mean' ? d : 1);
  let pos = 0;
  for (let i = 0; i < b; i++) pos += softplus(theta - goodness(run(input(i, labels[i]!)).raw[l]!));
  let neg = 0;
  let count = 0;
  for (const row of negatives) {
    for (let i = 0; i < b; i++) {
      neg += softplus(goodness(run(input(i, row[i]!)).raw[l]!) - theta);
      count++;
    }
  }
  return pos / b + neg / count;
}

describe('Forward-Forward', () => {
  it.each([
    ['relu', 'sum', false],
    ['tanh', 'mean', true],
    ['relu', 'mean', true],
  ] as const)(
    '%s, %s goodness, bias %s: every layer gradient equals central differences of its loss',
    (act, goodness, bias) => {
      const net = ffNet(3, act, bias);
      // large weights so that goodness is near the threshold and the logistic is not saturated
      for (const w of net.weights.slice(0, -1)) w.data.forEach((v, i) => (w.data[i] = v * 4));
      const rng = Rng.fromSeed(8);
      const { x, targets, labels } = batchOf(rng, 5, 10);
      const options = { goodness, labelValue: 1, negatives: 'all' } as const;
      const rule = new FfRule(net, engine, 5, Rng.fromSeed(1), options);
      const grads = new GradientBuffers(engine, net);
      rule.train({ x, targets }, grads, null);
      const negatives = [1, 2].map((k) => labels.map((c) => (c + k) % C));
      const W = net.weights.map((w) => Float64Array.from(w.data));
      const B = net.biases.map((bb) => (bb ? Float64Array.from(bb.data) : null));
      const h = 1e-5;
      for (let l = 0; l < net.depth; l++) {
        const loss = () => referenceLoss(net, W, B, x, labels, negatives, { goodness, labelValue: 1 }, l);
        for (const k of [0, 3, 11, W[l]!.length - 1]) {
          const v = W[l]![k]!;
          W[l]![k] = v + h;
          const up = loss();
          W[l]![k] = v - h;
          const down = loss();
          W[l]![k] = v;
          const fd = (up - down) / (2 * h);
          expect(grads.grads[l]!.data[k]!, `layer ${l} weight ${k}`).toBeCloseTo(fd, 4);
        }
        if (B[l]) {
          const v = B[l]![1]!;
          B[l]![1] = v + h;
          const up = loss();
          B[l]![1] = v - h;
          const down = loss();
          B[l]![1] = v;
          expect(grads.biasGrads[l]!.data[1]!).toBeCloseTo((up - down) / (2 * h), 4);
        }
      }
    },
  );

  it('peer normalisation adds the gradient of lambda * mean_j (m_j - mean m)^2 through the running means', () => {
    const net = ffNet(5, 'relu', false);
    const rng = Rng.fromSeed(2);
    const { x, targets } = batchOf(rng, 4, 10);
    const plain = new GradientBuffers(engine, net);
    new FfRule(net, engine, 4, Rng.fromSeed(1), { negatives: 'all' }).train({ x, targets }, plain, null);
    const peer = new GradientBuffers(engine, net);
    const rule = new FfRule(net, engine, 4, Rng.fromSeed(1), { negatives: 'all', peerNormalization: 0.5 });
    rule.peerMeans[0]!.data.forEach((_, j, a) => (a[j] = 0.3 * ((j % 3) - 1)));
    const m0 = Float64Array.from(rule.peerMeans[0]!.data);
    rule.train({ x, targets }, peer, null);
    // reference: finite differences of the penalty as a function of W_1 (the running mean uses this batch)
    const labelOf = (i: number) => targets.row(i).indexOf(1);
    // the positive inputs: label embedded, then scaled to unit length (the network normalises with sample-l2)
    const inputs = Array.from({ length: 4 }, (_, i) => {
      const row = Array.from({ length: 10 }, (_, j) => (j < C ? (j === labelOf(i) ? 1 : 0) : x.get(i, j)));
      const n = Math.hypot(...row);
      return row.map((v) => v / n);
    });
    const h1 = (W: Float64Array): number[][] =>
      inputs.map((row) =>
        Array.from({ length: 7 }, (_, r) => {
          let s = 0;
          for (let c = 0; c < 10; c++) s += W[r * 10 + c]! * row[c]!;
          return Math.max(0, s);
        }),
      );
    const penalty = (W: Float64Array): number => {
      const h = h1(W);
      const m = Array.from(m0, (v, j) => 0.9 * v + (0.1 * h.reduce((s, row) => s + row[j]!, 0)) / 4);
      const avg = m.reduce((s, v) => s + v, 0) / 7;
      return (0.5 * m.reduce((s, v) => s + (v - avg) ** 2, 0)) / 7;
    };
    const W = Float64Array.from(net.weights[0]!.data);
    for (const k of [0, 5, 22, 69]) {
      const v = W[k]!;
      W[k] = v + 1e-6;
      const up = penalty(W);
      W[k] = v - 1e-6;
      const down = penalty(W);
      W[k] = v;
      const diff = peer.grads[0]!.data[k]! - plain.grads[0]!.data[k]!;
      expect(diff).toBeCloseTo((up - down) / 2e-6, 5);
    }
  });

  it.each(['random', 'hard', 'all'] as const)('%s negatives never carry the true label', (negatives) => {
    const net = ffNet(7, 'relu', false, [12, 8, 5]);
    const classes = 5;
    const rng = Rng.fromSeed(4);
    const rule = new FfRule(net, engine, 20, Rng.fromSeed(9), { negatives });
    const sink = new GradientBuffers(engine, net);
    const seen = new Set<string>();
    for (let step = 0; step < 30; step++) {
      const x = new Matrix(20, 12);
      rng.fillUniform(x.data);
      const targets = new Matrix(20, classes);
      const labels = Array.from({ length: 20 }, () => rng.int(0, classes - 1));
      labels.forEach((c, i) => targets.set(i, c, 1));
      rule.train({ x, targets }, sink, null);
      // the paired pass: 20 positives, then the negatives
      const perSample = negatives === 'all' ? classes - 1 : 1;
      const pair = rule.paired.input;
      expect(pair.rows).toBe(20 + 20 * perSample);
      for (let r = 0; r < 20; r++) expect(readEmbeddedLabel(pair, r, classes)).toBe(labels[r]);
      const neg = pair.view(20, 0, 20 * perSample, pair.cols);
      for (let r = 0; r < neg.rows; r++) {
        const label = readEmbeddedLabel(neg, r, classes);
        expect(label).not.toBe(labels[r % 20]);
        expect(label).toBeGreaterThanOrEqual(0);
        seen.add(`${labels[r % 20]}->${label}`);
      }
    }
    // every wrong label turns up (5 classes x 4 wrong labels)
    expect(seen.size).toBe(20);
  });

  it('label embedding round-trips, the neutral label reads as none, and bad labels are refused', () => {
    const x = new Matrix(3, 8);
    x.data.fill(0.5);
    const out = new Matrix(3, 8);
    embedLabels(x, [2, 0, 4], 5, 1, out);
    expect([0, 1, 2].map((i) => readEmbeddedLabel(out, i, 5))).toEqual([2, 0, 4]);
    expect(Array.from(out.row(0))).toEqual([0, 0, 1, 0, 0, 0.5, 0.5, 0.5]);
    embedNeutral(x, 5, 1, out);
    expect(readEmbeddedLabel(out, 1, 5)).toBe(-1);
    expect(out.get(1, 3)).toBeCloseTo(0.2, 7);
    expect(() => embedLabels(x, [0, 5, 1], 5, 1, out)).toThrow(/outside 0..4/);
    expect(() => embedLabels(x, [0, 1, 1], 9, 1, out)).toThrow(/cannot embed 9 labels/);
  });

  it('refuses a network it cannot train', () => {
    const plain = Network.create({ sizes: [10, 6, C], dropout: 0 }, Rng.fromSeed(1));
    expect(() => new FfRule(plain, engine, 4, Rng.fromSeed(1))).toThrow(/sample-l2/);
    const dropout = Network.create(
      { sizes: [10, 6, C], dropout: 0.1, normalization: 'sample-l2' },
      Rng.fromSeed(1),
    );
    expect(() => new FfRule(dropout, engine, 4, Rng.fromSeed(1))).toThrow(/dropout/);
  });

  it('learns a synthetic task: both the read-out and the goodness classifier beat 90%', () => {
    const d0 = 24;
    const classes = 4;
    const net = Network.create(
      { sizes: [d0, 64, 64, classes], bias: true, dropout: 0, normalization: 'sample-l2' },
      Rng.fromSeed(3),
    );
    const rng = Rng.fromSeed(6);
    const centres = Array.from({ length: classes }, () => Array.from({ length: d0 }, () => rng.uniform()));
    const sample = (n: number) => {
      const x = new Matrix(n, d0);
      const targets = new Matrix(n, classes);
      const labels: number[] = [];
      for (let i = 0; i < n; i++) {
        const c = rng.int(0, classes - 1);
        labels.push(c);
        targets.set(i, c, 1);
        for (let j = 0; j < d0; j++) x.set(i, j, Math.max(0, centres[c]![j]! + 0.15 * rng.normal()));
      }
      return { x, targets, labels };
    };
    const rule = new FfRule(net, engine, 32, Rng.fromSeed(2), { goodness: 'mean', threshold: 1 });
    const adam = new Adam(engine, net, { lr: 0.01 });
    for (let step = 0; step < 400; step++) {
      const { x, targets } = sample(32);
      rule.train({ x, targets }, adam, null);
    }
    const metrics = rule.diagnostics();
    expect(metrics.goodness_pos[0]!).toBeGreaterThan(metrics.goodness_neg[0]!);
    const test = sample(300);
    const predicted = new Int32Array(300);
    rule.predictByGoodness(test.x, predicted);
    const goodnessAcc = test.labels.filter((c, i) => predicted[i] === c).length / 300;
    expect(goodnessAcc).toBeGreaterThan(0.9);
    // the read-out on the neutral-label input
    const x = test.x;
    rule.prepareInput(x);
    const out = forward(engine, new ForwardState(net, 300), x, null);
    const readoutAcc = test.labels.filter((c, i) => argmax(out.row(i)) === c).length / 300;
    expect(readoutAcc).toBeGreaterThan(0.9);
  });

  it("PEPITA's goodness mode is PEPITA-Hebbian on a ReLU net (spec 2.11) and descends 1/2 J_l on a tanh net", () => {
    for (const activation of ['relu', 'tanh'] as const) {
      const net = Network.create(
        { sizes: [9, 7, 6, 4], hiddenActivation: activation, dropout: 0 },
        Rng.fromSeed(2),
      );
      const feedback = TopDownFeedback.create(net.sizes, { scale: 0.5 }, Rng.fromSeed(3), engine);
      const rng = Rng.fromSeed(5);
      const x = new Matrix(3, 9);
      rng.fillNormal(x.data);
      const targets = new Matrix(3, 4);
      [1, 3, 0].forEach((c, i) => targets.set(i, c, 1));
      const goodness = new GradientBuffers(engine, net);
      const rule = new PepitaRule(net, engine, 3, feedback, { mode: 'goodness' });
      rule.train({ x, targets }, goodness, null);
      if (activation === 'relu') {
        const hebbian = new GradientBuffers(engine, net);
        new PepitaRule(net, engine, 3, feedback, { mode: 'hebbian' }).train({ x, targets }, hebbian, null);
        goodness.grads.forEach((g, l) =>
          expect(Array.from(g.data)).toEqual(Array.from(hebbian.grads[l]!.data)),
        );
        continue;
      }
      // tanh: G_1 = d/dW_1 of 1/2 mean_i (||tanh(W_1 x_i)||^2 - ||tanh(W_1 x_mod,i)||^2), inputs held fixed
      const xMod = rule.modulated.input;
      const W = Float64Array.from(net.weights[0]!.data);
      const J = () => {
        let s = 0;
        for (let i = 0; i < 3; i++) {
          for (let r = 0; r < 7; r++) {
            let a = 0;
            let am = 0;
            for (let c = 0; c < 9; c++) {
              a += W[r * 9 + c]! * x.get(i, c);
              am += W[r * 9 + c]! * xMod.get(i, c);
            }
            s += 0.5 * (Math.tanh(a) ** 2 - Math.tanh(am) ** 2);
          }
        }
        return s / 3;
      };
      for (const k of [0, 10, 40, 62]) {
        const v = W[k]!;
        W[k] = v + 1e-6;
        const up = J();
        W[k] = v - 1e-6;
        const down = J();
        W[k] = v;
        expect(goodness.grads[0]!.data[k]!).toBeCloseTo((up - down) / 2e-6, 5);
      }
    }
  });

  it('trains with SGD too, and its epoch metrics reset when taken', () => {
    const net = ffNet(1, 'relu', true);
    const rule = new FfRule(net, engine, 6, Rng.fromSeed(1));
    const sgd = new Sgd(engine, net, { lr: 0.01, momentum: 0.9 });
    const rng = Rng.fromSeed(3);
    for (let i = 0; i < 3; i++) rule.train(batchOf(rng, 6, 10), sgd, null);
    const m = rule.diagnostics();
    expect(m.goodness_pos).toHaveLength(2);
    expect(m.ff_loss.every((v) => v > 0)).toBe(true);
    expect(rule.diagnostics().goodness_pos).toEqual([0, 0]);
  });
});
