/**
 * Fully connected networks: parameters, activations, initialisation, and the forward pass into preallocated
 * buffers with consistent dropout.
 * @packageDocumentation
 */
export { ACTIVATIONS, parseActivation, type ActivationName } from './activations.js';
export { WEIGHT_INITS, initWeights, parseWeightInit, type WeightInit } from './init.js';
export {
  Network,
  NORMALIZATIONS,
  resolveNetworkConfig,
  type NetworkConfig,
  type Normalization,
  type ResolvedNetworkConfig,
} from './network.js';
export { DropoutMasks, ForwardState, forward } from './forward.js';
export { Conv2d, MaxPool2, col2im, convOutput, im2col, type ConvGeometry } from './conv.js';
