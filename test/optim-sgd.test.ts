import { describe, expect, it } from 'vitest';

import type { Engine } from '../src/core/engine.js';
import { TopdownUsageError } from '../src/core/errors.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { GradientBuffers, Sgd, type SgdOptions, type SgdState } from '../src/optim/index.js';

import { availableEngines } from './helpers.js';

const RTOL = 1e-5;

/** One addOuter call: G[index] += alpha * post^T pre. */
interface Call {
  index: number;
  alpha: number;
  post: Matrix;
  pre: Matrix;
}

/** One optimiser step: the learning rate in force and the calls written before step(). */
interface Plan {
  lr: number;
  calls: Call[];
}

/** A parameter in float64: weight (rows x cols, row-major) and optional bias (rows). */
interface RefParam {
  rows: number;
  cols: number;
  w: Float64Array;
  b: Float64Array | null;
  buf: Float64Array | null;
  bufB: Float64Array | null;
}

function toFloat64(m: Matrix): Float64Array {
  return Float64Array.from(m.toFloat32Array());
}

/**
 * torch.optim.SGD (nesterov = false) written out literally in float64: the gradient by explicit loops over
 * the batch, then d = g + wd p; buf = first ? d : momentum buf + (1 - dampening) d; d = buf; p -= lr d.
 */
function referenceRun(weights: Matrix[], biases: (Matrix | null)[], options: SgdOptions, plans: Plan[]) {
  const { momentum = 0, weightDecay: wd = 0, dampening = 0 } = options;
  const params: RefParam[] = weights.map((w, i) => ({
    rows: w.rows,
    cols: w.cols,
    w: toFloat64(w),
    b: biases[i] ? toFloat64(biases[i]!) : null,
    buf: null,
    bufB: null,
  }));
  for (const plan of plans) {
    const grads = new Map<number, { g: Float64Array; gb: Float64Array }>();
    for (const { index, alpha, post, pre } of plan.calls) {
      const p = params[index]!;
      let entry = grads.get(index);
      if (!entry) {
        entry = { g: new Float64Array(p.rows * p.cols), gb: new Float64Array(p.rows) };
        grads.set(index, entry);
      }
      for (let s = 0; s < post.rows; s++) {
        for (let i = 0; i < p.rows; i++) {
          const a = alpha * post.get(s, i);
          entry.gb[i] = entry.gb[i]! + a;
          for (let j = 0; j < p.cols; j++)
            entry.g[i * p.cols + j] = entry.g[i * p.cols + j]! + a * pre.get(s, j);
        }
      }
    }
    for (const [index, { g, gb }] of grads) {
      const p = params[index]!;
      const update = (x: Float64Array, grad: Float64Array, buf: Float64Array | null): Float64Array | null => {
        const d = grad.map((gi, k) => gi + wd * x[k]!);
        let step: Float64Array = d;
        let next = buf;
        if (momentum !== 0) {
          next =
            buf === null ? Float64Array.from(d) : buf.map((bk, k) => momentum * bk + (1 - dampening) * d[k]!);
          step = next;
        }
        for (let k = 0; k < x.length; k++) x[k] = x[k]! - plan.lr * step[k]!;
        return next;
      };
      p.buf = update(p.w, g, p.buf);
      if (p.b) p.bufB = update(p.b, gb, p.bufB);
    }
  }
  return params;
}

/** |actual - expected| <= rtol (|expected| + rms(expected)) elementwise. */
function expectClose(actual: Float32Array, expected: ArrayLike<number>, what: string, rtol = RTOL): void {
  expect(actual.length).toBe(expected.length);
  let sq = 0;
  for (let k = 0; k < expected.length; k++) sq += expected[k]! ** 2;
  const rms = Math.sqrt(sq / Math.max(1, expected.length));
  for (let k = 0; k < expected.length; k++) {
    const e = expected[k]!;
    const err = Math.abs(actual[k]! - e);
    if (!(err <= rtol * (Math.abs(e) + rms))) {
      expect.fail(`${what}[${k}]: got ${actual[k]}, expected ${e} (error ${err}, rms ${rms})`);
    }
  }
}

function randomMatrix(rng: Rng, rows: number, cols: number, std = 1): Matrix {
  return new Matrix(rows, cols, rng.fillNormal(new Float32Array(rows * cols), 0, std));
}

