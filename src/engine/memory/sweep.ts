import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset';
import { sliceBatch } from '../data/dataset';
import { measureGradientStep } from './step-peak';

/** One measured point of the sweep: peak tensor bytes of one training step. */
export interface SweepPoint {
  norm: 'batch' | 'batchless';
  batchSize: number;
  /** Instances per forward/backward pass; BN always processes the whole batch at once. */
  microBatchSize: number;
  peakStepBytes: number;
}

export interface SweepOptions {
  batchSizes: number[];
  microBatchSizes: number[];
  onPoint?: (point: SweepPoint) => void;
}

/**
 * Peak step memory against effective batch size: BN with the whole batch in memory, batchless with
 * micro-batches whose gradients accumulate. Every point is a real, measured step on real data
 * (instances are reused cyclically when the batch is larger than the data).
 */
export async function memorySweep(bnModel: tf.LayersModel | undefined, batchlessModel: tf.LayersModel, data: Dataset, inputShape: number[], options: SweepOptions): Promise<SweepPoint[]> {
  const points: SweepPoint[] = [];
  const add = (point: SweepPoint) => {
    points.push(point);
    options.onPoint?.(point);
  };
  for (const batchSize of options.batchSizes) {
    const batch = sliceBatch(data, Int32Array.from({ length: batchSize }, (_, i) => i % data.count));
    if (bnModel) {
      add({ norm: 'batch', batchSize, microBatchSize: batchSize, peakStepBytes: await measureGradientStep(bnModel, batch, batchSize, inputShape, data.numClasses) });
    }
    for (const micro of options.microBatchSizes) {
      if (micro > batchSize) continue;
      add({ norm: 'batchless', batchSize, microBatchSize: micro, peakStepBytes: await measureGradientStep(batchlessModel, batch, micro, inputShape, data.numClasses) });
    }
  }
  return points;
}
