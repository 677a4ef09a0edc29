import * as tf from '@tensorflow/tfjs';

/**
 * Identity forward, zero gradient backward. TF.js has no public stop-gradient op; method.md allows
 * building one with `tf.customGrad`. It is what keeps the task loss away from μ/σ and the NLL away
 * from the activations, so one backward pass over (task loss + Σ NLL) yields both gradient streams.
 */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    return { value: x.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  },
) as (x: tf.Tensor) => tf.Tensor;
