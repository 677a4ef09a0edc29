import * as tf from '@tensorflow/tfjs';

/** Whether the model's output is already a softmax (cross-entropy on probabilities) or logits. */
export function outputIsProbability(model: tf.LayersModel): boolean {
  let last = model.layers[model.layers.length - 1];
  while (last instanceof tf.LayersModel) last = last.layers[last.layers.length - 1];
  const activation = (last.getConfig() as { activation?: unknown }).activation;
  return activation === 'softmax' || last.getClassName() === 'Softmax';
}

/** Mean categorical cross-entropy over the micro-batch, from logits or from probabilities. */
export function taskLoss(output: tf.Tensor, oneHotLabels: tf.Tensor, fromProbabilities: boolean): tf.Scalar {
  return tf.tidy(() => {
    if (!fromProbabilities) return tf.losses.softmaxCrossEntropy(oneHotLabels, output) as tf.Scalar;
    const clipped = tf.clipByValue(output, 1e-7, 1 - 1e-7);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHotLabels, tf.log(clipped)), -1))) as tf.Scalar;
  });
}
