import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/dataset';
import { batchGradients, stepModelOf } from '../train/batch-gradients';
import type { OptimizerName } from '../train/config';
import { makeOptimizer } from '../train/optimizers';
import { BufferTracker, PeakSnapshot, StepPhase, TrackedBuffer, byteSize } from './buffer-tracker';
import { LowerBound, analyticLowerBound } from './lower-bound';
import { ProcessPeak, measureProcessPeak } from './process-memory';

/** Where the bytes alive at a step's peak went. Every category is tensor-level, in bytes. */
export interface MemoryCategories {
  /** The model's weights (trainable and not, e.g. BN moving statistics). */
  weights: number;
  /** Gradient tensors of the step and the accumulators that sum micro-batch gradients. */
  gradients: number;
  /** The optimizer's own variables (Adam's moments, β powers). */
  optimizerState: number;
  /** The micro-batch's input and the forward values tfjs keeps for backprop. */
  activations: number;
  /** Backward and update temporaries, labels, and resident tensors that belong to none of the above. */
  other: number;
}

export const CATEGORY_LABELS: Record<keyof MemoryCategories, string> = {
  weights: 'weights',
  gradients: 'gradients & accumulators',
  optimizerState: 'optimizer state',
  activations: 'activations kept for backprop',
  other: 'other',
};

/** The buffers alive at one peak, by category. */
export interface PeakBreakdown {
  /** Tensor level: unique tfjs data buffers alive at this peak, weights and optimizer state included. */
  peakBytes: number;
  categories: MemoryCategories;
  /** Σ categories − peakBytes: the categories partition the buffers alive at the peak, so 0. */
  unaccountedBytes: number;
  /** Which part of the step the peak fell in. */
  phase: StepPhase;
  /** The same peak in tfjs's own accounting (as `tf.profile` reports it): per handle, so a buffer kept for backprop or viewed by a reshape counts twice. */
  tfjsPeakBytes: number;
  /** Where `other` came from: tensors alive before the step, and temporaries by the phase that made them. */
  otherDetail: { resident: number; backward: number; update: number; accumulate: number };
}

/** One training step (gradients of an effective batch, then the optimizer update), measured. */
export interface StepBreakdown {
  batchSize: number;
  microBatchSize: number;
  optimizer: OptimizerName;
  /** Tensor level: unique tfjs data buffers alive at the step's peak, weights and optimizer state included. */
  peakBytes: number;
  /** Tensor level: the peak minus the bytes alive before the step, the step's own working memory. */
  peakStepBytes: number;
  /**
   * The most activation bytes (the micro-batch's input and the forward values kept for backprop)
   * alive at any moment of the step; unlike the category at the peak, this does not depend on
   * where the peak fell (with micro-batch 1 it can fall in an accumulation, after they are freed).
   */
  activationsPeakBytes: number;
  /** Bytes alive before the step (tfjs accounting). */
  residentBytes: number;
  /** The step's peak (the higher of the two below), by category. */
  categories: MemoryCategories;
  /** Σ categories − peakBytes: 0 unless a buffer escaped classification. */
  unaccountedBytes: number;
  /** Which part of the step the peak fell in. */
  peakPhase: StepPhase;
  /** The peak while computing the gradients: where activations live. */
  backprop: PeakBreakdown;
  /** The peak of the optimizer update (tfjs's Adam keeps every variable's temporaries until it ends). */
  update: PeakBreakdown;
  /** The computed minimum for the same step (see LowerBound). */
  lowerBound: LowerBound;
  /** Process level: resident set and wasm heap while the step ran (not comparable with the tensor numbers). */
  process: ProcessPeak;
}

export interface BreakdownOptions {
  inputShape: number[];
  numClasses: number;
  /** The optimizer whose state is counted (default adam, as `batchless train`). */
  optimizer?: OptimizerName;
}

/**
 * Measures one step's peak and says what it consists of. The optimizer takes one warm-up step on
 * the first micro-batch first, so its state exists, as it does from the second training step on.
 * The model's weights are restored afterwards, so measuring never changes the model.
 */
