import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/dataset';
import { batchGradients, stepModelOf } from '../train/batch-gradients';
import { measurePeakStep } from './peak-step';

/**
 * Peak tensor bytes of computing one effective batch's gradients as micro-batches of
 * `microBatchSize` (BN models: pass the whole batch), measured, beyond what was resident before.
 */
export async function measureGradientStep(model: tf.LayersModel, batch: Batch, microBatchSize: number, inputShape: number[], numClasses: number): Promise<number> {
  const saved = model.getWeights().map((w) => w.clone());
  const step = stepModelOf(model, inputShape, numClasses);
  const { result, peakStepBytes } = await measurePeakStep(() => batchGradients(step, batch, microBatchSize));
  tf.dispose([result.grads, result.lossParts]);
  model.setWeights(saved); // BN moving averages moved during the measured pass
  tf.dispose(saved);
  return peakStepBytes;
}
