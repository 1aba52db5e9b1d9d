/**
 * Every kernel of the engines besides the products, declared once: its argument object (`kernel-args.ts`), the
 * checks every engine applies, the bytes it moves (the roofline's cost) and its reference implementation (the
 * `js` engine's, and the tests' oracle). An engine runs a kernel with `engine.run(name, args)`; it implements
 * any of them natively in its kernel table, and the rest run the reference. The roofline and the tests
 * enumerate {@link KERNELS}, so adding a kernel or an engine touches only the implementations.
 */
import {
  convOutput,
  im2col,
  maxPool2Backward,
  maxPool2Rows,
  regroupMaps,
  type Im2colArgs,
  type MapsArgs,
  type MaxPoolArgs,
  type MaxPoolBackwardArgs,
} from './conv-kernels.js';
import { checkGer, checkSameLength } from './engine-checks.js';
import type {
  AdamArgs,
  AxpyArgs,
  BinaryArgs,
  GerArgs,
  ReluDifferenceArgs,
  ReluNormalizeArgs,
  ScalArgs,
  SgdArgs,
  UnaryArgs,
} from './kernel-args.js';
import * as kernels from './kernels.js';

/** One kernel's declaration. */
export interface KernelSpec<A> {
  /** What it computes, in one line. */
  readonly summary: string;
  /** `optimiser` for the parameter sweeps (timed apart by `bench train`), `activity` for the rest. */
  readonly phase: 'optimiser' | 'activity';
  /** Whether every engine must give the reference's bits (else within float32 rounding). */
  readonly exact: boolean;
  /** Throws a usage error when the arguments do not fit together (run by every engine). */
  check(args: A): void;
  /** Bytes read and written (each element once), for the roofline. */
  bytes(args: A): number;
  /** The portable implementation. */
  reference(args: A): void;
  /** The buffer a sweep reads its gradient from (a product writing there is part of the sweep's traffic). */
  gradient?(args: A): Float32Array;
}

const declare = <A>(spec: KernelSpec<A>): KernelSpec<A> => spec;
const noCheck = (): void => {};