export async function measureStepBreakdown(
  model: tf.LayersModel,
  batch: Batch,
  microBatchSize: number,
  options: BreakdownOptions,
): Promise<StepBreakdown> {
  const optimizerName = options.optimizer ?? 'adam';
  const saved = model.weights.map((w) => ({
    values: w.read().dataSync().slice(),
    shape: w.shape as number[],
  }));
  const step = stepModelOf(model, options.inputShape, options.numClasses);
  const variablesBefore = new Set(Object.keys(tf.engine().registeredVariables));
  const optimizer = makeOptimizer(optimizerName, 1e-3);
  try {
    const warmUp = {
      x: batch.x.subarray(0, (batch.x.length / batch.size) * Math.min(microBatchSize, batch.size)),
      y: batch.y.subarray(0, microBatchSize),
      size: Math.min(microBatchSize, batch.size),
    };
    const first = batchGradients(step, warmUp, warmUp.size);
    optimizer.applyGradients(first.grads);
    tf.dispose([first.grads, first.lossParts]);

    const weightVars = model.weights.map((w) => w.read() as tf.Variable);
    const weightNames = new Set(weightVars.map((v) => v.name));
    const optimizerVars = Object.entries(tf.engine().registeredVariables)
      .filter(([name]) => !variablesBefore.has(name))
      .map(([, v]) => v);
    const optimizerNames = new Set(optimizerVars.map((v) => v.name));
    const weightsBefore = uniqueBytes(weightVars);
    const optimizerBefore = uniqueBytes(optimizerVars);
    const residentBytes = tf.memory().numBytes;

    const tracker = new BufferTracker();
    const { process } = await measureProcessPeak(() => {
      tracker.start(residentBytes, [...weightVars, ...optimizerVars]);
      try {
        const { grads, lossParts } = batchGradients(step, batch, microBatchSize, tracker);
        tracker.phase('update');
        optimizer.applyGradients(grads);
        tf.dispose([grads, lossParts]);
      } finally {
        tracker.stop();
      }
    });

    const classify = (peak: PeakSnapshot, tfjsPeakBytes: number): PeakBreakdown => {
      const freed = (names: Set<string>) =>
        [...peak.residentFreed]
          .filter(([owner]) => owner !== undefined && names.has(owner))
          .reduce((sum, [, b]) => sum + b, 0);
      const categories: MemoryCategories = {
        weights: weightsBefore - freed(weightNames),
        gradients: 0,
        optimizerState: optimizerBefore - freed(optimizerNames),
        activations: 0,
        other:
          residentBytes -
          weightsBefore -
          optimizerBefore -
          (peak.residentFreed.get(undefined) ?? 0),
      };
      const otherDetail = { resident: categories.other, backward: 0, update: 0, accumulate: 0 };
      for (const { buffer, bytes } of peak.created) {
        const category = categoryOf(buffer, weightNames, optimizerNames);
        categories[category] += bytes;
        if (category === 'other')
          otherDetail[
            buffer.phase === 'update' || buffer.phase === 'backward' ? buffer.phase : 'accumulate'
          ] += bytes;
      }
      const sum = Object.values(categories).reduce((a, b) => a + b, 0);
      return {
        peakBytes: peak.bytes,
        categories,
        unaccountedBytes: sum - peak.bytes,
        phase: peak.phase,
        tfjsPeakBytes,
        otherDetail,
      };
    };
    const backprop = classify(tracker.gradientsPeak, tracker.tfjsGradientsPeakBytes);
    const update = classify(tracker.updatePeak, tracker.tfjsUpdatePeakBytes);
    const overall = update.peakBytes > backprop.peakBytes ? update : backprop;
    return {
      batchSize: batch.size,
      microBatchSize,
      optimizer: optimizerName,
      peakBytes: overall.peakBytes,
      peakStepBytes: Math.max(0, overall.peakBytes - residentBytes),
      residentBytes,
      activationsPeakBytes: tracker.activationsPeakBytes,
      categories: overall.categories,
      unaccountedBytes: overall.unaccountedBytes,
      peakPhase: overall.phase,
      backprop,
      update,
      lowerBound: analyticLowerBound(model, microBatchSize, optimizerName),
      process,
    };
  } finally {
    optimizer.dispose();
    const restored = saved.map((w) => tf.tensor(w.values, w.shape));
    model.setWeights(restored);
    tf.dispose(restored);
  }
}

function categoryOf(
  buffer: TrackedBuffer,
  weightNames: Set<string>,
  optimizerNames: Set<string>,
): keyof MemoryCategories {
  if (buffer.variableName !== undefined && weightNames.has(buffer.variableName)) return 'weights';
  if (buffer.variableName !== undefined && optimizerNames.has(buffer.variableName))
    return 'optimizerState';
  if (buffer.gradient) return 'gradients';
  if (buffer.phase === 'forward' || buffer.phase === 'input') return 'activations';
  return 'other';
}

function uniqueBytes(tensors: tf.Tensor[]): number {
  const seen = new Map<object, number>();
  for (const t of tensors) seen.set(t.dataId, byteSize(t));
  return [...seen.values()].reduce((a, b) => a + b, 0);
}
