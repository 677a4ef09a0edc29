import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/dataset';
import { isBatchlessLayer } from '../layers/batchless-normalization';
import { withInputObserver } from '../layers/input-observers';
import { findNormLayers, NormLayerRef } from '../models/norm-layers';
import type { LayerInspection } from '../../shared/inspection';
import { snapshotLayer } from './layer-snapshot';

/** Bins of the per-channel activation histogram. */
export const HISTOGRAM_BINS = 40;

/**
 * For each normalization layer: the statistics it normalizes with (learned μ/σ, or BN's moving
 * statistics) against what its input really does on data (per-channel mean and std, measured in
 * inference mode), plus a histogram of one channel. This is the "is the learned Gaussian right?"
 * view. Batchless inputs are read with the input observer; BN inputs through a sub-model.
 */
export function inspectLayers(
  model: tf.LayersModel,
  sample: Batch,
  inputShape: number[],
  channel = 0,
): LayerInspection[] {
  const refs = findNormLayers(model);
  const x = tf.tensor(sample.x, [sample.size, ...inputShape], 'float32');
  let inputs = new Map<tf.layers.Layer, tf.Tensor>();
  try {
    inputs = captureInputs(model, refs, x);
    return refs.map((ref) => {
      const input = inputs.get(ref.layer);
      const snapshot = snapshotLayer(ref);
      if (!input)
        return {
          ...snapshot,
          observed: undefined,
          histogram: undefined,
          note: 'not reached by a forward pass (inside a nested model)',
        };
      const axis = input.rank - 1;
      const observed = tf.tidy(() => {
        const axes = Array.from({ length: input.rank }, (_, i) => i).filter((i) => i !== axis);
        const { mean, variance } = tf.moments(input, axes);
        return { mean: Array.from(mean.dataSync()), std: Array.from(tf.sqrt(variance).dataSync()) };
      });
      const c = Math.min(channel, snapshot.mean.length - 1);
      const values = tf.tidy(
        () => tf.reshape(tf.gather(input, [c], axis), [-1]).dataSync() as Float32Array,
      );
      return {
        ...snapshot,
        observed,
        histogram: histogram(values, c, snapshot.mean[c], snapshot.std[c]),
      };
    });
  } finally {
    tf.dispose([x, ...inputs.values()]);
  }
}

/** The input tensor of every normalization layer on `x`, in inference mode; the caller disposes them. */
function captureInputs(
  model: tf.LayersModel,
  refs: NormLayerRef[],
  x: tf.Tensor,
): Map<tf.layers.Layer, tf.Tensor> {
  const captured = new Map<tf.layers.Layer, tf.Tensor>();
  withInputObserver(
    (layer, input) => {
      if (!captured.has(layer)) captured.set(layer, tf.keep(input.clone()));
    },
    () => tf.dispose(model.apply(x, { training: false }) as tf.Tensor),
  );
  for (const ref of refs) {
    if (isBatchlessLayer(ref.layer) || ref.path.includes('/')) continue;
    const sub = tf.model({ inputs: model.inputs, outputs: ref.layer.input as tf.SymbolicTensor });
    captured.set(ref.layer, sub.predict(x) as tf.Tensor);
  }
  return captured;
}

function histogram(
  values: Float32Array,
  channel: number,
  learnedMean: number,
  learnedStd: number,
): LayerInspection['histogram'] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  // Include ±3σ of the learned Gaussian so its curve is visible even where the data is not.
  min = Math.min(min, learnedMean - 3 * learnedStd);
  max = Math.max(max, learnedMean + 3 * learnedStd);
  const width = (max - min) / HISTOGRAM_BINS || 1;
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const v of values) counts[Math.min(HISTOGRAM_BINS - 1, Math.floor((v - min) / width))]++;
  return { channel, binStart: min, binWidth: width, counts, total: values.length };
}
