/**
 * Batchwise random-magnitude sign-concordant feedback (BioTorch's `brsf`): B_l = |R_l| o sign(W_{l+1}) with
 * R_l ~ U(-b, b), b = scale sqrt(6 / fan_in), redrawn before every step from the rule's own stream (the
 * magnitudes |R_l| are drawn directly, from U(0, b)).
 */
import type { Engine } from '../core/engine-base.js';
import type { Rng } from '../core/rng.js';
import type { Network } from '../nn/network.js';

import { heBound, SignConcordantRule, signConcordantDefinition } from './sign-concordant.js';

export class BrsfRule extends SignConcordantRule {
  readonly name = 'brsf';

  constructor(
    net: Network,
    engine: Engine,
    maxBatch: number,
    private rng: Rng,
    private readonly scale = 1,
  ) {
    super(net, engine, maxBatch);
    this.state.rng('magnitudes', { get: () => this.rng, set: (r) => (this.rng = r) });
  }

  protected magnitude(l: number, out: Float32Array): void {
    this.rng.fillUniform(out, 0, heBound(this.feedback[l]!.cols, this.scale));
  }
}

export const brsf = signConcordantDefinition(
  'brsf',
  "batchwise random-magnitude sign-concordant feedback: the forward weights' signs, sizes redrawn each step",
  (ctx, scale) => new BrsfRule(ctx.net, ctx.engine, ctx.maxBatch, ctx.rng.derive('feedback'), scale),
);
