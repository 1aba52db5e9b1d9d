import { describe, expect, it } from 'vitest';

import type { Engine } from '../src/core/engine.js';
import { TopdownUsageError } from '../src/core/errors.js';
import { Matrix } from '../src/core/matrix.js';
import { Rng } from '../src/core/rng.js';
import { Adam, type AdamOptions, type AdamState } from '../src/optim/adam.js';

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

/** A parameter in float64 with its Adam state: weight (rows x cols, row-major), optional bias (rows). */
interface RefParam {
  rows: number;
  cols: number;
  t: number;
  w: Float64Array;
  m: Float64Array;
  v: Float64Array;
  b: Float64Array | null;
  mb: Float64Array | null;
  vb: Float64Array | null;
}

function toFloat64(m: Matrix): Float64Array {
  return Float64Array.from(m.toFloat32Array());
}

/**
 * torch.optim.Adam (amsgrad = maximize = false) written out literally in float64: the gradient by explicit
 * loops over the batch, then for each parameter with a gradient t += 1; g += wd p; m = b1 m + (1 - b1) g;
 * v = b2 v + (1 - b2) g^2; p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 */
function referenceRun(weights: Matrix[], biases: (Matrix | null)[], options: AdamOptions, plans: Plan[]) {
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay: wd = 0 } = options;
  const params: RefParam[] = weights.map((w, i) => {
    const b = biases[i] ? toFloat64(biases[i]!) : null;
    return {
      rows: w.rows,
      cols: w.cols,
      t: 0,
      w: toFloat64(w),
      m: new Float64Array(w.size),
      v: new Float64Array(w.size),
      b,
      mb: b && new Float64Array(b.length),
      vb: b && new Float64Array(b.length),
    };
  });
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
      p.t += 1;
      const update = (x: Float64Array, grad: Float64Array, m: Float64Array, v: Float64Array): void => {
        for (let k = 0; k < x.length; k++) {
          const d = grad[k]! + wd * x[k]!;
          m[k] = beta1 * m[k]! + (1 - beta1) * d;
          v[k] = beta2 * v[k]! + (1 - beta2) * d * d;
          const mhat = m[k]! / (1 - beta1 ** p.t);
          const vhat = v[k]! / (1 - beta2 ** p.t);
          x[k] = x[k]! - (plan.lr * mhat) / (Math.sqrt(vhat) + eps);
        }
      };
      update(p.w, g, p.m, p.v);
      if (p.b) update(p.b, gb, p.mb!, p.vb!);
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

/**
 * Random plans: every parameter written in step 0, parameter 0 written in every step but 2 (twice in step 1),
 * parameter 3 written in every step but 1 to 3 (so step counts differ), a larger batch in step 4.
 */
