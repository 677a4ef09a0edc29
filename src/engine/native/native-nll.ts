import type { BatchlessNormalization } from '../layers/batchless-normalization';

// A batchless layer's per-channel numbers live on the host during a native step (host-vectors.ts):
// C values each, where a TensorFlow op would cost ~10 µs of dispatch for a few ns of arithmetic.

/** 1/σ per channel from the stored std, per parametrization (std-parametrization.ts), in float64. */
export function invStdOnHost(stored: Float32Array, layer: BatchlessNormalization): Float64Array {
  const eps = layer.epsilon;
  const inv = new Float64Array(stored.length);
  const kind = layer.stdParametrization;
  for (let c = 0; c < stored.length; c++) {
    const s = stored[c];
    inv[c] = kind === 'log' ? Math.exp(-s) : kind === 'abs' ? 1 / (Math.abs(s) + eps) : s;
  }
  return inv;
}

/** d|x|/dx as tfjs takes it: 1 where x > 0, −1 elsewhere (0 included). */
const signLikeTfjs = (x: number) => (x > 0 ? 1 : -1);

/**
 * A layer's NLL over the batch and its μ/σ gradients from Σ(a − μ) = S1 and Σ(a − μ)² = S2 per
 * channel (K elements each, C channels), in closed form (batch-gradients.ts has the same loss
 * through autodiff):
 *   NLL = mean_c log σ_c + (1/2KC) Σ_c S2_c/σ_c²,   ∂/∂μ_c = −S1_c/(KC σ_c²),
 *   ∂/∂σ_c = 1/(Cσ_c) − S2_c/(KC σ_c³), then through the stored parametrization.
 * With the gauge option the log σ term is left out (and ½ subtracted), as the layer does.
 */
export function nllOnHost(layer: BatchlessNormalization, stored: Float32Array, inv: Float64Array, first: ArrayLike<number>, second: ArrayLike<number>, count: number) {
  const channels = stored.length;
  const kc = count * channels;
  const eps = layer.epsilon;
  const meanGrad = new Float32Array(channels);
  const stdGrad = new Float32Array(channels);
  let weightedSum = 0;
  let logSum = 0;
  for (let c = 0; c < channels; c++) {
    const inv2 = inv[c] * inv[c];
    const weighted = second[c] * inv2;
    weightedSum += weighted;
    meanGrad[c] = (-first[c] * inv2) / kc;
    const s = stored[c];
    switch (layer.stdParametrization) {
      case 'log':
        logSum += s;
        stdGrad[c] = -weighted / kc + 1 / channels;
        break;
      case 'abs':
        logSum += Math.log(Math.abs(s) + eps);
        stdGrad[c] = (inv[c] / channels - (weighted * inv[c]) / kc) * signLikeTfjs(s);
        break;
      case 'inv': {
        const magnitude = Math.abs(s) + eps;
        logSum -= Math.log(magnitude);
        stdGrad[c] = (-1 / channels / magnitude) * signLikeTfjs(s) + (second[c] * s) / kc;
        break;
      }
    }
  }
  const halfMeanSquare = (0.5 * weightedSum) / kc;
  const value = layer.gauge ? halfMeanSquare - 0.5 : logSum / channels + halfMeanSquare;
  return { value, meanGrad, stdGrad };
}
