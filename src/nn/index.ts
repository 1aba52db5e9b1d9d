/**
 * Networks (fully connected, or with convolution and pooling layers): parameters, activations,
 * initialisation, architecture strings, and the forward pass into preallocated buffers with consistent dropout.
 * @packageDocumentation
 */
export { ACTIVATIONS, parseActivation, type ActivationName } from './activations.js';
export { WEIGHT_INITS, initWeights, parseWeightInit, type WeightInit } from './init.js';
export {
  Network,
  networkLayers,
  NORMALIZATIONS,
  type LayerSpec,
  type ResolvedLayer,
  resolveNetworkConfig,
  type NetworkConfig,
  type Normalization,
  type ResolvedNetworkConfig,
} from './network.js';
export { DropoutMasks, ForwardState, forward } from './forward.js';
export { Conv2d, MaxPool2, col2im, convOutput, im2col, type ConvGeometry } from './conv.js';
export { archLayerCosts, archNetwork, parseArch, type Architecture } from './arch.js';
