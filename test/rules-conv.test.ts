// Rules on convolutional networks: BP against finite differences, PEPITA's conv update against a float64 loop
// of the ICML model's computation, FA = BP when its kernels are the forward ones, architecture strings and
// their refusals, the cost model, and a tiny conv net that learns under every conv rule (through the CLI).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { Engine } from '../src/core/engine-base.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { createBackwardMatrices } from '../src/feedback/backward-matrices.js';
import { angleToGradient } from '../src/rules/gradient-alignment.js';
import { TopDownFeedback } from '../src/feedback/top-down.js';
import { archLayerCosts, archNetwork, parseArch } from '../src/nn/arch.js';
import { forward, ForwardState } from '../src/nn/forward.js';
import { Network } from '../src/nn/network.js';
import { GradientBuffers } from '../src/optim/gradients.js';
import { BpRule } from '../src/rules/bp.js';
import { stepCost } from '../src/rules/costs.js';
import { FaRule } from '../src/rules/fa.js';
import { batchLoss } from '../src/rules/output-error.js';
import { PepitaRule } from '../src/rules/pepita.js';
import type { Batch } from '../src/rules/rule.js';
import { resolveTrainConfig } from '../src/train/config.js';

import { availableEngines, runCliCaptured } from './helpers.js';
import { randomBatch } from './rules-helpers.js';
import { writeSyntheticMnist } from './train-helpers.js';

/** A small image net: conv(3, 3x3, pad 1) + pool on 2x6x6, conv(2, 2x2) on 3x3x3, fc 4, output 3. */
function smallNet(activation: 'tanh' | 'relu', seed: number, engine: Engine): Network {
  const input = [2, 6, 6] as const;
  const arch = archNetwork('conv3x3p1-pool2-conv2x2-fc4-fc', input, 3);
  return Network.create(
    { ...arch, hiddenActivation: activation, init: 'he_uniform' },
    Rng.fromSeed(seed),
    engine,
  );
}

/** A random batch in `engine`'s memory (non-negative pixels). */
function imageBatch(engine: Engine, seed: number, b: number, d0: number, classes: number): Batch {
  const data = randomBatch(Rng.fromSeed(seed), b, d0, classes);
  const x = Matrix.zeros(b, d0, engine);
  x.data.set(data.x.data.map((v) => Math.abs(v)));
  const targets = Matrix.zeros(b, classes, engine);
  targets.data.set(data.targets.data);
  return { x, targets };
}

function gradients(engine: Engine, net: Network, run: (sink: GradientBuffers) => void): Float32Array[] {
  const sink = new GradientBuffers(engine, { weights: net.weights, biases: net.biases });
  run(sink);
  return sink.grads.map((g) => g.data.slice());
}

describe('architecture strings', () => {
  it("give the ICML conv model's widths on MNIST and CIFAR-10", () => {
    expect(parseArch('conv32x5-pool2-fc', [1, 28, 28], 10).sizes).toEqual([784, 4608, 10]);
    expect(parseArch('conv32x5-pool2-fc', [3, 32, 32], 10).sizes).toEqual([3072, 6272, 10]);
    expect(parseArch('conv8x3s2p1-conv4x3-pool2-fc64-fc', [1, 28, 28], 10).sizes).toEqual([
      784,
      8 * 14 * 14,
      4 * 6 * 6,
      64,
      10,
    ]);
    expect(parseArch('fc1024-fc1024-fc', [3, 32, 32], 100).sizes).toEqual([3072, 1024, 1024, 100]);
  });

  it('refuse what does not describe a network, in one line naming the token', () => {
    const bad: [string, string][] = [
      ['conv32x5-pool2', 'it must end with the output layer "fc"'],
      ['conv32x5-pool3-fc', 'unknown layer "pool3"'],
      ['pool2-fc', '"pool2" must follow a convolution'],
      ['conv4x3-pool2-pool2-fc', '"pool2" must follow a convolution'],
      ['fc10-conv4x3-fc', '"conv4x3" comes after a fully connected layer'],
      ['conv4x29-fc', '"conv4x29" does not fit a 28x28 input'],
      ['conv0x3-fc', 'needs positive filters'],
    ];
    for (const [text, why] of bad) {
      expect(() => parseArch(text, [1, 28, 28], 10)).toThrow(why);
    }
  });

  it('set the hidden widths in a config, and are refused for rules without conv support', () => {
    const config = resolveTrainConfig({ rule: 'pepita', data: 'cifar10', arch: 'conv32x5-pool2-fc' });
    expect(config.hidden).toEqual([6272]);
    expect(() => resolveTrainConfig({ rule: 'ff', data: 'mnist', arch: 'conv32x5-pool2-fc' })).toThrow(
      'config: arch: rule ff trains fully connected networks only (convolutions: pepita, bp, fa, dfa, drtp)',
    );
    // a fully connected architecture suits every rule
    expect(resolveTrainConfig({ rule: 'ff', data: 'mnist', arch: 'fc256-fc' }).hidden).toEqual([256]);
    expect(() => resolveTrainConfig({ rule: 'bp', data: 'mnist', arch: 'conv4x3-fcx-fc' })).toThrow(
      'unknown layer "fcx"',
    );
  });

  it('leave configs without one unchanged (no arch key: run ids stay the same)', () => {
    expect('arch' in resolveTrainConfig({ rule: 'pepita', data: 'mnist' })).toBe(false);
    const pepita = resolveTrainConfig({ rule: 'pepita', data: 'mnist' }).pepita as Record<string, unknown>;
    expect('convAverage' in pepita).toBe(false);
  });
});

