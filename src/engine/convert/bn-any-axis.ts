import * as tf from '@tensorflow/tfjs';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';

/**
 * Makes a tfjs BatchNormalization over a non-last axis compute what Keras computes in inference:
 * y = (x − moving_mean) / sqrt(moving_variance + ε) · γ + β, the statistics broadcast along the
 * layer's own axis. tfjs 4.22's BatchNorm kernels index the statistics as if channels were last,
 * so its own call is wrong there (keras-build.ts refuses such layers on a plain load).
 *
 * Only for conversion: the patched model is the parity reference the batchless rewrite is checked
 * against (the batchless layer broadcasts any axis correctly). Training it is refused, since
 * batch statistics would need the same fix.
 */
export function patchBatchNormInference(layer: tf.layers.Layer, axis: number): void {
  const config = layer.getConfig() as { epsilon?: number };
  const epsilon = config.epsilon ?? 1e-3;
  const byName = (name: string): tf.LayerVariable | undefined =>
    layer.weights.find((w) => w.originalName.split('/').pop() === name);
  layer.call = (inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor => {
    if (kwargs['training'] === true) {
      throw new Error(
        `${layer.name}: loaded for conversion only (BatchNormalization over axis ${axis}, which tfjs cannot train)`,
      );
    }
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => {
      const shape = new Array<number>(x.rank).fill(1);
      const resolved = axis < 0 ? axis + x.rank : axis;
      shape[resolved] = x.shape[resolved];
      const stat = (name: string): tf.Tensor | undefined => byName(name)?.read().reshape(shape);
      const mean = stat('moving_mean');
      const variance = stat('moving_variance');
      if (mean === undefined || variance === undefined) {
        throw new Error(`${layer.name}: BatchNormalization without moving statistics`);
      }
      let factor = tf.rsqrt(tf.add(variance, epsilon));
      const gamma = stat('gamma');
      if (gamma !== undefined) factor = tf.mul(factor, gamma);
      const y = tf.mul(tf.sub(x, mean), factor);
      const beta = stat('beta');
      return beta === undefined ? y : tf.add(y, beta);
    });
  };
}
