/**
 * Fixed random-magnitude sign-concordant feedback (BioTorch's `frsf`): B_l = M_l o sign(W_{l+1}) with
 * M_l = |R_l| drawn once, R_l like FA's fixed feedback (U(-b, b), b = scale sqrt(6 / fan_in), so M_l ~ U(0, b)),
 * while the signs follow W.
 */
import type { Engine } from '../core/engine-base.js';
import { Matrix } from '../core/matrix.js';
import type { Rng } from '../core/rng.js';
import type { Network } from '../nn/network.js';

import { heBound, SignConcordantRule, signConcordantDefinition } from './sign-concordant.js';

export class FrsfRule extends SignConcordantRule {
  readonly name = 'frsf';
  /** M_l = |R_l|, fixed. */
  readonly magnitudes: Matrix[];

  constructor(net: Network, engine: Engine, maxBatch: number, rng: Rng, scale = 1) {
    super(net, engine, maxBatch);
    this.magnitudes = this.feedback.map((b, l) => {
      const m = Matrix.zeros(b.rows, b.cols, engine);
      const bound = heBound(b.cols, scale);
      rng.derive(l).fillUniform(m.data, 0, bound);
      return m;
    });
    const named: Record<string, Matrix> = {};
    this.magnitudes.forEach((m, l) => (named[`M${l + 1}`] = m));
    this.state.tensors(named);
  }

  protected magnitude(l: number, out: Float32Array): void {
    out.set(this.magnitudes[l]!.data);
  }
}

export const frsf = signConcordantDefinition(
  'frsf',
  "fixed random-magnitude sign-concordant feedback: the forward weights' signs, fixed random sizes",
  (ctx, scale) => new FrsfRule(ctx.net, ctx.engine, ctx.maxBatch, ctx.rng.derive('feedback'), scale),
);
