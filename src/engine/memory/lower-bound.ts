import * as tf from '@tensorflow/tfjs';
import type { OptimizerName } from '../train/config';
import { flattenLayers } from '../models/norm-layers';

/** Per trainable value, the state each optimizer keeps (tfjs 4.22: adam m, v; rmsprop ms, mom; momentum accumulation). */
export const OPTIMIZER_STATE_PER_WEIGHT: Record<OptimizerName, number> = {
  adam: 2,
  rmsprop: 2,
  momentum: 1,
  sgd: 0,
};

const BYTES_PER_FLOAT = 4;

/** A tensor of one instance that backprop has to keep, and why. */
export interface KeptActivation {
  layer: string;
  /** 'input': the layer's input (its weight gradient or its non-linearity needs it); 'output': its own output. */
  which: 'input' | 'output';
  elementsPerInstance: number;
}

/**
 * The least memory one training step can take with these weights, this optimizer and this
 * micro-batch size, computed rather than measured: weights, one set of gradients, the optimizer's
 * state, and the activations of one micro-batch that backprop must keep. An activation is kept
 * when a layer with weights needs its input for the weight gradient, or a non-linear layer
 * (activation, max pooling, normalization, dropout) needs it to route the gradient; the model's
 * output is kept for the loss. Linear layers without weights (average pooling, flatten, reshape)
 * need nothing. Everything is float32.
 */
export interface LowerBound {
  weightsBytes: number;
  gradientsBytes: number;
  optimizerStateBytes: number;
  activationsBytes: number;
  totalBytes: number;
  /** Activation bytes per instance: the slope of the bound in the micro-batch size. */
  activationsPerInstanceBytes: number;
  microBatchSize: number;
  kept: KeptActivation[];
}

const NONLINEAR_CLASSES = new Set([
  'Activation',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'ThresholdedReLU',
  'Softmax',
  'MaxPooling1D',
  'MaxPooling2D',
  'MaxPooling3D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'Dropout',
  'SpatialDropout1D',
  'BatchNormalization',
  'LayerNormalization',
]);

function perInstance(shape: tf.Shape): number {
  return shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
}

function symbolicList(get: () => tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor[] {
  try {
    const value = get();
    return Array.isArray(value) ? value : [value];
  } catch {
    return []; // a layer called more than once has no single input; its nodes are not followed
  }
}

/** The activations per instance that backprop must keep (see LowerBound). */
export function keptActivations(model: tf.LayersModel): KeptActivation[] {
  const counted = new Set<number>();
  const kept: KeptActivation[] = [];
  const keep = (layer: string, which: KeptActivation['which'], tensors: tf.SymbolicTensor[]) => {
    for (const t of tensors) {
      if (counted.has(t.id)) continue;
      counted.add(t.id);
      kept.push({ layer, which, elementsPerInstance: perInstance(t.shape) });
    }
  };
  for (const { layer, path } of flattenLayers(model)) {
    const activation = (layer.getConfig() as { activation?: unknown }).activation;
    const hasActivation = typeof activation === 'string' && activation !== 'linear';
    const nonlinear =
      NONLINEAR_CLASSES.has(layer.getClassName()) ||
      layer.getClassName() === 'BatchlessNormalization';
    if (layer.trainableWeights.length > 0 || nonlinear)
      keep(
        path,
        'input',
        symbolicList(() => layer.input),
      );
    if (hasActivation && layer.getClassName() !== 'Activation')
      keep(
        path,
        'output',
        symbolicList(() => layer.output),
      );
  }
  keep('(loss)', 'output', model.outputs);
  return kept;
}

export function analyticLowerBound(
  model: tf.LayersModel,
  microBatchSize: number,
  optimizer: OptimizerName,
): LowerBound {
  const trainable = model.trainableWeights.reduce(
    (sum, w) => sum + tf.util.sizeFromShape(w.shape as number[]),
    0,
  );
  const all = model.weights.reduce((sum, w) => sum + tf.util.sizeFromShape(w.shape as number[]), 0);
  const kept = keptActivations(model);
  const activationsPerInstanceBytes =
    kept.reduce((sum, k) => sum + k.elementsPerInstance, 0) * BYTES_PER_FLOAT;
  const weightsBytes = all * BYTES_PER_FLOAT;
  const gradientsBytes = trainable * BYTES_PER_FLOAT;
  const optimizerStateBytes = trainable * BYTES_PER_FLOAT * OPTIMIZER_STATE_PER_WEIGHT[optimizer];
  const activationsBytes = activationsPerInstanceBytes * microBatchSize;
  return {
    weightsBytes,
    gradientsBytes,
    optimizerStateBytes,
    activationsBytes,
    totalBytes: weightsBytes + gradientsBytes + optimizerStateBytes + activationsBytes,
    activationsPerInstanceBytes,
    microBatchSize,
    kept,
  };
}