/** The kernels, by name. */
export const KERNELS = {
  axpy: declare<AxpyArgs>({
    summary: 'y += alpha x',
    phase: 'activity',
    exact: false,
    check: ({ x, y }) => checkSameLength('axpy', x, y),
    bytes: ({ x }) => 12 * x.length,
    reference: ({ alpha, x, y }) => kernels.axpy(alpha, x, y),
  }),
  scal: declare<ScalArgs>({
    summary: 'x *= alpha (alpha = 0 writes zeros, even over NaN)',
    phase: 'activity',
    exact: false,
    check: noCheck,
    bytes: ({ x }) => 8 * x.length,
    reference: ({ alpha, x }) => kernels.scal(alpha, x),
  }),
  ger: declare<GerArgs>({
    summary: 'A += alpha x y^T',
    phase: 'activity',
    exact: false,
    check: ({ x, y, a }) => checkGer(x, y, a),
    bytes: ({ x, y }) => 8 * x.length * y.length + 4 * (x.length + y.length),
    reference: ({ alpha, x, y, a }) => kernels.ger(alpha, x, y, a),
  }),
  sgdUpdate: declare<SgdArgs>({
    summary: 'v += weightDecay w, then w -= lr v (PyTorch SGD with coupled weight decay)',
    phase: 'optimiser',
    exact: true,
    check: ({ w, v }) => checkSameLength('sgdUpdate', w, v),
    // without decay v is only read
    bytes: ({ w, weightDecay }) => (weightDecay === 0 ? 12 : 16) * w.length,
    reference: ({ w, v, lr, weightDecay }) => kernels.sgdSweep(w, v, lr, weightDecay),
    gradient: ({ v }) => v,
  }),
  adamUpdate: declare<AdamArgs>({
    summary:
      "torch.optim.Adam's step: g' = g + wd p; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2; " +
      'p -= stepSize m / (sqrt(v) invBc2Sqrt + eps), float32, each operation rounded once; g is only read',
    phase: 'optimiser',
    exact: true,
    check: noCheck,
    bytes: ({ rows, cols }) => 28 * rows * cols,
    reference: (args) => kernels.adamSweep(args),
    gradient: ({ g }) => g,
  }),
  relu: declare<UnaryArgs>({
    summary: 'out = max(x, 0)',
    phase: 'activity',
    exact: true,
    check: ({ x, out }) => checkSameLength('relu', x, out),
    bytes: ({ x }) => 8 * x.length,
    reference: ({ x, out }) => void kernels.relu(x, out),
  }),
  reluMask: declare<UnaryArgs>({
    summary: 'out = 1 where x > 0, else 0 (the ReLU derivative; NaN stays NaN)',
    phase: 'activity',
    exact: true,
    check: ({ x, out }) => checkSameLength('reluMask', x, out),
    bytes: ({ x }) => 8 * x.length,
    reference: ({ x, out }) => void kernels.reluMask(x, out),
  }),
  multiply: declare<BinaryArgs>({
    summary: 'out = a * b (a derivative or dropout mask applied)',
    phase: 'activity',
    exact: true,
    check: ({ a, b, out }) => {
      checkSameLength('multiply', a, out);
      checkSameLength('multiply', b, out);
    },
    bytes: ({ a }) => 12 * a.length,
    reference: ({ a, b, out }) => void kernels.multiply(a, b, out),
  }),
  subtract: declare<BinaryArgs>({
    summary: 'out = a - b',
    phase: 'activity',
    exact: true,
    check: ({ a, b, out }) => {
      checkSameLength('subtract', a, out);
      checkSameLength('subtract', b, out);
    },
    bytes: ({ a }) => 12 * a.length,
    reference: ({ a, b, out }) => void kernels.subtract(a, b, out),
  }),
  reluDifference: declare<ReluDifferenceArgs>({
    summary: 'out = relu(a) - relu(b) (a PEPITA hidden update: clean minus modulated activity)',
    phase: 'activity',
    exact: true,
    check: noCheck,
    bytes: ({ n }) => 12 * n,
    reference: ({ n, a, aOff, b, bOff, out, outOff }) =>
      kernels.reluDifference(n, a, aOff, b, bOff, out, outOff),
  }),
  reluNormalizeRows: declare<ReluNormalizeArgs>({
    summary: 'g = relu(a), h = g scaled per row to a length, with the row norms (a Forward-Forward layer)',
    phase: 'activity',
    // the blas engine sums the squares in another order (wasm keeps the reference's bits)
    exact: false,
    check: noCheck,
    bytes: ({ rows, d }) => 16 * rows * d,
    reference: ({ a, g, h, rows, d, target, floor, norms, squares }) =>
      kernels.reluNormalizeRows(a, g, h, rows, d, target, floor, norms, squares),
  }),
  im2colRows: declare<Im2colArgs>({
    summary: "a batch of images' patches side by side (a convolution as one product)",
    phase: 'activity',
    exact: true,
    check: noCheck,
    bytes: ({ geometry: g, n }) => {
      const patches = g.channels * g.kernel * g.kernel * convOutput(g).positions;
      return 4 * n * (g.channels * g.height * g.width + patches);
    },
    reference: ({ geometry, x, xOff, xStride, n, cols, ld }) => {
      const positions = convOutput(geometry).positions;
      for (let s = 0; s < n; s++) im2col(geometry, x, xOff + s * xStride, cols, s * positions, ld);
    },
  }),
  maxPool2Rows: declare<MaxPoolArgs>({
    summary: "2x2 max-pooling with each maximum's index (PyTorch's MaxPool2d(2))",
    phase: 'activity',
    exact: true,
    check: noCheck,
    bytes: ({ channels, height, width, n }) =>
      4 * n * channels * (height * width + 2 * Math.floor(height / 2) * Math.floor(width / 2)),
    reference: (args) => maxPool2Rows(args),
  }),
  maxPool2Backward: declare<MaxPoolBackwardArgs>({
    summary: 'the gradient of 2x2 max-pooling: each pooled gradient to where its maximum was, 0 elsewhere',
    phase: 'activity',
    exact: true,
    check: noCheck,
    bytes: ({ n, inFeatures, outFeatures }) => 4 * n * (inFeatures + 2 * outFeatures),
    reference: (args) => maxPool2Backward(args),
  }),
  gatherMaps: declare<MapsArgs>({
    summary: "a batch's conv maps from its rows into the product's layout (filters x samples' positions)",
    phase: 'activity',
    exact: true,
    check: noCheck,
    bytes: ({ n, filters, positions }) => 8 * n * filters * positions,
    reference: (args) => regroupMaps(args, true),
  }),
  scatterMaps: declare<MapsArgs>({
    summary: "a batch's conv maps from the product's layout back into its rows",
    phase: 'activity',
    exact: true,
    check: noCheck,
    bytes: ({ n, filters, positions }) => 8 * n * filters * positions,
    reference: (args) => regroupMaps(args, false),
  }),
};

/** A kernel's name. */
export type KernelName = keyof typeof KERNELS;

/** The argument object of kernel K. */
export type KernelArgs<K extends KernelName> = Parameters<(typeof KERNELS)[K]['reference']>[0];

/** An engine's own implementation of kernel K. */
export type KernelImplementation<K extends KernelName> = (args: KernelArgs<K>) => void;

/** The kernels an engine implements itself; the others run their reference. */
export type KernelTable = { readonly [K in KernelName]?: KernelImplementation<K> };

/** Every kernel's name, in declaration order. */
export const KERNEL_NAMES = Object.keys(KERNELS) as KernelName[];
