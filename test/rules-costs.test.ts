import { describe, expect, it } from 'vitest';

import { TopdownUsageError } from '../src/core/errors.js';
import { stepCost, type CostQuery } from '../src/rules/costs.js';

/**
 * Hand-computed costs at b = 64.
 *
 * MNIST net 784-1024-10 (L = 2):
 *   P = 784*1024 + 1024*10 = 802,816 + 10,240 = 813,056;  bP = 64 * 813,056 = 52,035,584
 *   stored activities b (d_0 + d_1 + d_2) = 64 * 1,818 = 116,352;  delta buffer b max_{l>=1} d_l = 64 * 1024 = 65,536
 *   feedback bp/fa: b d_2 d_1 = 64*10*1024 = 655,360;  dfa/drtp: b d_2 d_1 = 655,360 (same)
 *   W_1 F: d_1 d_0 d_2 = 1024*784*10 = 8,028,160;  E F^T: b d_0 d_2 = 64*784*10 = 501,760
 *   pepita modulated forward: b d_2 d_1 + b (P - d_0 d_1) = 655,360 + 64*10,240 = 1,310,720
 *   mirroring: 2bP + d_0 d_1 d_2 = 104,071,168 + 8,028,160 = 112,099,328
 *
 * CIFAR net 3072-1024-1024-10 (L = 3):
 *   P = 3072*1024 + 1024*1024 + 1024*10 = 3,145,728 + 1,048,576 + 10,240 = 4,204,544;  bP = 269,090,816
 *   stored activities 64 * (3072 + 1024 + 1024 + 10) = 64 * 5,130 = 328,320;  delta buffer 65,536
 *   feedback bp/fa: b (d_2 d_1 + d_3 d_2) = 64 * (1,048,576 + 10,240) = 67,764,224
 *   feedback dfa/drtp: b d_3 (d_1 + d_2) = 64*10*2048 = 1,310,720
 *   W_1 F: 1024*3072*10 = 31,457,280;  E F^T: 64*3072*10 = 1,966,080
 *   afa feedback: b d_3 d_1 + b d_2 d_1 = 655,360 + 67,108,864 = 67,764,224
 *   pepita modulated forward: 655,360 + 64 * (1,048,576 + 10,240) = 68,419,584
 *   mirroring: 2bP + d_0 d_1 d_2 + d_0 d_2 d_3 = 538,181,632 + 3,221,225,472 + 31,457,280 = 3,790,864,384
 */
const MNIST = [784, 1024, 10];
const CIFAR = [3072, 1024, 1024, 10];

interface Expected {
  macs: number;
  floats: number;
  breakdown: Record<string, number>;
}

