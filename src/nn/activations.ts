/**
 * Activation functions on contiguous float32 runs. Hidden layers use any of them except softmax; the output
 * layer is usually softmax. `erf` is the teacher-student theory's g(a) = erf(a / sqrt(2)).
 */
import { TopdownUsageError } from '../core/errors.js';
import { erf } from '../core/kernels.js';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'erf', 'identity', 'softmax'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

const INV_SQRT2 = Math.SQRT1_2;
const ERF_SLOPE = Math.sqrt(2 / Math.PI); // d/da erf(a / sqrt 2) = sqrt(2/pi) exp(-a^2 / 2)

export function parseActivation(value: string, what = 'activation'): ActivationName {
  if ((ACTIVATIONS as readonly string[]).includes(value)) return value as ActivationName;
  throw new TopdownUsageError(`${what} must be one of ${ACTIVATIONS.join(', ')}; got "${value}"`);
}

/** h[0..rows*cols) = act(a) (softmax: per row of `cols`). `h` may be `a`. */
export function activate(
  name: ActivationName,
  a: Float32Array,
  h: Float32Array,
  rows: number,
  cols: number,
): void {
  const n = rows * cols;
  switch (name) {
    case 'relu':
      for (let i = 0; i < n; i++) {
        const v = a[i]!;
        h[i] = v < 0 ? 0 : v;
      }
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) h[i] = Math.tanh(a[i]!);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) h[i] = 1 / (1 + Math.exp(-a[i]!));
      return;
    case 'erf':
      for (let i = 0; i < n; i++) h[i] = erf(a[i]! * INV_SQRT2);
      return;
    case 'identity':
      if (h !== a) h.set(a.subarray(0, n));
      return;
    case 'softmax':
      softmaxRowsRaw(a, h, rows, cols);
      return;
  }
}

/**
 * out[0..n) = act'(a), given a and h = act(a). Softmax has no elementwise derivative: its layer's delta is
 * taken as the error e = h - t (cross-entropy), so it must not reach here.
 */
export function activationDerivative(
  name: ActivationName,
  a: Float32Array,
  h: Float32Array,
  out: Float32Array,
  n: number,
): void {
  switch (name) {
    case 'relu':
      for (let i = 0; i < n; i++) out[i] = +(a[i]! > 0); // branch-free: half the signs of a map mispredict one
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = 1 - h[i]! * h[i]!;
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = h[i]! * (1 - h[i]!);
      return;
    case 'erf':
      for (let i = 0; i < n; i++) out[i] = ERF_SLOPE * Math.exp(-0.5 * a[i]! * a[i]!);
      return;
    case 'identity':
      out.fill(1, 0, n);
      return;
    case 'softmax':
      throw new TopdownUsageError('softmax has no elementwise derivative; use it only on the output layer');
  }
}

function softmaxRowsRaw(a: Float32Array, h: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (a[o + j]! > max) max = a[o + j]!;
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(a[o + j]! - max);
      h[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) h[o + j] = h[o + j]! * inv;
  }
}
