/**
 * Architecture strings (`--arch`): a network's layers written as dash-separated tokens, e.g.
 * `conv32x5-pool2-fc`, the ICML PEPITA conv model (Conv(32, 5x5) -> ReLU -> MaxPool 2x2 -> FC -> softmax).
 *
 * - `conv<F>x<K>[s<S>][p<P>]`: a convolution of F filters K x K, stride S (default 1), zero padding P (0);
 * - `pool2`: 2x2 max-pooling after the convolution before it;
 * - `fc<N>`: a fully connected hidden layer of N units;
 * - `fc`: the output layer (last, required).
 */
import { TopdownUsageError } from '../core/errors.js';

import { convOutput } from './conv.js';
import { networkLayers, type LayerSpec, type NetworkConfig } from './network.js';

const GRAMMAR = 'conv<filters>x<kernel>[s<stride>][p<padding>], pool2, fc<width>, and a final fc';

/** The layers an architecture string describes, for inputs of `input` ([C, H, W]) and `classes` outputs. */
export interface Architecture {
  /** Block output widths [d_0, ..., d_L]. */
  sizes: number[];
  layers: LayerSpec[];
}

/** Parses `text`; throws a one-line usage error naming the token that does not fit. */
export function parseArch(
  text: string,
  input: readonly [number, number, number],
  classes: number,
): Architecture {
  const fail = (why: string): never => {
    throw new TopdownUsageError(`architecture "${text}": ${why}`);
  };
  const tokens = text.trim().toLowerCase().split('-');
  if (tokens[tokens.length - 1] !== 'fc') fail('it must end with the output layer "fc"');
  const layers: LayerSpec[] = [];
  const sizes: number[] = [input[0] * input[1] * input[2]];
  // the image shape flowing through the convolutions (null after a fully connected layer)
  let shape: [number, number, number] | null = [...input];
  const closeConv = (): void => {
    if (shape && layers[layers.length - 1]?.kind === 'conv') sizes.push(shape[0] * shape[1] * shape[2]);
  };
  for (const token of tokens.slice(0, -1)) {
    const conv = /^conv(\d+)x(\d+)(?:s(\d+))?(?:p(\d+))?$/.exec(token);
    const fc = /^fc(\d+)$/.exec(token);
    if (conv) {
      if (!shape) return fail(`"${token}" comes after a fully connected layer`);
      const [filters, kernel, stride, padding] = [conv[1], conv[2], conv[3] ?? '1', conv[4] ?? '0'].map(
        Number,
      ) as [number, number, number, number];
      if (filters < 1 || kernel < 1 || stride < 1)
        fail(`"${token}" needs positive filters, kernel and stride`);
      closeConv();
      const [channels, height, width] = shape;
      const out = convOutput({ channels, height, width, filters, kernel, stride, padding });
      if (out.height < 1 || out.width < 1) fail(`"${token}" does not fit a ${height}x${width} input`);
      layers.push({ kind: 'conv', filters, kernel, stride, padding, pool: false });
      shape = [filters, out.height, out.width];
    } else if (token === 'pool2') {
      const last = layers[layers.length - 1];
      if (!shape || !last || last.kind !== 'conv' || last.pool)
        return fail('"pool2" must follow a convolution');
      if (shape[1] < 2 || shape[2] < 2) fail(`"pool2" needs a map of at least 2x2`);
      last.pool = true;
      shape = [shape[0], Math.floor(shape[1] / 2), Math.floor(shape[2] / 2)];
    } else if (fc) {
      const width = Number(fc[1]);
      if (width < 1) fail(`"${token}" needs a positive width`);
      closeConv();
      layers.push({ kind: 'dense' });
      sizes.push(width);
      shape = null;
    } else fail(`unknown layer "${token}" (expected ${GRAMMAR})`);
  }
  closeConv();
  layers.push({ kind: 'dense' });
  sizes.push(classes);
  return { sizes, layers };
}

/** The part of a {@link NetworkConfig} an architecture string fixes. */
export function archNetwork(
  text: string,
  input: readonly [number, number, number],
  classes: number,
): Pick<NetworkConfig, 'sizes' | 'layers' | 'input'> {
  const { sizes, layers } = parseArch(text, input, classes);
  return { sizes, layers, input };
}

/**
 * Per weight layer of an architecture: forward multiply-accumulates per sample, pre-activation width, and
 * whether it is a convolution (what the rules' cost models price).
 */
export function archLayerCosts(
  text: string,
  input: readonly [number, number, number],
  classes: number,
): { sizes: number[]; layers: { macs: number; preWidth: number; conv: boolean }[] } {
  const net = archNetwork(text, input, classes);
  const sizes = [...net.sizes];
  const layers = networkLayers(net).map((layer, l) => {
    if (layer.kind === 'dense')
      return { macs: sizes[l]! * sizes[l + 1]!, preWidth: layer.preWidth, conv: false };
    const g = layer.geometry;
    return { macs: layer.preWidth * g.channels * g.kernel * g.kernel, preWidth: layer.preWidth, conv: true };
  });
  return { sizes, layers };
}
