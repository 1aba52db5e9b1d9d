/**
 * Fixed random feedback matrices for FA, DFA and DRTP, stored in the shape of the forward matrix they stand
 * in for, so that the backward product is the same call as backprop's (FA with these set to W is then exactly
 * BP, bit for bit):
 * - FA: for hidden layer l (1..L-1), R_l is d_{l+1} x d_l and replaces W_{l+1}: dH_l = delta_{l+1} R_l
 *   (i.e. B_{l+1} = R_l^T in the paper's notation).
 * - DFA / DRTP: for hidden layer l, D_l is d_L x d_l: dH_l = e D_l (resp. t D_l), i.e. B_l = D_l^T.
 * Entries ~ U(-sqrt(6 / d_l), sqrt(6 / d_l)) * scale (d_l = the matrix's column count): the He-uniform range of
 * the forward matrix of the same shape, so the feedback signal has backprop's magnitude at initialisation. (A
 * range set by the row count instead, e.g. sqrt(6 / 10) for a 10-class output, makes the hidden updates about
 * ten times larger than backprop's and FA diverges at the paper's learning rate.)
 */
import { z } from 'zod';

import { TopdownUsageError } from '../core/errors.js';
import { HEAP, Matrix, type FloatAllocator } from '../core/matrix.js';
import type { OptionSection } from '../core/options.js';
import type { Rng } from '../core/rng.js';

/** The `backward` section: the size of the fixed random (or sign-concordant) feedback matrices. */
export const BACKWARD_SECTION = {
  key: 'backward',
  label: 'the backward feedback matrices',
  flagPrefix: 'backward-',
  schema: z
    .object({
      scale: z.number().nonnegative().default(1).meta({
        description:
          "multiplier on the feedback matrices' size (1: the He-uniform range of the forward matrix)",
      }),
    })
    .strict(),
} satisfies OptionSection;
export type BackwardConfig = z.infer<typeof BACKWARD_SECTION.schema>;

export type BackwardKind = 'fa' | 'direct';

/**
 * Feedback matrices for hidden layers 1..L-1 (index 0..L-2). `faShapes` gives FA's shapes where they are not
 * d_{l+1} x d_l: those of W_2..W_L (a convolution's filters x C k k: FA's fixed random kernels).
 */
export function createBackwardMatrices(
  sizes: readonly number[],
  kind: BackwardKind,
  rng: Rng,
  scale = 1,
  memory: FloatAllocator = HEAP,
  faShapes?: readonly (readonly [number, number])[],
): Matrix[] {
  if (!(scale >= 0)) throw new TopdownUsageError(`feedback scale must be >= 0; got ${scale}`);
  const L = sizes.length - 1;
  const out: Matrix[] = [];
  for (let l = 1; l < L; l++) {
    const [rows, cols] =
      kind === 'fa' ? (faShapes?.[l - 1] ?? [sizes[l + 1]!, sizes[l]!]) : [sizes[L]!, sizes[l]!];
    const m = Matrix.zeros(rows, cols, memory);
    const bound = Math.sqrt(6 / cols) * scale;
    rng.derive(kind).derive(l).fillUniform(m.data, -bound, bound);
    out.push(m);
  }
  return out;
}