const cases: [string, Omit<CostQuery, 'batch'>, Expected][] = [
  // ---- 784-1024-10 ----
  [
    'mnist bp',
    { sizes: MNIST, rule: 'bp' },
    // 52,035,584 + 655,360 + 52,035,584; peak 116,352 + 65,536
    {
      macs: 104_726_528,
      floats: 181_888,
      breakdown: { forward: 52_035_584, feedback: 655_360, updates: 52_035_584 },
    },
  ],
  [
    'mnist fa',
    { sizes: MNIST, rule: 'fa' },
    {
      macs: 104_726_528,
      floats: 181_888,
      breakdown: { forward: 52_035_584, feedback: 655_360, updates: 52_035_584 },
    },
  ],
  [
    'mnist fa + kolen-pollack',
    { sizes: MNIST, rule: 'fa', options: { kolenPollack: true } },
    {
      macs: 104_726_528,
      floats: 181_888,
      breakdown: { forward: 52_035_584, feedback: 655_360, updates: 52_035_584, 'kolen-pollack': 0 },
    },
  ],
  [
    'mnist dfa',
    { sizes: MNIST, rule: 'dfa' },
    {
      macs: 104_726_528,
      floats: 181_888,
      breakdown: { forward: 52_035_584, feedback: 655_360, updates: 52_035_584 },
    },
  ],
  [
    'mnist drtp',
    { sizes: MNIST, rule: 'drtp' },
    {
      macs: 104_726_528,
      floats: 181_888,
      breakdown: { forward: 52_035_584, feedback: 655_360, updates: 52_035_584 },
    },
  ],
  [
    'mnist afa',
    { sizes: MNIST, rule: 'afa' },
    // 2 * 52,035,584 + 8,028,160 + 655,360 (no hidden layers 2..L-1)
    {
      macs: 112_754_688,
      floats: 181_888,
      breakdown: { forward: 52_035_584, w1f: 8_028_160, feedback: 655_360, updates: 52_035_584 },
    },
  ],
  [
    'mnist pepita standard',
    { sizes: MNIST, rule: 'pepita' },
    // 2 * 52,035,584 + 501,760 + 8,028,160 + 1,310,720; peak 2 * 116,352
    {
      macs: 113_911_808,
      floats: 232_704,
      breakdown: {
        forward: 52_035_584,
        modulation: 501_760,
        w1f: 8_028_160,
        'modulated-forward': 1_310_720,
        updates: 52_035_584,
      },
    },
  ],
  [
    'mnist pepita forward',
    { sizes: MNIST, rule: 'pepita', options: { mode: 'forward' } },
    {
      macs: 113_911_808,
      floats: 232_704,
      breakdown: {
        forward: 52_035_584,
        modulation: 501_760,
        w1f: 8_028_160,
        'modulated-forward': 1_310_720,
        updates: 52_035_584,
      },
    },
  ],
  [
    'mnist pepita hebbian',
    { sizes: MNIST, rule: 'pepita', options: { mode: 'hebbian' } },
    // standard + another bP of updates: 113,911,808 + 52,035,584
    {
      macs: 165_947_392,
      floats: 232_704,
      breakdown: {
        forward: 52_035_584,
        modulation: 501_760,
        w1f: 8_028_160,
        'modulated-forward': 1_310_720,
        updates: 104_071_168,
      },
    },
  ],
  [
    'mnist pepita time-local',
    { sizes: MNIST, rule: 'pepita', options: { mode: 'time-local' } },
    // 4bP + b d_0 d_L = 208,142,336 + 501,760;
    // peak b d_0 + b d_L + b max(784 + 1024, 1024 + 10) = 50,176 + 640 + 115,712
    {
      macs: 208_644_096,
      floats: 166_528,
      breakdown: {
        forward: 52_035_584,
        modulation: 501_760,
        'modulated-forward': 52_035_584,
        updates: 104_071_168,
      },
    },
  ],
  [
    'mnist pepita standard + mirroring',
    { sizes: MNIST, rule: 'pepita', options: { mirror: {}, feedbackInit: 'normal' } },
    // 113,911,808 + 112,099,328
    {
      macs: 226_011_136,
      floats: 232_704,
      breakdown: {
        forward: 52_035_584,
        modulation: 501_760,
        w1f: 8_028_160,
        'modulated-forward': 1_310_720,
        updates: 52_035_584,
        mirroring: 112_099_328,
      },
    },
  ],
  // ---- 3072-1024-1024-10 ----
  [
    'cifar bp',
    { sizes: CIFAR, rule: 'bp' },
    // 2 * 269,090,816 + 67,764,224; peak 328,320 + 65,536
    {
      macs: 605_945_856,
      floats: 393_856,
      breakdown: { forward: 269_090_816, feedback: 67_764_224, updates: 269_090_816 },
    },
  ],
  [
    'cifar fa',
    { sizes: CIFAR, rule: 'fa' },
    {
      macs: 605_945_856,
      floats: 393_856,
      breakdown: { forward: 269_090_816, feedback: 67_764_224, updates: 269_090_816 },
    },
  ],
  [
    'cifar fa + kolen-pollack',
    { sizes: CIFAR, rule: 'fa', options: { kolenPollack: true } },
    {
      macs: 605_945_856,
      floats: 393_856,
      breakdown: { forward: 269_090_816, feedback: 67_764_224, updates: 269_090_816, 'kolen-pollack': 0 },
    },
  ],
  [
    'cifar dfa',
    { sizes: CIFAR, rule: 'dfa' },
    // 2 * 269,090,816 + 1,310,720
    {
      macs: 539_492_352,
      floats: 393_856,
      breakdown: { forward: 269_090_816, feedback: 1_310_720, updates: 269_090_816 },
    },
  ],
  [
    'cifar drtp',
    { sizes: CIFAR, rule: 'drtp' },
    {
      macs: 539_492_352,
      floats: 393_856,
      breakdown: { forward: 269_090_816, feedback: 1_310_720, updates: 269_090_816 },
    },
  ],
  [
    'cifar afa',
    { sizes: CIFAR, rule: 'afa' },
    // 2 * 269,090,816 + 31,457,280 + 67,764,224
    {
      macs: 637_403_136,
      floats: 393_856,
      breakdown: { forward: 269_090_816, w1f: 31_457_280, feedback: 67_764_224, updates: 269_090_816 },
    },
  ],
  [
    'cifar pepita standard',
    { sizes: CIFAR, rule: 'pepita', options: { mode: 'standard' } },
    // 2 * 269,090,816 + 1,966,080 + 31,457,280 + 68,419,584; peak 2 * 328,320
    {
      macs: 640_024_576,
      floats: 656_640,
      breakdown: {
        forward: 269_090_816,
        modulation: 1_966_080,
        w1f: 31_457_280,
        'modulated-forward': 68_419_584,
        updates: 269_090_816,
      },
    },
  ],
  [
    'cifar pepita forward',
    { sizes: CIFAR, rule: 'pepita', options: { mode: 'forward' } },
    {
      macs: 640_024_576,
      floats: 656_640,
      breakdown: {
        forward: 269_090_816,
        modulation: 1_966_080,
        w1f: 31_457_280,
        'modulated-forward': 68_419_584,
        updates: 269_090_816,
      },
    },
  ],
  [
    'cifar pepita hebbian',
    { sizes: CIFAR, rule: 'pepita', options: { mode: 'hebbian' } },
    // 640,024,576 + 269,090,816
    {
      macs: 909_115_392,
      floats: 656_640,
      breakdown: {
        forward: 269_090_816,
        modulation: 1_966_080,
        w1f: 31_457_280,
        'modulated-forward': 68_419_584,
        updates: 538_181_632,
      },
    },
  ],
  [
    'cifar pepita time-local',
    { sizes: CIFAR, rule: 'pepita', options: { mode: 'time-local' } },
    // 4bP + b d_0 d_L = 1,076,363,264 + 1,966,080;
    // peak 64*3072 + 64*10 + 64*max(3072 + 1024, 1024 + 1024, 1024 + 10) = 196,608 + 640 + 262,144
    {
      macs: 1_078_329_344,
      floats: 459_392,
      breakdown: {
        forward: 269_090_816,
        modulation: 1_966_080,
        'modulated-forward': 269_090_816,
        updates: 538_181_632,
      },
    },
  ],
  [
    'cifar pepita standard + mirroring',
    { sizes: CIFAR, rule: 'pepita', options: { mirror: {}, feedbackInit: 'normal' } },
    // 640,024,576 + 3,790,864,384
    {
      macs: 4_430_888_960,
      floats: 656_640,
      breakdown: {
        forward: 269_090_816,
        modulation: 1_966_080,
        w1f: 31_457_280,
        'modulated-forward': 68_419_584,
        updates: 269_090_816,
        mirroring: 3_790_864_384,
      },
    },
  ],
  [
    'cifar pepita time-local + mirroring',
    { sizes: CIFAR, rule: 'pepita', options: { mode: 'time-local', mirror: {}, feedbackInit: 'normal' } },
    // 1,078,329,344 + 3,790,864,384
    {
      macs: 4_869_193_728,
      floats: 459_392,
      breakdown: {
        forward: 269_090_816,
        modulation: 1_966_080,
        'modulated-forward': 269_090_816,
        updates: 538_181_632,
        mirroring: 3_790_864_384,
      },
    },
  ],
  // ---- Forward-Forward, 784-1024-10: the read-out's top = d_2 d_1 = 10,240; b (P - top) = 51,380,224 ----
  [
    'mnist ff, one random negative per sample',
    { sizes: MNIST, rule: 'ff' },
    // neutral, positive and negative passes (3 bP) + 2 b (P - top) + b top; three passes stored
    {
      macs: 259_522_560,
      floats: 349_056,
      breakdown: {
        forward: 52_035_584,
        'positive-forward': 52_035_584,
        'negative-forward': 52_035_584,
        updates: 103_415_808,
      },
    },
  ],
  [
    'mnist ff, every wrong label as a negative',
    { sizes: MNIST, rule: 'ff', options: { ffNegatives: 'all' } },
    // nine negatives: 9 bP of negative passes, 10 b (P - top) + b top of updates, 11 passes stored
    {
      macs: 1_086_849_024,
      floats: 1_279_872,
      breakdown: {
        forward: 52_035_584,
        'positive-forward': 52_035_584,
        'negative-forward': 468_320_256,
        updates: 514_457_600,
      },
    },
  ],
  // ---- the sign-symmetry rules cost what backprop costs (rebuilding B is elementwise) ----
  ...(['usf', 'brsf', 'frsf'] as const).map((rule): [string, Omit<CostQuery, 'batch'>, Expected] => [
    `mnist ${rule}`,
    { sizes: MNIST, rule },
    {
      macs: 104_726_528,
      floats: 181_888,
      breakdown: { forward: 52_035_584, feedback: 655_360, updates: 52_035_584 },
    },
  ]),
];

