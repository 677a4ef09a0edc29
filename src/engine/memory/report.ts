import type * as tf from '@tensorflow/tfjs';
import { Dataset, sliceBatch } from '../data/dataset';
import type { OptimizerName } from '../train/config';
import { MemoryCategories, PeakBreakdown, StepBreakdown, measureStepBreakdown } from './breakdown';
import type { ProcessPeak } from './process-memory';
import type { SweepPoint } from './sweep';

/**
 * One measured point of `batchless memory`. The first four fields are a SweepPoint (the memory
 * webview draws them); `peakStepBytes` is, as there, the peak of computing one effective batch's
 * gradients beyond the bytes alive before, here counted in unique buffers.
 */
export interface MemoryPoint extends SweepPoint {
  /** The optimizer update's peak beyond the bytes alive before (it does not grow with the batch). */
  updatePeakStepBytes: number;
  /** Unique buffers alive at the gradients' peak, weights and optimizer state included. */
  peakBytes: number;
  /** What `peakStepBytes` would be in tfjs's own per-handle accounting (what `tf.profile` and the trainer report). */
  tfjsPeakStepBytes: number;
  /** Tensor bytes alive before the step. */
  residentBytes: number;
  /** The most activation bytes alive at once (input and forward values kept for backprop): the part micro-batching shrinks. */
  activationsBytes: number;
  /** The gradients' peak by category. */
  categories: MemoryCategories;
  /** The computed minimum of the whole step (see LowerBound). */
  lowerBoundBytes: number;
  /** Process level (resident set, wasm heap): a different quantity from the tensor numbers. */
  process: ProcessPeak;
}

export interface MemoryReportOptions {
  batchSizes: number[];
  microBatchSizes: number[];
  inputShape: number[];
  optimizer?: OptimizerName;
  onPoint?: (point: MemoryPoint) => void;
}

export interface MemoryReport {
  points: MemoryPoint[];
  /** Full breakdowns of the largest effective batch: BN (whole batch) and batchless (smallest micro-batch). */
  largest: { batch?: StepBreakdown; batchless: StepBreakdown };
}

export function toMemoryPoint(norm: SweepPoint['norm'], b: StepBreakdown): MemoryPoint {
  const bp: PeakBreakdown = b.backprop;
  return {
    norm,
    batchSize: b.batchSize,
    microBatchSize: b.microBatchSize,
    peakStepBytes: Math.max(0, bp.peakBytes - b.residentBytes),
    updatePeakStepBytes: Math.max(0, b.update.peakBytes - b.residentBytes),
    peakBytes: bp.peakBytes,
    tfjsPeakStepBytes: Math.max(0, bp.tfjsPeakBytes - b.residentBytes),
    residentBytes: b.residentBytes,
    activationsBytes: b.activationsPeakBytes,
    categories: bp.categories,
    lowerBoundBytes: b.lowerBound.totalBytes,
    process: b.process,
  };
}

/**
 * Peak step memory against the effective batch size, measured step by step: BN with the whole
 * batch in memory, batchless with micro-batches whose gradients accumulate. Instances are reused
 * cyclically when the batch is larger than the data. Each model is measured alone: the other one
 * is disposed of only by the caller, so its weights count as 'other' resident bytes.
 */
export async function memoryReport(
  bnModel: tf.LayersModel | undefined,
  batchlessModel: tf.LayersModel,
  data: Dataset,
  options: MemoryReportOptions,
): Promise<MemoryReport> {
  const points: MemoryPoint[] = [];
  let largestBatch: StepBreakdown | undefined;
  let largestBatchless: StepBreakdown | undefined;
  const largest = Math.max(...options.batchSizes);
  const smallestMicro = Math.min(...options.microBatchSizes);
  const common = {
    inputShape: options.inputShape,
    numClasses: data.numClasses,
    optimizer: options.optimizer,
  };
  for (const batchSize of options.batchSizes) {
    const batch = sliceBatch(
      data,
      Int32Array.from({ length: batchSize }, (_, i) => i % data.count),
    );
    if (bnModel) {
      const b = await measureStepBreakdown(bnModel, batch, batchSize, common);
      if (batchSize === largest) largestBatch = b;
      add(points, toMemoryPoint('batch', b), options.onPoint);
    }
    for (const micro of options.microBatchSizes) {
      if (micro > batchSize) continue;
      const b = await measureStepBreakdown(batchlessModel, batch, micro, common);
      if (batchSize === largest && micro === smallestMicro) largestBatchless = b;
      add(points, toMemoryPoint('batchless', b), options.onPoint);
    }
  }
  if (!largestBatchless)
    throw new Error(`memoryReport: no micro-batch size fits the largest batch ${largest}`);
  return { points, largest: { batch: largestBatch, batchless: largestBatchless } };
}

function add(
  points: MemoryPoint[],
  point: MemoryPoint,
  onPoint?: (point: MemoryPoint) => void,
): void {
  points.push(point);
  onPoint?.(point);
}
