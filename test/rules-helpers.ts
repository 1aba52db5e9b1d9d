import { Matrix } from '../src/core/matrix.js';
import type { Rng } from '../src/core/rng.js';
import type { ActivationName } from '../src/nn/activations.js';
import type { Network } from '../src/nn/network.js';

/** A batch of random inputs with one-hot targets from random labels. */
export function randomBatch(
  rng: Rng,
  b: number,
  d0: number,
  classes: number,
): { x: Matrix; targets: Matrix; labels: number[] } {
  const x = new Matrix(b, d0);
  rng.fillNormal(x.data);
  const targets = new Matrix(b, classes);
  const labels: number[] = [];
  for (let i = 0; i < b; i++) {
    const c = rng.int(0, classes - 1);
    labels.push(c);
    targets.set(i, c, 1);
  }
  return { x, targets, labels };
}

function act64(name: ActivationName, v: number): number {
  switch (name) {
    case 'relu':
      return Math.max(0, v);
    case 'tanh':
      return Math.tanh(v);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'identity':
      return v;
    case 'erf': {
      // erf by Simpson integration (independent of the library's erf)
      const x = v / Math.SQRT2;
      const n = 400;
      const h = x / n;
      let s = 1 + Math.exp(-x * x);
      for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
      return ((2 / Math.sqrt(Math.PI)) * s * h) / 3;
    }
    case 'softmax':
      throw new Error('softmax is handled per row');
  }
}

/**
 * Float64 reference forward pass, written with plain loops, independent of the engines: returns
 * [h_0, h_1, ..., h_L] as arrays of rows. `weights[l]` are row-major d_l x d_{l-1} arrays; `masks[l]` (values 0
 * or 1/keep) are applied after hidden activations, before normalisation.
 */
export function referenceForward(
  net: Network,
  weights: Float64Array[],
  biases: (Float64Array | null)[],
  x: Matrix,
  masks: Float32Array[] | null,
): number[][][] {
  const s = net.sizes;
  const L = net.depth;
  let h: number[][] = x.toArray();
  const all = [h];
  for (let l = 0; l < L; l++) {
    const w = weights[l]!;
    const din = s[l]!;
    const dout = s[l + 1]!;
    const act = net.activationOf(l);
    const next: number[][] = h.map((row, r) => {
      const a = new Array<number>(dout).fill(0);
      for (let i = 0; i < dout; i++) {
        let sum = biases[l] ? biases[l]![i]! : 0;
        for (let j = 0; j < din; j++) sum += w[i * din + j]! * row[j]!;
        a[i] = sum;
      }
      if (act === 'softmax') {
        const m = Math.max(...a);
        const e = a.map((v) => Math.exp(v - m));
        const z = e.reduce((p, q) => p + q, 0);
        return e.map((v) => v / z);
      }
      const out = a.map((v) => act64(act, v));
      if (l < L - 1 && masks) for (let i = 0; i < dout; i++) out[i] = out[i]! * masks[l]![r * dout + i]!;
      return out;
    });
    const norm = net.config.normalization;
    if (l < L - 1 && (norm === 'sample-l2' || norm === 'sample-rms')) {
      const length = norm === 'sample-rms' ? Math.sqrt(dout) : 1;
      for (const row of next) {
        const n = Math.max(1e-30, Math.sqrt(row.reduce((p, v) => p + v * v, 0)));
        for (let i = 0; i < row.length; i++) row[i] = (length * row[i]!) / n;
      }
    } else if (l < L - 1 && net.config.normalization === 'batch-frobenius') {
      const n = Math.sqrt(next.reduce((p, row) => p + row.reduce((q, v) => q + v * v, 0), 0));
      for (const row of next) for (let i = 0; i < row.length; i++) row[i] = row[i]! / n;
    }
    h = next;
    all.push(h);
  }
  return all;
}

/** Mean cross-entropy (softmax outputs) or mean 0.5 * squared error of the reference forward pass. */
export function referenceLoss(
  net: Network,
  weights: Float64Array[],
  biases: (Float64Array | null)[],
  x: Matrix,
  targets: Matrix,
  masks: Float32Array[] | null,
): number {
  const out = referenceForward(net, weights, biases, x, masks)[net.depth]!;
  const softmax = net.activationOf(net.depth - 1) === 'softmax';
  let total = 0;
  out.forEach((row, r) => {
    row.forEach((y, j) => {
      const t = targets.get(r, j);
      total += softmax ? (t ? -t * Math.log(y) : 0) : 0.5 * (y - t) ** 2;
    });
  });
  return total / x.rows;
}

/** sum_r alpha * post[r]^T pre[r] as a row-major rows(post) x cols(pre) float64 array. */
export function referenceOuter(post: number[][], pre: number[][], alpha: number): Float64Array {
  const m = post[0]!.length;
  const n = pre[0]!.length;
  const out = new Float64Array(m * n);
  post.forEach((p, r) => {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) out[i * n + j] = out[i * n + j]! + alpha * p[i]! * pre[r]![j]!;
  });
  return out;
}

/** A batch labelled by a fixed linear teacher (label = argmax of teacher x): a learnable task. */
export function teacherBatch(
  rng: Rng,
  teacher: Matrix,
  b: number,
): { x: Matrix; targets: Matrix; labels: number[] } {
  const d0 = teacher.cols;
  const classes = teacher.rows;
  const x = new Matrix(b, d0);
  rng.fillNormal(x.data);
  const targets = new Matrix(b, classes);
  const labels: number[] = [];
  for (let r = 0; r < b; r++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      let s = 0;
      for (let j = 0; j < d0; j++) s += teacher.get(c, j) * x.get(r, j);
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    labels.push(best);
    targets.set(r, best, 1);
  }
  return { x, targets, labels };
}
