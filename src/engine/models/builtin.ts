import * as tf from '@tensorflow/tfjs';
import { batchlessNormalization } from '../layers/batchless-normalization';

/** Which normalization the built-in models put after each hidden linear layer. */
export type NormKind = 'batchless' | 'batch' | 'none';
export const NORM_KINDS: readonly NormKind[] = ['batchless', 'batch', 'none'];

export type BuiltinModelName = 'mlp' | 'cnn';
export const BUILTIN_MODELS: readonly BuiltinModelName[] = ['mlp', 'cnn'];

export interface BuiltinModelOptions {
  /** Normalization after each hidden layer. Default: 'batchless'. */
  norm?: NormKind;
  /** Seed for the weight initializers, so runs repeat. Default: 0. */
  seed?: number;
  /** Output classes. Default: 10 (MNIST). */
  numClasses?: number;
}

/** The per-example input shape each built-in model expects. */
export function builtinInputShape(name: BuiltinModelName): number[] {
  return name === 'mlp' ? [784] : [28, 28, 1];
}

/**
 * builtin:mlp is 784-256-norm-relu-256-norm-relu-10, builtin:cnn is
 * conv3x3(16)-norm-relu-maxpool2-conv3x3(32)-norm-relu-globalavgpool-dense10. Both output logits.
 * A hidden layer followed by a normalization has no bias: the normalization's β takes its place.
 */
export function buildBuiltinModel(
  name: BuiltinModelName,
  options: BuiltinModelOptions = {},
): tf.Sequential {
  const norm = options.norm ?? 'batchless';
  const seed = options.seed ?? 0;
  const numClasses = options.numClasses ?? 10;
  let layerIndex = 0;
  const init = () => tf.initializers.glorotUniform({ seed: seed * 1000 + layerIndex++ });
  const useBias = norm === 'none';
  const normalization = (name: string): tf.layers.Layer[] => {
    if (norm === 'batchless') return [batchlessNormalization({ name })];
    if (norm === 'batch') return [tf.layers.batchNormalization({ name })];
    return [];
  };

  const layers: tf.layers.Layer[] =
    name === 'mlp'
      ? [
          tf.layers.dense({
            inputShape: [784],
            units: 256,
            useBias,
            kernelInitializer: init(),
            name: 'dense1',
          }),
          ...normalization('norm1'),
          tf.layers.activation({ activation: 'relu', name: 'relu1' }),
          tf.layers.dense({ units: 256, useBias, kernelInitializer: init(), name: 'dense2' }),
          ...normalization('norm2'),
          tf.layers.activation({ activation: 'relu', name: 'relu2' }),
          tf.layers.dense({ units: numClasses, kernelInitializer: init(), name: 'logits' }),
        ]
      : [
          tf.layers.conv2d({
            inputShape: [28, 28, 1],
            filters: 16,
            kernelSize: 3,
            padding: 'same',
            useBias,
            kernelInitializer: init(),
            name: 'conv1',
          }),
          ...normalization('norm1'),
          tf.layers.activation({ activation: 'relu', name: 'relu1' }),
          tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
          tf.layers.conv2d({
            filters: 32,
            kernelSize: 3,
            padding: 'same',
            useBias,
            kernelInitializer: init(),
            name: 'conv2',
          }),
          ...normalization('norm2'),
          tf.layers.activation({ activation: 'relu', name: 'relu2' }),
          tf.layers.globalAveragePooling2d({ name: 'gap' }),
          tf.layers.dense({ units: numClasses, kernelInitializer: init(), name: 'logits' }),
        ];
  return tf.sequential({ layers, name: `builtin_${name}_${norm}` });
}

/** Parses 'builtin:mlp' / 'builtin:cnn'; undefined for anything else (a path). */
export function parseBuiltinSpec(spec: string): BuiltinModelName | undefined {
  const match = /^builtin:(\w+)$/.exec(spec);
  if (!match) return undefined;
  const name = match[1] as BuiltinModelName;
  if (!BUILTIN_MODELS.includes(name)) {
    throw new Error(
      `Unknown built-in model '${spec}': expected one of ${BUILTIN_MODELS.map((m) => `builtin:${m}`).join(', ')}`,
    );
  }
  return name;
}