describe('stepCost', () => {
  for (const [name, query, expected] of cases) {
    it(`${name}, b = 64`, () => {
      const cost = stepCost({ ...query, batch: 64 });
      expect(cost.breakdown).toEqual(expected.breakdown);
      expect(cost.macs).toBe(expected.macs);
      expect(cost.peakActivationFloats).toBe(expected.floats);
      expect(cost.peakActivationBytes).toBe(4 * expected.floats);
    });
  }

  it('treats single-layer pepita and afa as the delta rule', () => {
    // 784-10, b = 64: bP = 64 * 7,840 = 501,760
    const delta = { forward: 501_760, updates: 501_760 };
    expect(stepCost({ sizes: [784, 10], batch: 64, rule: 'pepita' }).breakdown).toEqual({
      ...delta,
      modulation: 0,
      w1f: 0,
      'modulated-forward': 0,
    });
    expect(stepCost({ sizes: [784, 10], batch: 64, rule: 'pepita', options: { mode: 'hebbian' } }).macs).toBe(
      1_003_520,
    );
    expect(stepCost({ sizes: [784, 10], batch: 64, rule: 'afa' }).breakdown).toEqual({
      ...delta,
      w1f: 0,
      feedback: 0,
    });
    expect(stepCost({ sizes: [784, 10], batch: 64, rule: 'bp' }).breakdown).toEqual({
      ...delta,
      feedback: 0,
    });
    // mirroring with one factor: noise pass and factor gradient only, no product
    expect(
      stepCost({
        sizes: [784, 10],
        batch: 64,
        rule: 'pepita',
        options: { mirror: {}, feedbackInit: 'normal' },
      }).breakdown.mirroring,
    ).toBe(1_003_520);
  });

  it('amortises the once-per-step W_1 F product over the batch (3072-1024-10)', () => {
    // P = 3072*1024 + 1024*10 = 3,155,968. Spec 8's rough 3P + d_0 d_L per sample counts a full second
    // pass; here the modulated pass reuses A_1 = X W_1^T and pays d_L d_1 per sample instead of d_0 d_1.
    const single = stepCost({ sizes: [3072, 1024, 10], batch: 1, rule: 'pepita' });
    // forward 3,155,968 + modulation 30,720 + w1f 31,457,280 + modulated-forward (10,240 + 10,240) + updates
    expect(single.macs).toBe(3_155_968 + 30_720 + 31_457_280 + 20_480 + 3_155_968);
    const batched = stepCost({ sizes: [3072, 1024, 10], batch: 64, rule: 'pepita' });
    expect(batched.macs / 64).toBeCloseTo(2 * 3_155_968 + 30_720 + 20_480 + 31_457_280 / 64, 6);
  });

  it('rejects invalid queries', () => {
    const bad = (q: unknown) => () => stepCost(q as CostQuery);
    expect(bad({ sizes: [784], batch: 64, rule: 'bp' })).toThrow(TopdownUsageError);
    expect(bad({ sizes: [784, 0, 10], batch: 64, rule: 'bp' })).toThrow(TopdownUsageError);
    expect(bad({ sizes: [784, 1.5], batch: 64, rule: 'bp' })).toThrow(TopdownUsageError);
    expect(bad({ sizes: 'nope', batch: 64, rule: 'bp' })).toThrow(TopdownUsageError);
    expect(bad({ sizes: MNIST, batch: 0, rule: 'bp' })).toThrow(TopdownUsageError);
    expect(bad({ sizes: MNIST, batch: 2.5, rule: 'bp' })).toThrow(TopdownUsageError);
    expect(bad({ sizes: MNIST, batch: 64, rule: 'hebb' })).toThrow(TopdownUsageError);
    expect(bad({ sizes: MNIST, batch: 64, rule: 'pepita', options: { mode: 'mixed' } })).toThrow(
      TopdownUsageError,
    );
    expect(bad({ sizes: MNIST, batch: 64, rule: 'bp', options: { mode: 'standard' } })).toThrow(
      TopdownUsageError,
    );
    expect(
      bad({ sizes: MNIST, batch: 64, rule: 'fa', options: { mirror: {}, feedbackInit: 'normal' } }),
    ).toThrow(TopdownUsageError);
    expect(bad({ sizes: MNIST, batch: 64, rule: 'pepita', options: { kolenPollack: true } })).toThrow(
      TopdownUsageError,
    );
    expect(bad({ sizes: MNIST, batch: 64, rule: 'pepita', options: { mirror: 'yes' } })).toThrow(
      TopdownUsageError,
    );
    expect(bad(null)).toThrow(TopdownUsageError);
    // an option of another rule is refused even when it says "off", naming the rule that reads it
    expect(bad({ sizes: MNIST, batch: 64, rule: 'bp', options: { kolenPollack: false } })).toThrow(
      /kolenPollack applies to rule fa, not bp/,
    );
    expect(stepCost({ sizes: MNIST, batch: 64, rule: 'bp', options: {} }).macs).toBe(104_726_528);
  });
});