/** Random plans: every parameter written in step 0, parameter 0 skipped in step 2, a larger batch in step 4. */
function randomPlans(
  rng: Rng,
  shapes: readonly (readonly [number, number])[],
  lrs: readonly number[],
): Plan[] {
  return lrs.map((lr, step) => {
    const calls: Call[] = [];
    shapes.forEach(([rows, cols], index) => {
      const count = step === 2 && index === 0 ? 0 : rng.int(step === 0 ? 1 : 0, 3);
      for (let c = 0; c < count; c++) {
        const b = step === 4 && c === 0 ? 17 : rng.int(1, 9);
        const alpha = (rng.uniform() < 0.5 ? -1 : 1) / b;
        calls.push({ index, alpha, post: randomMatrix(rng, b, rows), pre: randomMatrix(rng, b, cols) });
      }
    });
    // Interleave parameters, as a rule writing layer by layer several times would.
    return { lr, calls: rng.shuffle(calls) };
  });
}

function run(sgd: Sgd, plans: readonly Plan[]): void {
  for (const { lr, calls } of plans) {
    sgd.lr = lr;
    for (const { index, alpha, post, pre } of calls) sgd.addOuter(index, alpha, post, pre);
    sgd.step();
  }
}

function bytes(m: Matrix | null | undefined): Uint8Array {
  const a = m!.toFloat32Array();
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe.each(availableEngines().map((e) => [e.name, e] as const))('%s engine: Sgd', (_n, engine: Engine) => {
  it('reproduces hand-computed torch.optim.SGD steps (momentum 0.9, weight decay 0.1, lr 0.5 then 0.05)', () => {
    // W = [1, -2] (1x2), bias [0.5]. Calls with alpha 1/2 (batch mean over b = 2):
    //   A: post = [[1], [2]], pre = I2        -> g = 0.5 [1*1 + 2*0, 1*0 + 2*1] = [0.5, 1],  gb = 0.5 (1 + 2) = 1.5
    //   B: post = [[-1], [0]], pre = [[2, 2], [0, 0]] -> g = 0.5 (-1) [2, 2] = [-1, -1],   gb = 0.5 (-1 + 0) = -0.5
    // Parameters listed as [w0, w1, b]; m = 0.9, wd = 0.1, dampening 0.
    // Step 1 (lr 0.5, A):   d = [0.5 + 0.1, 1 - 0.2, 1.5 + 0.05] = [0.6, 0.8, 1.55]; buf = d (first step)
    //                       p = [1 - 0.3, -2 - 0.4, 0.5 - 0.775] = [0.7, -2.4, -0.275]
    // Step 2 (lr 0.05, A):  d = [0.5 + 0.07, 1 - 0.24, 1.5 - 0.0275] = [0.57, 0.76, 1.4725]
    //                       buf = 0.9 [0.6, 0.8, 1.55] + d = [0.54 + 0.57, 0.72 + 0.76, 1.395 + 1.4725]
    //                           = [1.11, 1.48, 2.8675]
    //                       p = [0.7 - 0.0555, -2.4 - 0.074, -0.275 - 0.143375] = [0.6445, -2.474, -0.418375]
    // Step 3 (lr 0.05, A then B accumulated): g = [0.5 - 1, 1 - 1, 1.5 - 0.5] = [-0.5, 0, 1]
    //                       d = [-0.5 + 0.06445, 0 - 0.2474, 1 - 0.0418375] = [-0.43555, -0.2474, 0.9581625]
    //                       buf = 0.9 [1.11, 1.48, 2.8675] + d = [0.999 - 0.43555, 1.332 - 0.2474, 2.58075 + 0.9581625]
    //                           = [0.56345, 1.0846, 3.5389125]
    //                       p = [0.6445 - 0.0281725, -2.474 - 0.05423, -0.418375 - 0.176945625]
    //                         = [0.6163275, -2.52823, -0.595320625]
    // Step 4: no addOuter -> nothing changes (no decay, buf kept), like a parameter whose grad is None.
    // Step 5 (lr 0.05, A):  d = [0.5 + 0.06163275, 1 - 0.252823, 1.5 - 0.0595320625]
    //                         = [0.56163275, 0.747177, 1.4404679375]
    //                       buf = 0.9 [0.56345, 1.0846, 3.5389125] + d
    //                           = [0.507105 + 0.56163275, 0.97614 + 0.747177, 3.18502125 + 1.4404679375]
    //                           = [1.06873775, 1.723317, 4.6254891875]
    //                       p = [0.6163275 - 0.0534368875, -2.52823 - 0.08616585, -0.595320625 - 0.231274459375]
    //                         = [0.5628906125, -2.61439585, -0.826595084375]
    const w = Matrix.from(1, 2, [1, -2]);
    const b = Matrix.from(1, 1, [0.5]);
    const sgd = new Sgd(engine, { weights: [w], biases: [b] }, { lr: 0.5, momentum: 0.9, weightDecay: 0.1 });
    const postA = Matrix.from(2, 1, [1, 2]);
    const preA = Matrix.from(2, 2, [1, 0, 0, 1]);
    const postB = Matrix.from(2, 1, [-1, 0]);
    const preB = Matrix.from(2, 2, [2, 2, 0, 0]);
    const params = () => [w.get(0, 0), w.get(0, 1), b.get(0, 0)];
    const expectParams = (expected: number[]) =>
      expectClose(Float32Array.from(params()), expected, 'p', 1e-6);

    sgd.addOuter(0, 0.5, postA, preA);
    sgd.step();
    expectParams([0.7, -2.4, -0.275]);

    sgd.lr = 0.05;
    sgd.addOuter(0, 0.5, postA, preA);
    sgd.step();
    expectParams([0.6445, -2.474, -0.418375]);

    sgd.addOuter(0, 0.5, postA, preA);
    sgd.addOuter(0, 0.5, postB, preB);
    sgd.step();
    expectParams([0.6163275, -2.52823, -0.595320625]);
    expectClose(sgd.state().buffers[0]!, [0.56345, 1.0846], 'buf', 1e-6);
    expectClose(sgd.state().biasBuffers[0]!, [3.5389125], 'bias buf', 1e-6);

    const before = params();
    sgd.step();
    expect(params()).toEqual(before);

    sgd.addOuter(0, 0.5, postA, preA);
    sgd.step();
    expectParams([0.5628906125, -2.61439585, -0.826595084375]);
  });

  describe.each([
    { seed: 1, momentum: 0, dampening: 0, weightDecay: 0.1, bias: true },
    { seed: 2, momentum: 0, dampening: 0.3, weightDecay: 0, bias: false },
    { seed: 3, momentum: 0.9, dampening: 0, weightDecay: 0.1, bias: true },
    { seed: 4, momentum: 0.9, dampening: 0, weightDecay: 0.05, bias: false },
    { seed: 5, momentum: 0.9, dampening: 0.3, weightDecay: 0.1, bias: true },
    { seed: 6, momentum: 0.9, dampening: 0.3, weightDecay: 0, bias: false },
  ])('against a float64 torch.optim.SGD loop: %o', ({ seed, bias, ...options }) => {
    it('matches on random shapes with accumulation, skipped parameters and lr changes', () => {
      const rng = Rng.fromSeed(1000 + seed);
      const shapes = [
        [rng.int(1, 6), rng.int(1, 9)],
        // Large enough for the blas engine's native gemm, gemv (bias sums) and sgdUpdate paths.
        [rng.int(260, 320), rng.int(2, 4)],
        [rng.int(2, 5), rng.int(3, 7)],
        [rng.int(1, 3), 1],
      ] as const;
      // Parameter 2 is a strided block inside a bigger matrix whose other elements must stay untouched.
      const host = randomMatrix(rng, shapes[2][0] + 3, shapes[2][1] + 4, 0.5);
      const hostBefore = host.clone();
      const weights = shapes.map(([r, c], i) =>
        i === 2 ? host.view(1, 2, r, c) : randomMatrix(rng, r, c, 0.5),
      );
      const biases = shapes.map(([r]) => (bias ? randomMatrix(rng, 1, r, 0.5) : null));
      const plans = randomPlans(rng, shapes, [0.5, 0.5, 0.2, 0.2, 0.05, 0.05, 0.01]);
      const expected = referenceRun(weights, biases, { lr: 1, ...options }, plans);

      const sgd = new Sgd(engine, { weights, biases }, { lr: 1, ...options });
      run(sgd, plans);
      weights.forEach((w, i) => {
        expectClose(w.toFloat32Array(), expected[i]!.w, `W${i}`);
        if (bias) expectClose(biases[i]!.toFloat32Array(), expected[i]!.b!, `b${i}`);
      });
      for (let i = 0; i < host.rows; i++) {
        for (let j = 0; j < host.cols; j++) {
          const inside = i >= 1 && i <= shapes[2][0] && j >= 2 && j < 2 + shapes[2][1];
          if (!inside) expect(host.get(i, j)).toBe(hostBefore.get(i, j));
        }
      }
    });
  });

  it('resumes bit-identically from state()/loadState()', () => {
    const rng = Rng.fromSeed(77);
    const shapes = [
      [5, 7],
      [300, 3],
      [2, 4],
    ] as const;
    const weights = shapes.map(([r, c]) => randomMatrix(rng, r, c, 0.5));
    const biases = shapes.map(([r], i) => (i === 2 ? null : randomMatrix(rng, 1, r, 0.5)));
    const plans = randomPlans(rng, shapes, [0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02]);
    // Parameter 2 has not stepped at the checkpoint, and steps right after it.
    for (const plan of plans.slice(0, 3)) plan.calls = plan.calls.filter((c) => c.index !== 2);
    plans[3]!.calls.push({
      index: 2,
      alpha: 0.5,
      post: randomMatrix(rng, 2, 2),
      pre: randomMatrix(rng, 2, 4),
    });
    const options: SgdOptions = { lr: 0.5, momentum: 0.9, weightDecay: 0.1, dampening: 0.3 };

    const uninterrupted = {
      weights: weights.map((w) => w.clone()),
      biases: biases.map((b) => b?.clone() ?? null),
    };
    run(new Sgd(engine, uninterrupted, options), plans);

    const first = { weights: weights.map((w) => w.clone()), biases: biases.map((b) => b?.clone() ?? null) };
    const sgd = new Sgd(engine, first, options);
    run(sgd, plans.slice(0, 3));
    const state = sgd.state();
    expect(state.stepped).toEqual([true, true, false]);
    expect(state.lr).toBe(0.3);
    expect(state.biasBuffers[2]).toBeNull();
    const snapshot = {
      weights: first.weights.map((w) => w.clone()),
      biases: first.biases.map((b) => b?.clone() ?? null),
    };
    run(sgd, plans.slice(3)); // the saved state must be a copy, unaffected by these steps

    const resumed = new Sgd(engine, snapshot, { ...options, lr: 123 });
    resumed.loadState(state);
    expect(resumed.lr).toBe(0.3);
    run(resumed, plans.slice(3));
    for (const set of [first, snapshot]) {
      uninterrupted.weights.forEach((w, i) => expect(bytes(set.weights[i])).toEqual(bytes(w)));
      uninterrupted.biases.forEach((b, i) => {
        if (b) expect(bytes(set.biases[i])).toEqual(bytes(b));
      });
    }
  });

  it('refuses a checkpoint mid-step, and states that do not fit', () => {
    const w = new Matrix(2, 3);
    const sgd = new Sgd(engine, { weights: [w], biases: [new Matrix(1, 2)] }, { lr: 0.1, momentum: 0.5 });
    sgd.addOuter(0, 1, new Matrix(4, 2), new Matrix(4, 3));
    expect(() => sgd.state()).toThrow(TopdownUsageError);
    sgd.step();
    const good = sgd.state();
    const bad: SgdState[] = [
      { ...good, stepped: [] },
      { ...good, buffers: [new Float32Array(5)] },
      { ...good, biasBuffers: [null] },
      { ...good, biasBuffers: [new Float32Array(3)] },
      { ...good, lr: -1 },
    ];
    for (const s of bad) expect(() => sgd.loadState(s)).toThrow(TopdownUsageError);
    sgd.loadState(good);
  });

  it('validates options, lr changes, parameters and addOuter arguments', () => {
    const params = { weights: [new Matrix(2, 3)], biases: [null] };
    const cases: [Partial<SgdOptions>, string][] = [
      [{ lr: -0.1 }, 'lr'],
      [{ lr: NaN }, 'lr'],
      [{ lr: Infinity }, 'lr'],
      [{ momentum: 1 }, 'momentum'],
      [{ momentum: -0.1 }, 'momentum'],
      [{ weightDecay: -1 }, 'weightDecay'],
      [{ weightDecay: NaN }, 'weightDecay'],
      [{ dampening: 1.5 }, 'dampening'],
      [{ dampening: -0.5 }, 'dampening'],
    ];
    for (const [bad, field] of cases) {
      expect(() => new Sgd(engine, params, { lr: 0.1, ...bad })).toThrow(TopdownUsageError);
      expect(() => new Sgd(engine, params, { lr: 0.1, ...bad })).toThrow(field);
    }
    const sgd = new Sgd(engine, params, { lr: 0.1, dampening: 1 });
    expect(sgd.options).toEqual({ lr: 0.1, momentum: 0, weightDecay: 0, dampening: 1 });
    expect(() => (sgd.lr = -1)).toThrow(TopdownUsageError);
    expect(sgd.lr).toBe(0.1);
    expect(() => sgd.addOuter(1, 1, new Matrix(1, 2), new Matrix(1, 3))).toThrow(TopdownUsageError);
    expect(() => sgd.addOuter(0, 1, new Matrix(1, 3), new Matrix(1, 3))).toThrow(TopdownUsageError);
    expect(() => sgd.addOuter(0, 1, new Matrix(2, 2), new Matrix(1, 3))).toThrow(TopdownUsageError);
    expect(
      () => new Sgd(engine, { weights: [new Matrix(2, 3)], biases: [new Matrix(1, 3)] }, { lr: 0.1 }),
    ).toThrow(TopdownUsageError);
    expect(() => new Sgd(engine, { weights: [new Matrix(2, 3)], biases: [] }, { lr: 0.1 })).toThrow(
      TopdownUsageError,
    );
  });

  it('follows a parameter matrix replaced in the set, and ignores garbage in fresh buffers', () => {
    const weights = [Matrix.from(1, 2, [1, 1])];
    const sgd = new Sgd(engine, { weights, biases: [null] }, { lr: 1, momentum: 0.5 });
    sgd.addOuter(0, 1, Matrix.from(1, 1, [1]), Matrix.from(1, 2, [1, 2]));
    sgd.step();
    expect(weights[0]!.toArray()).toEqual([[0, -1]]);
    const replacement = Matrix.from(1, 2, [10, 10]);
    weights[0] = replacement;
    sgd.addOuter(0, 1, Matrix.from(1, 1, [1]), Matrix.from(1, 2, [1, 2]));
    sgd.step(); // buf = 0.5 [1, 2] + [1, 2] = [1.5, 3]
    expect(replacement.toArray()).toEqual([[8.5, 7]]);
    weights[0] = new Matrix(2, 1);
    sgd.addOuter(0, 1, Matrix.from(1, 1, [1]), Matrix.from(1, 2, [1, 2]));
    expect(() => sgd.step()).toThrow(TopdownUsageError);
  });
});

describe.each(availableEngines().map((e) => [e.name, e] as const))(
  '%s engine: GradientBuffers',
  (_n, engine: Engine) => {
    it('holds explicit sums of outer products, overwriting after step()', () => {
      const rng = Rng.fromSeed(5);
      const shapes = [
        [3, 4],
        [270, 2],
        [1, 5],
      ] as const;
      const weights = shapes.map(([r, c]) => new Matrix(r, c));
      const biases = shapes.map(([r], i) => (i === 1 ? null : new Matrix(1, r)));
      const buffers = new GradientBuffers(engine, { weights, biases });
      expect(buffers.grads.map((g) => [g.rows, g.cols])).toEqual(shapes.map((s) => [...s]));
      expect(buffers.biasGrads.map((b) => b?.cols ?? null)).toEqual([3, null, 1]);

      for (let round = 0; round < 3; round++) {
        const plan = randomPlans(rng, shapes, [0])[0]!;
        if (round === 2) plan.calls = plan.calls.filter((c) => c.index !== 0);
        const before = buffers.grads[0]!.toFloat32Array();
        // The sums by explicit loops over the batch, in float64.
        const expected = shapes.map(([r, c], i) => ({
          w: new Float64Array(r * c),
          b: biases[i] ? new Float64Array(r) : null,
        }));
        for (const { index, alpha, post, pre } of plan.calls) {
          const e = expected[index]!;
          const [rows, cols] = shapes[index]!;
          for (let s = 0; s < post.rows; s++) {
            for (let i = 0; i < rows; i++) {
              const a = alpha * post.get(s, i);
              if (e.b) e.b[i] = e.b[i]! + a;
              for (let j = 0; j < cols; j++) e.w[i * cols + j] = e.w[i * cols + j]! + a * pre.get(s, j);
            }
          }
        }
        for (const { index, alpha, post, pre } of plan.calls) buffers.addOuter(index, alpha, post, pre);
        shapes.forEach((_s, i) => {
          const written = plan.calls.some((c) => c.index === i);
          expect(buffers.touched(i)).toBe(written);
          if (!written) return;
          expectClose(buffers.grads[i]!.toFloat32Array(), expected[i]!.w, `G${i}`);
          if (expected[i]!.b) expectClose(buffers.biasGrads[i]!.toFloat32Array(), expected[i]!.b!, `gb${i}`);
        });
        if (round === 2) expect(buffers.grads[0]!.toFloat32Array()).toEqual(before); // untouched: kept
        const kept = buffers.grads.map((g) => g.toFloat32Array());
        buffers.step();
        shapes.forEach((_s, i) => {
          expect(buffers.touched(i)).toBe(false);
          expect(buffers.grads[i]!.toFloat32Array()).toEqual(kept[i]);
        });
      }
      expect(() => buffers.addOuter(3, 1, new Matrix(1, 1), new Matrix(1, 1))).toThrow(TopdownUsageError);
      expect(() => buffers.addOuter(0, 1, new Matrix(2, 3), new Matrix(3, 4))).toThrow(TopdownUsageError);
    });
  },
);
