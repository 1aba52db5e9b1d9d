/**
 * Sign-concordant feedback (Liao, Leibo & Poggio 2016; the `usf`, `brsf` and `frsf` methods of BioTorch):
 * backprop with each W_{l+1} in the backward pass replaced by B_l = M_l o sign(W_{l+1}), a matrix that shares
 * the forward weights' signs but not their magnitudes. B_l is rebuilt from the current W before every step;
 * the variants differ only in the magnitude M_l (see the rule files). sign(0) = 0, as in torch.sign.
 */
import type { Engine } from '../core/engine-base.js';
import { Matrix } from '../core/matrix.js';
import { StateSet } from '../core/state.js';
import { BACKWARD_SECTION, type BackwardConfig } from '../feedback/backward-matrices.js';
import { angleDegrees } from '../metrics/angles.js';
import { ForwardState, type DropoutMasks } from '../nn/forward.js';
import type { Network } from '../nn/network.js';
import type { GradientSink } from '../optim/sink.js';

import { DeltaBuffers, updatesThroughChain } from './backward-chain.js';
import type { Batch, LearningRule, MetricValue, RuleContext, RuleDefinition } from './rule.js';
import { chainCost, measures } from './step-cost.js';

/** The He-uniform bound sqrt(6 / fan_in) of a matrix with `cols` inputs, times `scale`. */
export function heBound(cols: number, scale: number): number {
  return Math.sqrt(6 / cols) * scale;
}

export abstract class SignConcordantRule implements LearningRule {
  abstract readonly name: string;
  /** B_0..B_{L-2}, B_l shaped like W_{l+1}: the matrices of the last step's backward pass. */
  readonly feedback: Matrix[];
  readonly state = new StateSet();
  private readonly pass: ForwardState;
  private readonly buffers: DeltaBuffers;

  constructor(
    protected readonly net: Network,
    private readonly engine: Engine,
    maxBatch: number,
  ) {
    this.feedback = net.weights.slice(1).map((w) => Matrix.zeros(w.rows, w.cols, engine));
    this.pass = new ForwardState(net, maxBatch, engine);
    this.buffers = new DeltaBuffers(net, maxBatch, engine);
  }

  /** Writes the magnitudes M_l (>= 0) of hidden layer l's feedback into `out` (row-major, like W_{l+1}). */
  protected abstract magnitude(l: number, out: Float32Array): void;

  /** B_l = M_l o sign(W_{l+1}) from the current weights. */
  refreshFeedback(): void {
    this.feedback.forEach((b, l) => {
      this.magnitude(l, b.data);
      const w = this.net.weights[l + 1]!.data;
      const out = b.data;
      for (let i = 0; i < out.length; i++) {
        const v = w[i]!;
        out[i] = v > 0 ? out[i]! : v < 0 ? -out[i]! : 0;
      }
    });
  }

  train(batch: Batch, sink: GradientSink, masks: DropoutMasks | null): ForwardState {
    this.refreshFeedback();
    updatesThroughChain(this.engine, this.pass, this.buffers, batch, this.feedback, masks, sink);
    sink.step();
    return this.pass;
  }

  /** Per hidden layer, the angle between the last step's B_l and the W_{l+1} it replaces. */
  diagnostics(): Record<string, MetricValue> {
    return { layer_angles_deg: this.feedback.map((b, l) => angleDegrees(b, this.net.weights[l + 1]!)) };
  }
}

/**
 * The definition of a sign-concordant rule built by `build` from the context and the backward section's
 * scale; it costs what backprop costs (rebuilding B is elementwise).
 */
export function signConcordantDefinition<const N extends string>(
  name: N,
  description: string,
  build: (ctx: RuleContext, scale: number) => LearningRule,
): RuleDefinition & { name: N } {
  return {
    name,
    description,
    sections: [BACKWARD_SECTION],
    create: (ctx, options) => build(ctx, (options.backward as BackwardConfig).scale),
    cost: (shape) => chainCost(measures(shape)),
  };
}
