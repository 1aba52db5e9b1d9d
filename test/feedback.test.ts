import { describe, expect, it } from 'vitest';

import { Matrix } from '../src/core/matrix.js';
import { angleDegreesTransposed } from '../src/metrics/angles.js';
import { Rng } from '../src/core/rng.js';
import { mirrorSchedule, resolveMirrorOptions, WeightMirror } from '../src/feedback/mirror.js';
import { entryStd, TopDownFeedback } from '../src/feedback/top-down.js';
import { Network } from '../src/nn/network.js';
import { Sgd } from '../src/optim/sgd.js';
import { FaRule } from '../src/rules/fa.js';
import { PepitaRule } from '../src/rules/pepita.js';
import { NormalStream } from '../src/core/normal-stream.js';
import { pepitaStepWithMirroring } from '../src/rules/pepita-mirroring.js';
import { createBackwardMatrices } from '../src/feedback/backward-matrices.js';

import { availableEngines } from './helpers.js';
import { teacherBatch } from './rules-helpers.js';

const engines = availableEngines();

const angleToTranspose = angleDegreesTransposed;

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: feedback', (_n, engine) => {
  it('uniform F has entry std scale * sqrt(2 / d0) and the paper CIFAR-10 bound', () => {
    const f = TopDownFeedback.create([3072, 1024, 10], { init: 'uniform' }, Rng.fromSeed(1), engine);
    const bound = 0.05 * Math.sqrt(6 / 3072);
    expect(bound).toBeCloseTo(0.0022097, 6);
    let max = 0;
    for (const v of f.matrix.data) max = Math.max(max, Math.abs(v));
    expect(max).toBeLessThanOrEqual(bound + 1e-9);
    expect(entryStd(f.matrix) / f.targetStd).toBeCloseTo(1, 1);
    expect(f.targetStd).toBeCloseTo(0.0012758, 6);
    const positive = TopDownFeedback.create([50, 20, 10], { meanZero: false }, Rng.fromSeed(1), engine);
    expect(Math.min(...positive.matrix.data)).toBeGreaterThanOrEqual(0);
  });

  it('normal F is a product of factors whose std matches the uniform scheme', () => {
    const f = TopDownFeedback.create([784, 256, 128, 10], { init: 'normal' }, Rng.fromSeed(2), engine);
    expect(f.factors!.map((m) => [m.rows, m.cols])).toEqual([
      [784, 256],
      [256, 128],
      [128, 10],
    ]);
    // s = (0.05 sqrt(2/784) / sqrt(256 * 128))^(1/3)
    const s = Math.pow((0.05 * Math.sqrt(2 / 784)) / Math.sqrt(256 * 128), 1 / 3);
    expect(entryStd(f.factors![0]!) / s).toBeCloseTo(1, 1);
    expect(entryStd(f.matrix) / f.targetStd).toBeGreaterThan(0.9);
    expect(entryStd(f.matrix) / f.targetStd).toBeLessThan(1.1);
    const f0 = f.factors![0]!;
    let direct = 0;
    for (let p = 0; p < 256; p++) {
      let inner = 0;
      for (let q = 0; q < 128; q++) inner += f.factors![1]!.get(p, q) * f.factors![2]!.get(q, 3);
      direct += f0.get(5, p) * inner;
    }
    expect(f.matrix.get(5, 3)).toBeCloseTo(direct, 6);
    engine.run('scal', { alpha: 3, x: f0.data });
    f.recompute(engine);
    const version = f.version;
    f.normalize(engine);
    expect(f.version).toBeGreaterThan(version);
    expect(entryStd(f.matrix) / f.targetStd).toBeCloseTo(1, 5);
  });

  it('weight mirroring drives each factor towards its forward matrix transposed', () => {
    const rng = Rng.fromSeed(3);
    const net = Network.create({ sizes: [30, 20, 8], dropout: 0.1 }, rng);
    const feedback = TopDownFeedback.create(net.sizes, { init: 'normal' }, rng, engine);
    const factors = feedback.factors!;
    const before = factors.map((f, l) => angleToTranspose(f, net.weights[l]!));
    before.forEach((a) => expect(a).toBeGreaterThan(75));
    // The Hebbian signal grows with noise^2 while F's renormalisation undoes the weight decay, so with the
    // reference defaults (noise 0.1, lr 0.1) a net this small needs thousands of steps; stronger noise and a
    // larger rate show the same drift within a few hundred.
    const options = resolveMirrorOptions({ noise: 0.3, learningRate: 0.5 });
    const sgd = new Sgd(
      engine,
      { weights: factors, biases: factors.map(() => null) },
      {
        lr: options.learningRate,
        weightDecay: options.weightDecay,
      },
    );
    const mirror = new WeightMirror(net, feedback, engine, 128, sgd, options);
    const mirrorRng = rng.derive('mirror');
    const streams = { rng: mirrorRng, normals: NormalStream.fromRng(mirrorRng.derive('normals')) };
    for (let i = 0; i < 300; i++) mirror.step(streams);
    const after = factors.map((f, l) => angleToTranspose(f, net.weights[l]!));
    after.forEach((a, l) => expect(a, `layer ${l}: ${before[l]} -> ${a}`).toBeLessThan(45));
    expect(entryStd(feedback.matrix) / feedback.targetStd).toBeCloseTo(1, 4);
  });

  it('weight mirroring refuses the single-matrix F and schedules pre-mirroring and periods', () => {
    const net = Network.create({ sizes: [6, 4, 2] }, Rng.fromSeed(4));
    const uniform = TopDownFeedback.create(net.sizes, { init: 'uniform' }, Rng.fromSeed(4), engine);
    const sgd = new Sgd(engine, net, { lr: 0.1 });
    expect(() => new WeightMirror(net, uniform, engine, 8, sgd)).toThrow(/factorised/);
    const o = resolveMirrorOptions({ period: 3, preMirrorEpochs: 2 });
    expect([0, 1, 2, 3, 4, 5].map((e) => mirrorSchedule(e, o))).toEqual([
      { preMirroring: true, mirror: true },
      { preMirroring: true, mirror: true },
      { preMirroring: false, mirror: true },
      { preMirroring: false, mirror: false },
      { preMirroring: false, mirror: false },
      { preMirroring: false, mirror: true },
    ]);
    expect(() => resolveMirrorOptions({ period: 0 })).toThrow(/period/);
  });

  it('Kolen-Pollack feedback learning aligns FA feedback with the forward weights', () => {
    const rng = Rng.fromSeed(5);
    const net = Network.create({ sizes: [20, 16, 12, 4] }, rng);
    const feedback = createBackwardMatrices(net.sizes, 'fa', rng);
    const angle = (l: number): number => angleToTranspose(feedback[l]!, transpose(net.weights[l + 1]!));
    const before = [angle(0), angle(1)];
    // W and R receive identical updates, so W - R only decays, by (1 - lr * wd) per step: 0.995^600 ~ e^-3.
    const opts = { lr: 0.05, momentum: 0, weightDecay: 0.1 };
    const sgd = new Sgd(engine, net, opts);
    const kp = new Sgd(engine, { weights: feedback, biases: feedback.map(() => null) }, opts);
    const rule = new FaRule(net, engine, 16, feedback, kp);
    const teacher = new Matrix(4, 20);
    rng.fillNormal(teacher.data);
    for (let i = 0; i < 600; i++) rule.train(teacherBatch(rng, teacher, 16), sgd, null);
    [angle(0), angle(1)].forEach((a, l) => expect(a, `${before[l]} -> ${a}`).toBeLessThan(before[l]! / 2));
  });
});

