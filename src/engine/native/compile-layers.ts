import * as tf from '@tensorflow/tfjs';
import { isBatchlessLayer } from '../layers/batchless-normalization';
import { Activation, LayerWeight, NativeLayer, WeightRole, batchNorm, batchless, conv2d, dense, flatten, globalAveragePool, maxPool, relu } from './native-layers';

/** The layers of a chain model as native layers, the final softmax dropped (the loss takes logits); or why not. */
export function compileLayers(model: tf.LayersModel): { layers: NativeLayer[] } | { reason: string } {
  const layers: NativeLayer[] = [];
  const all = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  for (let i = 0; i < all.length; i++) {
    const layer = all[i];
    const last = i === all.length - 1;
    if (layer instanceof tf.LayersModel) return { reason: `nested model '${layer.name}'` };
    const inbound = layer.inboundNodes.flatMap((node) => node.inboundLayers);
    if (layer.inboundNodes.length !== 1 || inbound.length > 1 || (i > 0 && inbound[0] !== all[i - 1]))
      return { reason: `layer '${layer.name}' is not part of a single chain` };
    const compiled = compileLayer(layer, last);
    if (typeof compiled === 'string') return { reason: `layer '${layer.name}' (${layer.getClassName()}): ${compiled}` };
    if (compiled) layers.push(compiled);
  }
  // maxPool(relu(y)) = relu(maxPool(y)), gradients included (each window's first maximum is the
  // same, and a window with no positive value passes no gradient either way); pooling first runs
  // the ReLU and its gradient on a quarter of the elements.
  for (let i = 0; i + 1 < layers.length; i++) {
    if (layers[i].kind === 'relu' && layers[i + 1].kind === 'maxPool') [layers[i], layers[i + 1]] = [layers[i + 1], layers[i]];
  }
  return { layers };
}

function weightsOf(layer: tf.layers.Layer): LayerWeight[] {
  return layer.weights.map((w) => ({ role: w.originalName.split('/').pop() as WeightRole, variable: w.read() as tf.Variable, trainable: w.trainable }));
}

function activationOf(config: tf.serialization.ConfigDict, last: boolean): Activation | undefined {
  const activation = (config.activation as string | undefined) ?? 'linear';
  if (activation === 'linear' || activation === 'relu') return activation;
  if (activation === 'softmax' && last) return 'linear';
  return undefined;
}

function compileLayer(layer: tf.layers.Layer, last: boolean): NativeLayer | undefined | string {
  const config = layer.getConfig();
  const className = layer.getClassName();
  const weights = weightsOf(layer);
  switch (className) {
    case 'Dense': {
      const activation = activationOf(config, last);
      if (!activation) return `activation '${String(config.activation)}' has no native step`;
      if ((layer.input as tf.SymbolicTensor).rank !== 2) return 'a Dense layer on a rank > 2 input has no native step';
      return { name: layer.name, weights, forward: (ops, x, w) => dense(ops, x, w, activation) };
    }
    case 'Conv2D': {
      const activation = activationOf(config, last);
      if (!activation) return `activation '${String(config.activation)}' has no native step`;
      if (config.dataFormat !== 'channelsLast') return 'only channelsLast has a native step';
      const dilation = config.dilationRate as number[] | number;
      if ((Array.isArray(dilation) ? dilation : [dilation]).some((d) => d !== 1)) return 'dilation has no native step';
      const strides = config.strides as number[];
      const padding = (config.padding as string).toUpperCase();
      if (padding !== 'SAME' && padding !== 'VALID') return `padding '${String(config.padding)}' has no native step`;
      return { name: layer.name, kind: 'conv', weights, forward: (ops, x, w) => conv2d(ops, x, w, strides, padding, activation) };
    }
    case 'Activation': {
      const activation = activationOf(config, last);
      if (!activation) return `activation '${String(config.activation)}' has no native step`;
      return activation === 'relu' ? { name: layer.name, kind: 'relu', weights, forward: (ops, x) => relu(ops, x) } : undefined;
    }
    case 'ReLU':
      if (config.maxValue != null) return 'a ReLU with maxValue has no native step';
      return { name: layer.name, kind: 'relu', weights, forward: (ops, x) => relu(ops, x) };
    case 'Flatten':
      return { name: layer.name, weights, forward: (ops, x) => flatten(ops, x) };
    case 'MaxPooling2D': {
      if (config.dataFormat !== 'channelsLast') return 'only channelsLast has a native step';
      const pool = config.poolSize as number[];
      const strides = (config.strides as number[] | null) ?? pool;
      const padding = (config.padding as string).toUpperCase();
      return { name: layer.name, kind: 'maxPool', weights, forward: (ops, x) => maxPool(ops, x, pool, strides, padding) };
    }
    case 'GlobalAveragePooling2D':
      if (config.dataFormat !== 'channelsLast') return 'only channelsLast has a native step';
      return { name: layer.name, weights, forward: (ops, x) => globalAveragePool(ops, x) };
    case 'BatchNormalization': {
      const rank = (layer.input as tf.SymbolicTensor).rank;
      const axis = config.axis as number;
      if (axis !== -1 && axis !== rank - 1) return 'only channels-last batch normalization has a native step';
      if (rank !== 2 && rank !== 4) return `a rank-${rank} input has no native step`;
      if (!config.center || !config.scale) return 'tfjs trains batch normalization only with center and scale';
      return { name: layer.name, weights, usesBatchStatistics: true, forward: (ops, x, w) => batchNorm(ops, x, w, config.epsilon as number, config.momentum as number) };
    }
    case 'Dropout':
      return (config.rate as number) === 0 ? undefined : 'dropout has no native step';
    default:
      if (isBatchlessLayer(layer)) {
        const axes = layer.statisticsAxes();
        const rank = (layer.input as tf.SymbolicTensor).rank;
        if (axes.length !== 1 || axes[0] !== rank - 1) return 'only channels-last statistics have a native step';
        if (rank !== 2 && rank !== 4) return `a rank-${rank} input has no native step`;
        return { name: layer.name, weights, batchless: layer, fused: rank === 4, forward: (ops, x, w) => batchless(ops, x, w) };
      }
      return 'no native step for this layer type';
  }
}
