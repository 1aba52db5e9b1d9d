/**
 * Adaptive feedback alignment (spec 2.6): PEPITA's first-order limit, with no second forward pass. The first
 * layer's feedback is W_1 F, which moves with W_1: u_1 = block_1'((W_1 F) e) (sign flipped for x + F e), and
 * deeper hidden layers carry the linearised modulation forward, u_l = block_l'(W_l u_{l-1}), which is what
 * h_l - h_l^mod tends to as F e -> 0. Updates: G_1 = u_1^T x / b, G_l = u_l^T h_{l-1} / b, G_L = e^T h_{L-1} / b.
 */
import type { Engine } from '../core/engine-base.js';
import { Matrix } from '../core/matrix.js';
import type { Stateful } from '../core/state.js';
import {
  checkTopDownShape,
  TOP_DOWN_SECTION,
  TopDownFeedback,
  type ModulationSign,
  type TopDownConfig,
} from '../feedback/top-down.js';
import { ForwardState, forward, tangentThroughBlock, type DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { outputError } from './output-error.js';
import { modulationViews } from './modulation-views.js';
import { defineRule, type Batch, type InputView, type LearningRule, type MetricValue } from './rule.js';
import { Scratch } from './scratch.js';
import { measures, stepCostOf } from './step-cost.js';

export class AfaRule implements LearningRule {
  readonly name = 'afa';
  readonly pass: ForwardState;
  private readonly error: Scratch;
  private readonly tangents: Scratch[];
  private readonly scratch: Float32Array;
  private readonly w1f: Matrix | null;
  readonly state: Stateful;

  constructor(
    private readonly net: Network,
    private readonly engine: Engine,
    maxBatch: number,
    readonly feedback: TopDownFeedback,
    readonly sign: ModulationSign = 'minus',
  ) {
    const s = net.sizes;
    checkTopDownShape(s, feedback);
    this.pass = new ForwardState(net, maxBatch, engine);
    this.error = new Scratch(maxBatch, net.width(net.depth), engine);
    this.tangents = s.slice(1, -1).map((d) => new Scratch(maxBatch, d, engine));
    this.scratch = engine.floats(maxBatch * Math.max(...s.slice(1)));
    this.w1f = net.depth > 1 ? Matrix.zeros(s[1]!, feedback.matrix.cols, engine) : null;
    this.state = feedback.stateSet();
  }

  /** What PEPITA's second pass would see with this F: x -+ F e for the error of a pass without dropout. */
  inputViews(batch: Batch): InputView[] {
    forward(this.engine, this.pass, batch.x, null);
    const e = this.error.rows(this.pass.rows);
    outputError(this.pass.output, batch.targets, e);
    return modulationViews(this.engine, this.feedback, this.sign, batch.x, batch.targets, e);
  }

  /** F's alignment with the forward weights and its std. */
  diagnostics(): Record<string, MetricValue> {
    return this.feedback.diagnostics(this.engine, this.net.weights);
  }

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    const { engine, net, pass: state } = this;
    const L = net.depth;
    forward(engine, state, batch.x, masks);
    const b = state.rows;
    const e = this.error.rows(b);
    outputError(state.output, batch.targets, e);
    if (L > 1) {
      const w1 = net.weights[0]!;
      const f = this.feedback.matrix;
      const w1f = this.w1f!;
      engine.gemm(false, false, w1.rows, f.cols, w1.cols, 1, w1, f, 0, w1f);
      const u1 = this.tangents[0]!.rows(b);
      engine.gemm(false, true, b, w1f.rows, w1f.cols, this.sign === 'minus' ? 1 : -1, e, w1f, 0, u1);
      tangentThroughBlock(state, 0, u1.data, masks, this.scratch);
      for (let l = 1; l < L - 1; l++) {
        const w = net.weights[l]!;
        const u = this.tangents[l]!.rows(b);
        engine.gemm(false, true, b, w.rows, w.cols, 1, this.tangents[l - 1]!.rows(b), w, 0, u);
        tangentThroughBlock(state, l, u.data, masks, this.scratch);
      }
      for (let l = 0; l < L - 1; l++)
        sink.addOuter(l, 1 / b, this.tangents[l]!.rows(b), state.postView(l - 1));
    }
    sink.addOuter(L - 1, 1 / b, e, state.postView(L - 2));
    sink.step();
    return state;
  }
}

/** Adaptive feedback alignment (spec 2.6). */
export const afa = defineRule({
  name: 'afa',
  description: "adaptive feedback alignment: PEPITA's small-F limit, feedback W_1 F, one forward pass",
  sections: [TOP_DOWN_SECTION],
  summary: ['angle_deg'],
  create(ctx, options) {
    const feedback = options.feedback as TopDownConfig;
    const topDown = TopDownFeedback.create(ctx.net.sizes, feedback, ctx.rng.derive('feedback'), ctx.engine);
    return new AfaRule(ctx.net, ctx.engine, ctx.maxBatch, topDown, feedback.sign);
  },
  /**
   * B_1 = W_1 F once per step (d_1 d_0 d_L), the first hidden layer's signal E (W_1 F)^T (b d_L d_1), the
   * linearised modulation through hidden layers 2..L-1 (b d_l d_{l-1} each), and b P of updates; with L = 1
   * it is the delta rule.
   */
  cost(shape) {
    const m = measures(shape);
    const { d, b, L, P } = m;
    let w1f = 0;
    let feedback = 0;
    if (L >= 2) {
      w1f = d[1]! * d[0]! * d[L]!;
      feedback = b * d[L]! * d[1]!;
      for (let l = 2; l <= L - 1; l++) feedback += b * d[l]! * d[l - 1]!;
    }
    return stepCostOf({ forward: b * P, w1f, feedback, updates: b * P }, b * m.units + b * m.widest);
  },
});