function transpose(m: Matrix): Matrix {
  const t = new Matrix(m.cols, m.rows);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) t.set(j, i, m.get(i, j));
  return t;
}

describe.each(engines.map((e) => [e.name, e] as const))(
  '%s engine: PEPITA with weight mirroring',
  (_n, engine) => {
    it('pre-mirroring epochs change F only; later epochs train W and mirror on schedule', () => {
      const rng = Rng.fromSeed(6);
      const net = Network.create({ sizes: [12, 8, 3] }, rng);
      const feedback = TopDownFeedback.create(net.sizes, { init: 'normal' }, rng, engine);
      const factors = feedback.factors!;
      const mirror = new WeightMirror(
        net,
        feedback,
        engine,
        16,
        new Sgd(engine, { weights: factors, biases: factors.map(() => null) }, { lr: 0.1, weightDecay: 0.5 }),
        { preMirrorEpochs: 1, period: 2 },
      );
      const rule = new PepitaRule(net, engine, 16, feedback);
      const sgd = new Sgd(engine, net, { lr: 0.1, momentum: 0.9 });
      const teacher = new Matrix(3, 12);
      rng.fillNormal(teacher.data);
      const step = (epoch: number) =>
        pepitaStepWithMirroring(engine, rule, mirror, epoch, teacherBatch(rng, teacher, 16), sgd, null, {
          rng,
          normals: NormalStream.fromRng(rng),
        });
      const snapshot = () => ({ w: net.weights[0]!.data.slice(), f: feedback.matrix.data.slice() });
      let before = snapshot();
      const state = step(0); // pre-mirroring: F moves, W does not
      expect(state.rows).toBe(16);
      expect(net.weights[0]!.data).toEqual(before.w);
      expect(feedback.matrix.data).not.toEqual(before.f);
      before = snapshot();
      step(2); // (2 + 1) % 2 != 0: PEPITA only
      expect(net.weights[0]!.data).not.toEqual(before.w);
      expect(feedback.matrix.data).toEqual(before.f);
      before = snapshot();
      step(3); // both
      expect(net.weights[0]!.data).not.toEqual(before.w);
      expect(feedback.matrix.data).not.toEqual(before.f);
    });
  },
);
