import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/dataset';
import type { BatchlessNormalization } from '../layers/batchless-normalization';
import { withInputObserver } from '../layers/input-observers';
import { batchlessStrata } from './strata';

/** σ below this would make 1/σ explode on channels that are constant in the sample (dead ReLUs). */
export const MIN_INIT_STD = 1e-4;

export interface DataInitResult {
  samples: number;
  strata: string[][];
  /** Channels whose measured σ was below MIN_INIT_STD and was raised to it, per layer. */
  flooredChannels: Record<string, number>;
}

/**
 * Data-driven initialization (the reference code's init_bln): runs a sample through the model in
 * inference mode, stratum by stratum, and sets each layer's μ and σ to the per-channel mean and
 * biased standard deviation of the input it receives.
 */
export function initializeFromData(
  model: tf.LayersModel,
  layers: BatchlessNormalization[],
  sample: Batch,
  inputShape: number[],
  chunkSize = 256,
): DataInitResult {
  const strata = batchlessStrata(model, layers);
  const flooredChannels: Record<string, number> = {};
  for (const stratum of strata) {
    const moments = new Map<tf.layers.Layer, RunningMoments>(stratum.map((l) => [l, new RunningMoments()]));
    forEachChunk(sample, inputShape, chunkSize, (x) => {
      const perChunk: [RunningMoments, tf.Tensor, tf.Tensor, number][] = [];
      try {
        withInputObserver(
          (layer, input) => {
            const running = moments.get(layer);
            if (!running) return;
            const axes = reduceAxes(input.rank, (layer as BatchlessNormalization).statisticsAxes());
            const { mean, variance } = tf.tidy(() => tf.moments(input, axes));
            tf.keep(mean);
            tf.keep(variance);
            const count = axes.reduce((n, a) => n * input.shape[a], 1);
            perChunk.push([running, mean, variance, count]);
          },
          () => tf.dispose(model.apply(x, { training: false }) as tf.Tensor),
        );
        for (const [running, mean, variance, count] of perChunk) {
          running.add(mean.dataSync(), variance.dataSync(), count);
        }
      } finally {
        tf.dispose(perChunk.flatMap(([, mean, variance]) => [mean, variance]));
      }
    });
    for (const layer of stratum) {
      const { mean, variance } = moments.get(layer)!.result(layer.name);
      let floored = 0;
      const std = Array.from(variance, (v) => {
        const s = Math.sqrt(Math.max(v, 0));
        if (s >= MIN_INIT_STD) return s;
        floored++;
        return MIN_INIT_STD;
      });
      if (floored > 0) flooredChannels[layer.name] = floored;
      layer.setStatistics(mean, std);
    }
  }
  return { samples: sample.size, strata: strata.map((s) => s.map((l) => l.name)), flooredChannels };
}

function reduceAxes(rank: number, keep: number[]): number[] {
  return Array.from({ length: rank }, (_, i) => i).filter((i) => !keep.includes(i));
}

function forEachChunk(sample: Batch, inputShape: number[], chunkSize: number, fn: (x: tf.Tensor) => void) {
  const perExample = inputShape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < sample.size; start += chunkSize) {
    const end = Math.min(start + chunkSize, sample.size);
    const x = tf.tensor(sample.x.subarray(start * perExample, end * perExample), [end - start, ...inputShape], 'float32');
    try {
      fn(x);
    } finally {
      x.dispose();
    }
  }
}

/** Combines per-chunk means and variances exactly (Chan et al.), in float64 on the host. */
class RunningMoments {
  private count = 0;
  private mean?: Float64Array;
  private m2?: Float64Array;

  add(mean: ArrayLike<number>, variance: ArrayLike<number>, count: number): void {
    if (!this.mean || !this.m2) {
      this.mean = Float64Array.from(mean);
      this.m2 = Float64Array.from(variance, (v) => v * count);
      this.count = count;
      return;
    }
    const total = this.count + count;
    for (let c = 0; c < this.mean.length; c++) {
      const delta = mean[c] - this.mean[c];
      this.mean[c] += (delta * count) / total;
      this.m2[c] += variance[c] * count + (delta * delta * this.count * count) / total;
    }
    this.count = total;
  }

  result(layerName: string): { mean: Float64Array; variance: Float64Array } {
    if (!this.mean || !this.m2) throw new Error(`Data-driven init: layer '${layerName}' was never reached by the sample`);
    const variance = this.m2.map((m) => m / this.count);
    return { mean: this.mean, variance };
  }
}