describe.each(availableEngines().map((e) => [e.name, e] as const))(
  'conv rules on the %s engine',
  (_, engine) => {
    it('BP gradients of a conv net equal finite differences of the loss', () => {
      const net = smallNet('tanh', 1, engine);
      const batch = imageBatch(engine, 2, 4, 72, 3);
      const rule = new BpRule(net, engine, 4);
      const grads = gradients(engine, net, (sink) => rule.train(batch, sink, null));
      const state = new ForwardState(net, 4, engine);
      const loss = (): number => {
        forward(engine, state, batch.x, null);
        return batchLoss(state, batch.targets);
      };
      const eps = 1e-3; // 1e-2 moves some pooled maxima to another pixel
      let checked = 0;
      net.weights.forEach((w, l) => {
        for (let i = 0; i < w.data.length; i += Math.max(1, Math.floor(w.data.length / 7))) {
          const keep = w.data[i]!;
          w.data[i] = keep + eps;
          const up = loss();
          w.data[i] = keep - eps;
          const down = loss();
          w.data[i] = keep;
          const numeric = (up - down) / (2 * eps);
          expect(grads[l]![i]!, `W${l + 1}[${i}]`).toBeCloseTo(numeric, 3);
          checked++;
        }
      });
      expect(checked).toBeGreaterThan(20);
    });

    it("PEPITA's conv update is the mean over positions of (h - h_mod) x the modulated patches", () => {
      // the ICML model in miniature: conv(3, 3x3) -> ReLU -> 2x2 pool -> FC -> softmax, on 2 x 7 x 7
      const input = [2, 7, 7] as const;
      const net = Network.create(
        { ...archNetwork('conv3x3-pool2-fc', input, 4), init: 'he_uniform' },
        Rng.fromSeed(5),
        engine,
      );
      const b = 3;
      const { x, targets } = imageBatch(engine, 6, b, 98, 4);
      const feedback = TopDownFeedback.create(
        net.sizes,
        { init: 'uniform', scale: 2 },
        Rng.fromSeed(7),
        engine,
      );
      const updates = (convAverage: 'positions' | 'positions-batch'): Float32Array[] => {
        const rule = new PepitaRule(net, engine, b, feedback, { sign: 'plus', convAverage });
        const sink = new GradientBuffers(engine, { weights: net.weights, biases: net.biases });
        rule.train({ x, targets }, sink, null);
        return sink.grads.map((g) => g.data.slice());
      };
      const [gConv, gFc] = updates('positions');

      // float64 reference: the loops of models.py's Net1conv1fcXL and compute_delta_w_conv
      const [C, H, W] = input;
      const K = 3;
      const O = H - K + 1; // 5
      const Q = Math.floor(O / 2); // 2
      const wc = Array.from(net.weights[0]!.data);
      const wf = Array.from(net.weights[1]!.data);
      const F = feedback.matrix;
      const pass = (img: number[]): { act: number[]; pooled: number[]; y: number[] } => {
        const act: number[] = [];
        for (let f = 0; f < 3; f++)
          for (let oy = 0; oy < O; oy++)
            for (let ox = 0; ox < O; ox++) {
              let s = 0;
              for (let c = 0; c < C; c++)
                for (let i = 0; i < K; i++)
                  for (let j = 0; j < K; j++)
                    s += wc[f * C * K * K + c * K * K + i * K + j]! * img[c * H * W + (oy + i) * W + ox + j]!;
              act.push(Math.max(0, s));
            }
        const pooled: number[] = [];
        for (let f = 0; f < 3; f++)
          for (let py = 0; py < Q; py++)
            for (let px = 0; px < Q; px++) {
              let m = -Infinity;
              for (let d = 0; d < 4; d++)
                m = Math.max(m, act[f * O * O + (2 * py + (d >> 1)) * O + 2 * px + (d & 1)]!);
              pooled.push(m);
            }
        const z = Array.from({ length: 4 }, (_, k) =>
          pooled.reduce((s, v, j) => s + wf[k * pooled.length + j]! * v, 0),
        );
        const top = Math.max(...z);
        const ez = z.map((v) => Math.exp(v - top));
        const sum = ez.reduce((s, v) => s + v, 0);
        return { act, pooled, y: ez.map((v) => v / sum) };
      };
      const refConv = new Float64Array(3 * C * K * K);
      const refFc = new Float64Array(4 * 3 * Q * Q);
      for (let s = 0; s < b; s++) {
        const img = Array.from(x.data.subarray(s * 98, (s + 1) * 98));
        const clean = pass(img);
        const e = clean.y.map((v, k) => v - targets.data[s * 4 + k]!);
        const xmod = img.map((v, p) => v + e.reduce((acc, ek, k) => acc + F.get(p, k) * ek, 0));
        const mod = pass(xmod);
        for (let f = 0; f < 3; f++)
          for (let oy = 0; oy < O; oy++)
            for (let ox = 0; ox < O; ox++) {
              const diff = clean.act[f * O * O + oy * O + ox]! - mod.act[f * O * O + oy * O + ox]!;
              for (let c = 0; c < C; c++)
                for (let i = 0; i < K; i++)
                  for (let j = 0; j < K; j++)
                    refConv[f * C * K * K + c * K * K + i * K + j]! +=
                      (diff * xmod[c * H * W + (oy + i) * W + ox + j]!) / (b * O * O);
            }
        for (let k = 0; k < 4; k++)
          for (let j = 0; j < mod.pooled.length; j++)
            refFc[k * mod.pooled.length + j]! += (e[k]! * mod.pooled[j]!) / b;
      }
      const close = (got: Float32Array, want: Float64Array): void => {
        const scale = Math.max(...Array.from(want, Math.abs));
        expect(scale).toBeGreaterThan(0);
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-4 * scale);
      };
      close(gConv!, refConv);
      close(gFc!, refFc);
      // the ICML code's scaling: the same update divided by the batch size once more; the FC layer's unchanged
      const [gConvIcml, gFcIcml] = updates('positions-batch');
      close(
        gConvIcml!,
        refConv.map((v) => v / b),
      );
      close(gFcIcml!, refFc);
    });

    it('FA with kernels equal to the forward ones is BP, bit for bit', () => {
      for (const activation of ['relu', 'tanh'] as const) {
        const net = smallNet(activation, 3, engine);
        const batch = imageBatch(engine, 4, 5, 72, 3);
        const bp = gradients(engine, net, (sink) => new BpRule(net, engine, 5).train(batch, sink, null));
        const kernels = net.weights.slice(1).map((w) => Matrix.zeros(w.rows, w.cols, engine).copyFrom(w));
        const fa = gradients(engine, net, (sink) =>
          new FaRule(net, engine, 5, kernels).train(batch, sink, null),
        );
        fa.forEach((g, l) => expect(Array.from(g), `layer ${l + 1}`).toEqual(Array.from(bp[l]!)));
        // and random kernels of the same shapes give a different update of the layers below them
        const random = createBackwardMatrices(
          net.sizes,
          'fa',
          Rng.fromSeed(9),
          1,
          engine,
          net.weights.slice(1).map((w) => [w.rows, w.cols] as const),
        );
        expect([random[0]!.rows, random[0]!.cols]).toEqual([2, 12]); // kernels: 2 filters x 3 channels x 2 x 2
        const faRandom = gradients(engine, net, (sink) =>
          new FaRule(net, engine, 5, random).train(batch, sink, null),
        );
        expect(Array.from(faRandom[0]!)).not.toEqual(Array.from(bp[0]!));
        expect(Array.from(faRandom[3]!)).toEqual(Array.from(bp[3]!));
      }
    });
  },
);

