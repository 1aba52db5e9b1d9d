import { TopdownUsageError } from '../core/errors.js';

/** One GEMM benchmark case: C (m x n) = op(A) (m x k) * op(B) (k x n). */
export interface GemmShape {
  label: string;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

/**
 * The paper's shapes (CIFAR-10, 3072-1024-10 nets, batch 64; MNIST batch 1; the 500-dimensional
 * teacher-student problem with K = 2). Keep in step with benchmarks/numpy_gemm.py.
 */
export const PAPER_GEMM_SHAPES: readonly GemmShape[] = [
  { label: 'forward x W^T (batch 64, CIFAR-10)', m: 64, k: 3072, n: 1024, transA: false, transB: true },
  { label: 'weight update delta^T x', m: 1024, k: 64, n: 3072, transA: true, transB: false },
  { label: 'hidden layer forward', m: 64, k: 1024, n: 1024, transA: false, transB: true },
  { label: 'evaluation, batch 1000', m: 1000, k: 3072, n: 1024, transA: false, transB: true },
  { label: 'teacher-student online step', m: 1, k: 500, n: 2, transA: false, transB: true },
  { label: 'online forward (batch 1, MNIST)', m: 1, k: 784, n: 1024, transA: false, transB: true },
];

/**
 * Parses a comma-separated list of `MxKxN` shapes, each optionally followed by `:XY` giving the transposes
 * of A and B (`N` or `T`, default `NN`), e.g. `64x3072x1024:NT,1x500x2`.
 */
export function parseGemmShapes(text: string): GemmShape[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) {
    throw new TopdownUsageError(
      `shapes must be a comma-separated list like 64x3072x1024:NT,1x500x2; got "${text}"`,
    );
  }
  return items.map((item) => {
    const match = /^(\d+)x(\d+)x(\d+)(?::([NT])([NT]))?$/i.exec(item);
    if (!match) {
      throw new TopdownUsageError(`bad shape "${item}": expected MxKxN or MxKxN:XY with X, Y each N or T`);
    }
    const [m, k, n] = [match[1], match[2], match[3]].map(Number) as [number, number, number];
    const transA = match[4]?.toUpperCase() === 'T';
    const transB = match[5]?.toUpperCase() === 'T';
    const limit = 2 ** 28;
    if (m * k > limit || k * n > limit || m * n > limit || Math.min(m, k, n) < 1) {
      throw new TopdownUsageError(
        `shape "${item}": sizes must be at least 1 and each matrix under 2^28 elements`,
      );
    }
    return { label: item, m, k, n, transA, transB };
  });
}
