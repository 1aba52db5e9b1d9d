/**
 * Uniform sign-concordant feedback (BioTorch's `usf`): B_l = s sign(W_{l+1}) with one magnitude
 * s = scale sqrt(2 / fan_in), the std of the He-uniform draw of W_{l+1}, so that the feedback has the size of
 * the forward weights at initialisation (BioTorch scales by the std of its initialisation likewise).
 */
import type { Engine } from '../core/engine-base.js';
import type { Network } from '../nn/network.js';

import { SignConcordantRule, signConcordantDefinition } from './sign-concordant.js';

export class UsfRule extends SignConcordantRule {
  readonly name = 'usf';

  constructor(
    net: Network,
    engine: Engine,
    maxBatch: number,
    private readonly scale = 1,
  ) {
    super(net, engine, maxBatch);
  }

  protected magnitude(l: number, out: Float32Array): void {
    out.fill(this.scale * Math.sqrt(2 / this.net.weights[l + 1]!.cols));
  }
}

export const usf = signConcordantDefinition(
  'usf',
  "uniform sign-concordant feedback: the forward weights' signs with one magnitude",
  (ctx, scale) => new UsfRule(ctx.net, ctx.engine, ctx.maxBatch, scale),
);