describe('the angle to backprop on conv nets', () => {
  it("is 0 for FA with the forward kernels and defined for PEPITA's conv update", () => {
    const engine = availableEngines()[0]!;
    const net = smallNet('relu', 8, engine);
    const batch = imageBatch(engine, 9, 6, 72, 3);
    const kernels = net.weights.slice(1).map((w) => Matrix.zeros(w.rows, w.cols, engine).copyFrom(w));
    const fa = angleToGradient(engine, net, new FaRule(net, engine, 6, kernels), batch, null);
    expect(fa.total).toBeCloseTo(0, 3);
    const feedback = TopDownFeedback.create(
      net.sizes,
      { init: 'uniform', scale: 1 },
      Rng.fromSeed(10),
      engine,
    );
    const pepita = angleToGradient(engine, net, new PepitaRule(net, engine, 6, feedback), batch, null);
    expect(pepita.perLayer).toHaveLength(4);
    for (const angle of pepita.perLayer) expect(angle).toBeGreaterThanOrEqual(0);
    expect(pepita.total).toBeGreaterThan(0);
    expect(pepita.total).toBeLessThan(180);
  });
});

describe("the conv rules' cost model", () => {
  it("prices the ICML conv model's PEPITA and BP steps from the layers' products", () => {
    const { sizes, layers } = archLayerCosts('conv32x5-pool2-fc', [1, 28, 28], 10);
    expect(layers.map((l) => l.macs)).toEqual([32 * 576 * 25, 4608 * 10]);
    const P = 32 * 576 * 25 + 4608 * 10;
    const b = 50;
    const pepita = stepCost({ sizes, layers, batch: b, rule: 'pepita' });
    // clean and modulated passes in full (no W_1 F shortcut), X + E F^T, one update per layer
    expect(pepita.breakdown).toEqual({
      forward: b * P,
      modulation: b * 784 * 10,
      w1f: 0,
      'modulated-forward': b * P,
      updates: b * P,
    });
    const bp = stepCost({ sizes, layers, batch: b, rule: 'bp' });
    expect(bp.breakdown).toEqual({ forward: b * P, feedback: b * 4608 * 10, updates: b * P });
    // both passes keep the input, the conv activation before and after pooling, and the output
    expect(pepita.peakActivationFloats).toBe(2 * b * (784 + 18432 + 4608 + 10));
  });
});

