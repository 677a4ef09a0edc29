import * as tf from '@tensorflow/tfjs';

/**
 * How σ is stored in the `std` variable (method.md):
 * - 'log': s = log σ, 1/σ = exp(−s), no epsilon;
 * - 'abs': s = σ, σ = |s| + ε;
 * - 'inv': p = 1/σ, the forward multiplies by p, and log σ = −log(|p| + ε).
 */
export type StdParametrization = 'log' | 'abs' | 'inv';

export const STD_PARAMETRIZATIONS: readonly StdParametrization[] = ['log', 'abs', 'inv'];

/**
 * The value to store in the `std` variable so that the layer's σ is exactly `std` (for 'abs' the
 * ε is taken back out; a σ at or below ε is stored as 0, the smallest σ that parametrization has).
 */
export function storedFromStd(std: number, kind: StdParametrization, epsilon: number): number {
  switch (kind) {
    case 'log':
      return Math.log(std);
    case 'abs':
      return Math.max(std - epsilon, 0);
    case 'inv':
      return 1 / std;
  }
}

/** σ as the layer sees it, from the stored value (host side, for reports and conversion). */
export function stdFromStored(stored: number, kind: StdParametrization, epsilon: number): number {
  switch (kind) {
    case 'log':
      return Math.exp(stored);
    case 'abs':
      return Math.abs(stored) + epsilon;
    case 'inv':
      return 1 / stored;
  }
}

/** The factor the forward pass multiplies by: 1/σ. */
export function invStd(stored: tf.Tensor, kind: StdParametrization, epsilon: number): tf.Tensor {
  switch (kind) {
    case 'log':
      return tf.exp(tf.neg(stored));
    case 'abs':
      return tf.reciprocal(tf.add(tf.abs(stored), epsilon));
    case 'inv':
      return stored;
  }
}

/** log σ, the first term of the NLL. */
export function logStd(stored: tf.Tensor, kind: StdParametrization, epsilon: number): tf.Tensor {
  switch (kind) {
    case 'log':
      return stored;
    case 'abs':
      return tf.log(tf.add(tf.abs(stored), epsilon));
    case 'inv':
      return tf.neg(tf.log(tf.add(tf.abs(stored), epsilon)));
  }
}
