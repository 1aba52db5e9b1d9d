/** Forward-weight initialisations (spec 2.9): fan-in is the layer's input width. */
import { TopdownUsageError } from '../core/errors.js';
import type { Matrix } from '../core/matrix.js';
import type { Rng } from '../core/rng.js';

export const WEIGHT_INITS = ['he_uniform', 'he_normal', 'xavier', 'torch_default'] as const;
export type WeightInit = (typeof WEIGHT_INITS)[number];

export function parseWeightInit(value: string): WeightInit {
  if ((WEIGHT_INITS as readonly string[]).includes(value)) return value as WeightInit;
  throw new TopdownUsageError(`weight init must be one of ${WEIGHT_INITS.join(', ')}; got "${value}"`);
}

/**
 * Fills W (fanOut x fanIn, contiguous) in place:
 * he_uniform U(-sqrt(6/fanIn), sqrt(6/fanIn)); he_normal N(0, 2/fanIn);
 * xavier (Glorot uniform) U(-sqrt(6/(fanIn+fanOut)), +...);
 * torch_default U(-1/sqrt(fanIn), 1/sqrt(fanIn)), what PyTorch's Linear and Conv2d start from when nothing
 * re-initialises them (kaiming_uniform with a = sqrt(5)), as in the ICML conv code.
 */
export function initWeights(w: Matrix, init: WeightInit, rng: Rng): void {
  const fanIn = w.cols;
  const fanOut = w.rows;
  const data = w.contiguousData();
  switch (init) {
    case 'he_uniform': {
      const bound = Math.sqrt(6 / fanIn);
      rng.fillUniform(data, -bound, bound);
      return;
    }
    case 'he_normal':
      rng.fillNormal(data, 0, Math.sqrt(2 / fanIn));
      return;
    case 'torch_default': {
      const bound = 1 / Math.sqrt(fanIn);
      rng.fillUniform(data, -bound, bound);
      return;
    }
    case 'xavier': {
      const bound = Math.sqrt(6 / (fanIn + fanOut));
      rng.fillUniform(data, -bound, bound);
      return;
    }
  }
}
