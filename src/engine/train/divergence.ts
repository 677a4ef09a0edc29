import * as tf from '@tensorflow/tfjs';
import type { BatchlessNormalization } from '../layers/batchless-normalization';

/**
 * Names the step and the first place a non-finite value showed up: the task loss, a layer's NLL,
 * or (when the losses are finite) the gradient of a variable. Reads gradients only on this path.
 */
export function describeNonFinite(step: number, lossValues: ArrayLike<number>, batchless: BatchlessNormalization[], grads: tf.NamedTensorMap): string {
  const what = (v: number) => (Number.isNaN(v) ? 'NaN' : 'infinite');
  // Layers first: a broken μ/σ makes the task loss non-finite too, and the layer is the cause.
  for (let i = 0; i < batchless.length; i++) {
    if (!Number.isFinite(lossValues[i + 1])) {
      return `Training stopped at step ${step}: the NLL of layer '${batchless[i].name}' is ${what(lossValues[i + 1])}. Its σ may have collapsed; try a lower learning rate for the statistics.`;
    }
  }
  if (!Number.isFinite(lossValues[0])) {
    return `Training stopped at step ${step}: the task loss is ${what(lossValues[0])}. Try a lower learning rate.`;
  }
  for (const [name, grad] of Object.entries(grads)) {
    const bad = tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(grad))).dataSync()[0]);
    if (bad) return `Training stopped at step ${step}: the gradient of '${name}' is not finite. Try a lower learning rate.`;
  }
  return `Training stopped at step ${step}: a non-finite value appeared.`;
}
