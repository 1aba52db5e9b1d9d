import { describe, expect, it } from 'vitest';

import { replayGemms, roofline, watchSteps } from '../src/bench/roofline.js';
import { benchTrain } from '../src/bench/train-bench.js';
import { Matrix } from '../src/core/matrix.js';
import { stepCost } from '../src/rules/costs.js';
import { RULE_NAMES, type RuleName } from '../src/rules/registry.js';
import { resolveTrainConfig, type TrainConfigInput } from '../src/train/config.js';

import { availableEngines, runCliCaptured } from './helpers.js';

const engines = availableEngines();

/** A small run of every rule (and mirroring, and a PEPITA mode with two outer products per layer). */
const CASES: [string, TrainConfigInput, Record<string, unknown>][] = [
  ...RULE_NAMES.map((rule): [string, TrainConfigInput, Record<string, unknown>] => [rule, { rule }, {}]),
  ['pepita --mode hebbian', { rule: 'pepita', mode: 'hebbian' }, { mode: 'hebbian' }],
  [
    'pepita with mirroring',
    { rule: 'pepita', feedbackInit: 'normal', mirror: {} },
    { feedbackInit: 'normal', mirror: {} },
  ],
];

describe.each(engines.map((e) => [e.name, e] as const))('%s engine: the roofline of a step', (_n, engine) => {
  it.each(CASES)(
    '%s: the products watched in a step are exactly those its cost model counts',
    (_label, input, costOptions) => {
      const config = resolveTrainConfig({ data: 'mnist', hidden: [24, 16], batchSize: 12, ...input }, 'test');
      const result = benchTrain(engine, { config, batches: 2, warmup: 1 });
      const r = result.roofline!;
      expect(r.gemm_calls).toBeGreaterThan(0);
      expect(r.gemm_ms).toBeGreaterThan(0);
      expect(r.bandwidth_gbps).toBeGreaterThan(0);
      expect(r.roofline_ms).toBeGreaterThan(r.gemm_ms);
      expect(r.step_over_roofline).toBeCloseTo(result.median_ms_per_batch / r.roofline_ms, 6);
      // every weight of the net is swept once a step: SGD reads w and v and writes w (and v with decay),
      // Adam reads p, g, m, v and writes p, m, v
      let params = 0;
      for (let l = 1; l < result.sizes.length; l++) params += result.sizes[l - 1]! * result.sizes[l]!;
      const perWeight = config.optimizer === 'adam' ? 28 : config.weightDecay > 0 ? 16 : 12;
      expect(r.elementwise_bytes.optimizer).toBeGreaterThanOrEqual(perWeight * params);
      const cost = stepCost({
        sizes: result.sizes,
        batch: result.batch,
        rule: config.rule as RuleName,
        options: costOptions,
      });
      const biasless = !config.bias;
      if (biasless) expect(r.gemm_gflop * 1e9).toBeCloseTo(2 * cost.macs, 0);
    },
  );

  it('watching leaves the engine as it was, and replaying times the recorded products', () => {
    const original = engine.sgemm;
    const a = new Matrix(8, 5);
    const b = new Matrix(5, 3);
    const c = new Matrix(8, 3);
    a.data.fill(1);
    b.data.fill(2);
    const record = watchSteps(engine, 3, () => engine.gemm(false, false, 8, 3, 5, 1, a, b, 0, c));
    expect(engine.sgemm).toBe(original);
    expect(record.gemms).toHaveLength(1);
    expect(record.gemms[0]).toMatchObject({ m: 8, n: 3, k: 5, transA: false, transB: false });
    expect(c.data[0]).toBe(10);
    expect(replayGemms(engine, record.gemms, 3)).toBeGreaterThanOrEqual(0);
    const report = roofline(engine, record, 1);
    expect(report.gemm_gflop).toBeCloseTo((2 * 8 * 3 * 5) / 1e9, 12);
    expect(report.elementwise_bytes).toEqual({ activities: 8 * 8 * 3, optimizer: 0 });
  });
});

describe('bench train prints the roofline', () => {
  it('as text and JSON, for Forward-Forward with Adam; --no-roofline skips it', async () => {
    const args = ['bench', 'train', '--rule', 'ff', '--data', 'mnist', '--hidden', '32,32', '--batches', '2'];
    const text = await runCliCaptured(args);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/^roofline [\d.]+ ms: \d+ products \([\d.]+ GFLOP\) alone [\d.]+ ms/m);
    expect(text.out).toMatch(/optimiser [\d.]+\) at [\d.]+ GB\/s/);
    expect(text.out).toMatch(/^in the step: products [\d.]+ ms, optimiser sweeps [\d.]+ ms, the rest/m);
    expect(text.out).toMatch(/^step \/ roofline [\d.]+$/m);
    const json = JSON.parse((await runCliCaptured([...args, '--json'])).out);
    expect(json.roofline).toMatchObject({
      gemm_calls: expect.any(Number),
      gemm_ms: expect.any(Number),
      bandwidth_gbps: expect.any(Number),
      step_over_roofline: expect.any(Number),
    });
    const skipped = JSON.parse((await runCliCaptured([...args, '--json', '--no-roofline'])).out);
    expect(skipped.roofline).toBeUndefined();
  });

  it('--preset times a preset with flags over it', async () => {
    const r = await runCliCaptured([
      'bench',
      'train',
      '--preset',
      'ff-mnist',
      '--hidden',
      '16',
      '--batches',
      '1',
      '--warmup',
      '0',
      '--no-roofline',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ rule: 'ff', sizes: [784, 16, 10], batch: 100 });
  });
});