describe('a tiny conv net learns', () => {
  const dir = mkdtempSync(join(tmpdir(), 'topdown-conv-'));
  writeSyntheticMnist(dir, 11, 1500, 300);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['pepita', 'bp', 'fa', 'drtp'])('under %s, and resumes bit-identically', async (rule) => {
    const out = join(dir, `run-${rule}`);
    const args = [
      'train',
      '--rule',
      rule,
      '--data',
      'mnist',
      '--data-dir',
      dir,
      '--arch',
      'conv8x5s2-pool2-fc',
    ];
    const first = await runCliCaptured([...args, '--epochs', '3', '--batch-size', '50', '--out', out]);
    expect(first.code, first.err).toBe(0);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const last = JSON.parse(metrics[metrics.length - 1]!) as { test_acc: number };
    expect(last.test_acc).toBeGreaterThan(0.8);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as {
      arch: string;
      hidden: number[];
    };
    expect(config.arch).toBe('conv8x5s2-pool2-fc');
    expect(config.hidden).toEqual([8 * 6 * 6]);
    // one epoch, then resumed to three: the same numbers as the straight run
    const split = join(dir, `split-${rule}`);
    expect(
      (await runCliCaptured([...args, '--epochs', '1', '--batch-size', '50', '--out', split])).code,
    ).toBe(0);
    expect((await runCliCaptured(['train', '--resume', split, '--epochs', '3'])).code).toBe(0);
    const strip = (file: string): unknown[] =>
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const { seconds, samples_per_s, ...rest } = JSON.parse(l) as Record<string, unknown>;
          void seconds;
          void samples_per_s;
          return rest;
        });
    expect(strip(join(split, 'metrics.jsonl'))).toEqual(strip(join(out, 'metrics.jsonl')));
  });
});