function randomPlans(
  rng: Rng,
  shapes: readonly (readonly [number, number])[],
  lrs: readonly number[],
): Plan[] {
  return lrs.map((lr, step) => {
    const calls: Call[] = [];
    shapes.forEach(([rows, cols], index) => {
      let count = rng.int(step === 0 ? 1 : 0, 3);
      if (index === 0) count = step === 1 ? 2 : step === 2 ? 0 : Math.max(1, count);
      if (index === 3) count = step >= 1 && step <= 3 ? 0 : Math.max(1, count);
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

function run(adam: Adam, plans: readonly Plan[]): void {
  for (const { lr, calls } of plans) {
    adam.lr = lr;
    for (const { index, alpha, post, pre } of calls) adam.addOuter(index, alpha, post, pre);
    adam.step();
  }
}

function bytes(m: Matrix | null | undefined): Uint8Array {
  const a = m!.toFloat32Array();
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/*
 * The torch constants below were produced once with torch 1.13 (float32) by this script:
 *
 * import torch
 * def run(opts, lrs):
 *     w0 = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=torch.float32, requires_grad=True)
 *     b0 = torch.tensor([0.1, -0.2], dtype=torch.float32, requires_grad=True)
 *     w1 = torch.tensor([[1.0, -3.0]], dtype=torch.float32, requires_grad=True)
 *     opt = torch.optim.Adam([w0, b0, w1], lr=lrs[0], **opts)
 *     # addOuter(index, alpha, post, pre) per step: G += alpha post^T pre, bias += alpha colsum(post)
 *     steps = [
 *         [(0, 0.5, [[1.0, 2.0], [-1.0, 0.5]], [[1.0, 0.0, -2.0], [0.5, 1.0, 1.0]]), (1, 1.0, [[2.0]], [[1.0, -1.0]])],
 *         [(0, 0.5, [[0.0, 1.0], [3.0, -1.0]], [[1.0, 1.0, 1.0], [-1.0, 2.0, 0.0]])],
 *         [(0, 1.0, [[1.0, -1.0]], [[0.25, 0.5, -0.5]]), (1, 0.25, [[-1.0], [4.0]], [[2.0, 0.0], [1.0, 1.0]]),
 *          (0, -0.5, [[2.0, 1.0]], [[1.0, -1.0, 0.0]])],
 *     ]
 *     for lr, calls in zip(lrs, steps):
 *         for g in opt.param_groups: g['lr'] = lr
 *         opt.zero_grad(set_to_none=True)
 *         for idx, alpha, post, pre in calls:
 *             post = torch.tensor(post, dtype=torch.float32); pre = torch.tensor(pre, dtype=torch.float32)
 *             G = alpha * post.t() @ pre
 *             if idx == 0:
 *                 gb = alpha * post.sum(0)
 *                 w0.grad = G if w0.grad is None else w0.grad + G
 *                 b0.grad = gb if b0.grad is None else b0.grad + gb
 *             else:
 *                 w1.grad = G if w1.grad is None else w1.grad + G
 *         opt.step()
 *         print([x for x in w0.detach().flatten().tolist()] + b0.detach().tolist() + w1.detach().flatten().tolist())
 *     st = opt.state[w0]
 *     print('m0', st['exp_avg'].flatten().tolist(), 'v0', st['exp_avg_sq'].flatten().tolist(),
 *           'steps', [opt.state[p]['step'].item() for p in (w0, b0, w1)])
 * run(dict(betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1), [0.1, 0.1, 0.05])
 * run(dict(), [0.01, 0.01, 0.01])
 */
type Contribution = [index: number, alpha: number, post: number[][], pre: number[][]];
const TORCH_STEPS: Contribution[][] = [
  [
    [
      0,
      0.5,
      [
        [1, 2],
        [-1, 0.5],
      ],
      [
        [1, 0, -2],
        [0.5, 1, 1],
      ],
    ],
    [1, 1, [[2]], [[1, -1]]],
  ],
  [
    [
      0,
      0.5,
      [
        [0, 1],
        [3, -1],
      ],
      [
        [1, 1, 1],
        [-1, 2, 0],
      ],
    ],
  ],
  [
    [0, 1, [[1, -1]], [[0.25, 0.5, -0.5]]],
    [
      1,
      0.25,
      [[-1], [4]],
      [
        [2, 0],
        [1, 1],
      ],
    ],
    [0, -0.5, [[2, 1]], [[1, -1, 0]]],
  ],
];

/** Per torch configuration: our options, the lr of each step, and torch's output after each step. */
const TORCH_CASES: {
  name: string;
  options: AdamOptions;
  lrs: number[];
  /** [w0 (2x3 row-major), b0 (2), w1 (1x2)] after each step. */
  params: number[][];
  m0: number[];
  v0: number[];
  steps: number[];
}[] = [
  {
    name: 'betas (0.8, 0.95), eps 1e-3, weight decay 0.1, lr 0.1, 0.1, 0.05',
    options: { lr: 0.1, beta1: 0.8, beta2: 0.95, eps: 1e-3, weightDecay: 0.1 },
    lrs: [0.1, 0.1, 0.05],
    params: [
      [
        0.4003322124481201, -0.900166392326355, 2.0999231338500977, 1.4000784158706665, 0.1503623127937317,
        -0.6500547528266907, 0.009090922772884369, -0.2999187707901001, 0.9000476002693176,
        -2.900043487548828,
      ],
      [
        0.4638364315032959, -0.9636491537094116, 2.150003433227539, 1.3007944822311401, 0.18736602365970612,
        -0.6066634654998779, -0.0688275620341301, -0.36156249046325684, 0.9000476002693176,
        -2.900043487548828,
      ],
      [
        0.49984055757522583, -0.9996611475944519, 2.1755521297454834, 1.2789849042892456, 0.1997029334306717,
        -0.5995025038719177, -0.09718921035528183, -0.34771594405174255, 0.8587387204170227,
        -2.8814144134521484,
      ],
    ],
    m0: [
      -0.33591797947883606, 0.6695243716239929, -0.1898011416196823, 0.22161714732646942, -0.0386468805372715,
      -0.07613416761159897,
    ],
    v0: [
      0.13006143271923065, 0.5169847011566162, 0.0824170708656311, 0.15430325269699097, 0.014601649716496468,
      0.16893313825130463,
    ],
    steps: [3, 2],
  },
  {
    name: 'defaults, lr 0.01',
    options: { lr: 0.01 },
    lrs: [0.01, 0.01, 0.01],
    params: [
      [
        0.49000000953674316, -0.9900000095367432, 2.009999990463257, 1.4900000095367432, 0.23999999463558197,
        -0.7400000095367432, 0.10000000149011612, -0.21000000834465027, 0.9900000095367432,
        -2.990000009536743,
      ],
      [
        0.49623918533325195, -0.996239185333252, 2.016700506210327, 1.4800478219985962, 0.243661031126976,
        -0.7356027364730835, 0.09255862981081009, -0.21670058369636536, 0.9900000095367432,
        -2.990000009536743,
      ],
      [
        0.5033910274505615, -1.0033910274505615, 2.0236356258392334, 1.4760140180587769, 0.24649101495742798,
        -0.7340190410614014, 0.08680643141269684, -0.21510499715805054, 0.9816940426826477,
        -2.9873366355895996,
      ],
    ],
    m0: [
      -0.18975000083446503, 0.37950000166893005, -0.17149999737739563, 0.10612499713897705,
      -0.0247500017285347, -0.04674999788403511,
    ],
    v0: [
      0.002872625133022666, 0.011490500532090664, 0.00249550212174654, 0.00282459519803524,
      0.00031212507747113705, 0.0035561283584684134,
    ],
    steps: [3, 2],
  },
];

describe.each(availableEngines().map((e) => [e.name, e] as const))(
  '%s engine: Adam',
  (_n, engine: Engine) => {
    describe.each(TORCH_CASES)('against torch.optim.Adam (torch 1.13): $name', (tc) => {
      it('matches the parameters and moments after each of 3 steps', () => {
        const w0 = Matrix.from(2, 3, [0.5, -1, 2, 1.5, 0.25, -0.75]);
        const b0 = Matrix.from(1, 2, [0.1, -0.2]);
        const w1 = Matrix.from(1, 2, [1, -3]);
        const adam = new Adam(engine, { weights: [w0, w1], biases: [b0, null] }, tc.options);
        TORCH_STEPS.forEach((calls, s) => {
          adam.lr = tc.lrs[s]!;
          for (const [index, alpha, post, pre] of calls) {
            const b = post.length;
            adam.addOuter(
              index,
              alpha,
              Matrix.from(b, post[0]!.length, post.flat()),
              Matrix.from(b, pre[0]!.length, pre.flat()),
            );
          }
          adam.step();
          const ours = [...w0.toFloat32Array(), ...b0.toFloat32Array(), ...w1.toFloat32Array()];
          expectClose(Float32Array.from(ours), tc.params[s]!, `step ${s + 1}`, 2e-6);
        });
        const state = adam.state();
        expect(state.steps).toEqual(tc.steps);
        expectClose(state.m[0]!, tc.m0, 'm0', 2e-6);
        expectClose(state.v[0]!, tc.v0, 'v0', 2e-6);
      });
    });

    describe.each([
      { seed: 1, bias: true, options: {} },
      { seed: 2, bias: false, options: { weightDecay: 0.1 } },
      { seed: 3, bias: true, options: { weightDecay: 0.05, beta1: 0.5, beta2: 0.9, eps: 1e-4 } },
      { seed: 4, bias: true, options: { beta1: 0, beta2: 0.99, eps: 1e-6 } },
    ])('against a float64 torch.optim.Adam loop: %o', ({ seed, bias, options }) => {
      it('matches on random shapes with accumulation, skipped parameters, a strided view and lr changes', () => {
        const rng = Rng.fromSeed(2000 + seed);
        const shapes = [
          [rng.int(1, 6), rng.int(1, 9)],
          // Large enough for the blas engine's native gemm and gemv (bias sums) paths.
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
        expect(weights[2]!.isContiguous).toBe(false);
        const biases = shapes.map(([r]) => (bias ? randomMatrix(rng, 1, r, 0.5) : null));
        const plans = randomPlans(rng, shapes, [0.1, 0.1, 0.05, 0.05, 0.02, 0.01, 0.01, 0.003]);
        const expected = referenceRun(weights, biases, { lr: 1, ...options }, plans);

        const adam = new Adam(engine, { weights, biases }, { lr: 1, ...options });
        run(adam, plans);
        weights.forEach((w, i) => {
          expectClose(w.toFloat32Array(), expected[i]!.w, `W${i}`);
          if (bias) expectClose(biases[i]!.toFloat32Array(), expected[i]!.b!, `b${i}`);
        });
        const state = adam.state();
        expect(state.steps).toEqual(expected.map((p) => p.t));
        expect(state.steps[0]).toBe(plans.length - 1);
        expect(state.steps[3]).toBe(plans.length - 3);
        expected.forEach((p, i) => {
          expectClose(state.m[i]!, p.m, `m${i}`);
          expectClose(state.v[i]!, p.v, `v${i}`);
          if (bias) {
            expectClose(state.biasM[i]!, p.mb!, `mb${i}`);
            expectClose(state.biasV[i]!, p.vb!, `vb${i}`);
          } else {
            expect(state.biasM[i]).toBeNull();
            expect(state.biasV[i]).toBeNull();
          }
        });
        for (let i = 0; i < host.rows; i++) {
          for (let j = 0; j < host.cols; j++) {
            const inside = i >= 1 && i <= shapes[2][0] && j >= 2 && j < 2 + shapes[2][1];
            if (!inside) expect(host.get(i, j)).toBe(hostBefore.get(i, j));
          }
        }
      });
    });

    it('leaves a parameter without a gradient in a step untouched (p, m, v and its step count)', () => {
      const w = [Matrix.from(1, 2, [1, 2]), Matrix.from(2, 1, [3, 4])];
      const b = [Matrix.from(1, 1, [0.5]), null];
      const adam = new Adam(engine, { weights: w, biases: b }, { lr: 0.1, weightDecay: 0.1 });
      adam.addOuter(0, 1, Matrix.from(1, 1, [1]), Matrix.from(1, 2, [1, -1]));
      adam.addOuter(1, 1, Matrix.from(1, 2, [1, 1]), Matrix.from(1, 1, [2]));
      adam.step();
      const before = adam.state();
      const w1 = w[1]!.toFloat32Array();
      adam.addOuter(0, 1, Matrix.from(1, 1, [1]), Matrix.from(1, 2, [1, -1]));
      adam.step();
      const after = adam.state();
      expect(after.steps).toEqual([2, 1]);
      expect(w[1]!.toFloat32Array()).toEqual(w1);
      expect(after.m[1]).toEqual(before.m[1]);
      expect(after.v[1]).toEqual(before.v[1]);
      expect(after.m[0]).not.toEqual(before.m[0]);
      // A step with no writes at all changes nothing.
      const snapshot = w.map((x) => x.toFloat32Array());
      adam.step();
      expect(w.map((x) => x.toFloat32Array())).toEqual(snapshot);
      expect(adam.state()).toEqual(after);
    });

    it('resumes bit-identically from state()/loadState()', () => {
      const rng = Rng.fromSeed(88);
      const shapes = [
        [5, 7],
        [300, 3],
        [2, 4],
        [3, 2],
      ] as const;
      const host = randomMatrix(rng, 6, 6, 0.5);
      const weights = shapes.map(([r, c], i) =>
        i === 2 ? host.view(2, 1, r, c) : randomMatrix(rng, r, c, 0.5),
      );
      const biases = shapes.map(([r], i) => (i === 2 ? null : randomMatrix(rng, 1, r, 0.5)));
      const plans = randomPlans(rng, shapes, [0.05, 0.04, 0.03, 0.02, 0.01, 0.005, 0.002]);
      // Parameter 2 has not stepped at the checkpoint, and steps right after it.
      for (const plan of plans.slice(0, 3)) plan.calls = plan.calls.filter((c) => c.index !== 2);
      plans[3]!.calls.push({
        index: 2,
        alpha: 0.5,
        post: randomMatrix(rng, 2, 2),
        pre: randomMatrix(rng, 2, 4),
      });
      const options: AdamOptions = { lr: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 };
      const copy = (set: { weights: Matrix[]; biases: (Matrix | null)[] }) => ({
        weights: set.weights.map((w) => w.clone()),
        biases: set.biases.map((b) => b?.clone() ?? null),
      });

      const uninterrupted = copy({ weights, biases });
      run(new Adam(engine, uninterrupted, options), plans);

      const first = { weights, biases };
      const adam = new Adam(engine, first, options);
      run(adam, plans.slice(0, 3));
      const state = adam.state();
      const written = (i: number) =>
        plans.slice(0, 3).filter((p) => p.calls.some((c) => c.index === i)).length;
      expect(state.steps).toEqual([2, written(1), 0, 1]);
      expect(state.lr).toBe(0.03);
      expect(state.biasM[2]).toBeNull();
      expect(state.biasV[2]).toBeNull();
      const snapshot = copy(first);
      run(adam, plans.slice(3)); // the saved state must be a copy, unaffected by these steps

      const resumed = new Adam(engine, snapshot, { ...options, lr: 123 });
      // Garbage in the fresh optimiser's buffers must not leak through loadState.
      resumed.addOuter(1, 1, randomMatrix(rng, 3, 300), randomMatrix(rng, 3, 3));
      resumed.loadState(state);
      expect(resumed.lr).toBe(0.03);
      run(resumed, plans.slice(3));
      for (const set of [first, snapshot]) {
        uninterrupted.weights.forEach((w, i) => expect(bytes(set.weights[i])).toEqual(bytes(w)));
        uninterrupted.biases.forEach((b, i) => {
          if (b) expect(bytes(set.biases[i])).toEqual(bytes(b));
        });
      }
    });

    it('refuses a checkpoint mid-step, and states that do not fit', () => {
      const adam = new Adam(engine, { weights: [new Matrix(2, 3)], biases: [new Matrix(1, 2)] }, { lr: 0.1 });
      adam.addOuter(0, 1, new Matrix(4, 2), new Matrix(4, 3));
      expect(() => adam.state()).toThrow(TopdownUsageError);
      adam.step();
      const good = adam.state();
      const bad: AdamState[] = [
        { ...good, steps: [] },
        { ...good, steps: [-1] },
        { ...good, steps: [1.5] },
        { ...good, m: [new Float32Array(5)] },
        { ...good, v: [new Float32Array(7)] },
        { ...good, m: [] },
        { ...good, biasM: [null] },
        { ...good, biasV: [new Float32Array(3)] },
        { ...good, lr: -1 },
        { ...good, lr: NaN },
      ];
      for (const s of bad) expect(() => adam.loadState(s)).toThrow(TopdownUsageError);
      expect(adam.state()).toEqual(good); // a refused state changes nothing
      adam.loadState(good);
      expect(adam.state()).toEqual(good);
    });

    it('validates options, parameters and addOuter arguments', () => {
      const params = { weights: [new Matrix(2, 3)], biases: [null] };
      const cases: [Partial<AdamOptions>, string][] = [
        [{ lr: -0.1 }, 'lr'],
        [{ lr: NaN }, 'lr'],
        [{ lr: Infinity }, 'lr'],
        [{ beta1: 1 }, 'beta1'],
        [{ beta1: -0.1 }, 'beta1'],
        [{ beta2: 1 }, 'beta2'],
        [{ beta2: NaN }, 'beta2'],
        [{ eps: -1e-8 }, 'eps'],
        [{ eps: Infinity }, 'eps'],
        [{ weightDecay: -1 }, 'weightDecay'],
        [{ weightDecay: NaN }, 'weightDecay'],
      ];
      for (const [bad, field] of cases) {
        const make = () => new Adam(engine, params, { lr: 0.1, ...bad });
        expect(make).toThrow(TopdownUsageError);
        expect(make).toThrow(new RegExp(`^${field} must be`));
      }
      expect(() => new Adam(engine, params, { lr: undefined as unknown as number })).toThrow(/^lr must be/);
      const adam = new Adam(engine, params, { lr: 0.1, beta1: 0, eps: 0 });
      expect(adam.options).toEqual({ lr: 0.1, beta1: 0, beta2: 0.999, eps: 0, weightDecay: 0 });
      expect(new Adam(engine, params, { lr: 0 }).options).toEqual({
        lr: 0,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0,
      });
      expect(() => adam.addOuter(1, 1, new Matrix(1, 2), new Matrix(1, 3))).toThrow(TopdownUsageError);
      expect(() => adam.addOuter(0, 1, new Matrix(1, 3), new Matrix(1, 3))).toThrow(TopdownUsageError);
      expect(() => adam.addOuter(0, 1, new Matrix(2, 2), new Matrix(1, 3))).toThrow(TopdownUsageError);
      expect(
        () => new Adam(engine, { weights: [new Matrix(2, 3)], biases: [new Matrix(1, 3)] }, { lr: 0.1 }),
      ).toThrow(TopdownUsageError);
      expect(() => new Adam(engine, { weights: [new Matrix(2, 3)], biases: [] }, { lr: 0.1 })).toThrow(
        TopdownUsageError,
      );
    });

    it('applies a learning rate set between steps, and refuses a bad one', () => {
      const rng = Rng.fromSeed(9);
      const w = randomMatrix(rng, 4, 3);
      const calls = [0, 1, 2].map(() => ({ post: randomMatrix(rng, 2, 4), pre: randomMatrix(rng, 2, 3) }));
      const a = { weights: [w.clone()], biases: [null] };
      const b = { weights: [w.clone()], biases: [null] };
      const setLater = new Adam(engine, a, { lr: 0.1 });
      const fixed = new Adam(engine, b, { lr: 0.3 });
      const go = (adam: Adam, s: number) => {
        adam.addOuter(0, 0.5, calls[s]!.post, calls[s]!.pre);
        adam.step();
      };
      // Set before the first step: the same bits as an optimiser built with that lr.
      setLater.lr = 0.3;
      expect(setLater.lr).toBe(0.3);
      go(setLater, 0);
      go(fixed, 0);
      expect(bytes(a.weights[0])).toEqual(bytes(b.weights[0]));
      expect(bytes(a.weights[0])).not.toEqual(bytes(w));
      // A different lr for one step moves the parameter differently.
      setLater.lr = 0.05;
      go(setLater, 1);
      go(fixed, 1);
      expect(bytes(a.weights[0])).not.toEqual(bytes(b.weights[0]));
      // lr 0: the moments and the step count advance, the parameter stays.
      setLater.lr = 0;
      const before = a.weights[0]!.toFloat32Array();
      const m = setLater.state().m[0]!;
      go(setLater, 2);
      expect(a.weights[0]!.toFloat32Array()).toEqual(before);
      expect(setLater.state().m[0]).not.toEqual(m);
      expect(setLater.state().steps).toEqual([3]);
      expect(() => (setLater.lr = -1)).toThrow(TopdownUsageError);
      expect(() => (setLater.lr = NaN)).toThrow(/^lr must be/);
      expect(setLater.lr).toBe(0);
    });

    it('follows a parameter matrix replaced in the set, and refuses one of another shape', () => {
      const weights = [Matrix.from(1, 2, [1, 1])];
      const adam = new Adam(engine, { weights, biases: [null] }, { lr: 0.5 });
      adam.addOuter(0, 1, Matrix.from(1, 1, [1]), Matrix.from(1, 2, [1, -2]));
      adam.step(); // first step moves each element by lr * sign(g) (up to eps)
      expectClose(weights[0]!.toFloat32Array(), [0.5, 1.5], 'p', 1e-6);
      const replacement = Matrix.from(1, 2, [10, 10]);
      weights[0] = replacement;
      adam.addOuter(0, 1, Matrix.from(1, 1, [1]), Matrix.from(1, 2, [1, -2]));
      adam.step(); // same gradient again: mhat / sqrt(vhat) = sign(g)
      expectClose(replacement.toFloat32Array(), [9.5, 10.5], 'p', 1e-6);
      weights[0] = new Matrix(2, 1);
      adam.addOuter(0, 1, Matrix.from(1, 1, [1]), Matrix.from(1, 2, [1, 2]));
      expect(() => adam.step()).toThrow(TopdownUsageError);
    });
  },
);
