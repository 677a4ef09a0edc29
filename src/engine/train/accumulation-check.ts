import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/dataset';
import { findNormLayers } from '../models/norm-layers';
import { batchGradients, stepModelOf } from './batch-gradients';

export interface VariableDifference {
  variable: string;
  /** max |accumulated − full| over the variable's elements. */
  maxAbsDiff: number;
  /** maxAbsDiff / max |full|: relative to the gradient's own scale, so near-zero elements do not blow it up. */
  maxRelDiff: number;
}

export interface AccumulationReport {
  batchSize: number;
  microBatchSize: number;
  variables: VariableDifference[];
  maxAbsDiff: number;
  maxRelDiff: number;
  /** Names of batch-normalization layers: their presence makes the two gradients differ. */
  batchNormLayers: string[];
  /** Why the numbers look the way they do, for people. */
  explanation: string;
}

/**
 * Compares the gradient of one batch computed whole with the same batch processed as micro-batches
 * whose gradients accumulate. For batchless models they agree up to float rounding; BN normalizes
 * with statistics of whatever it is given, so a micro-batch sees different statistics. The
 * model's weights (including BN moving averages) are restored afterwards.
 */
export function checkAccumulation(model: tf.LayersModel, batch: Batch, microBatchSize: number, inputShape: number[], numClasses: number): AccumulationReport {
  const saved = model.getWeights().map((w) => w.clone());
  const step = stepModelOf(model, inputShape, numClasses);
  const full = batchGradients(step, batch, batch.size);
  model.setWeights(saved); // undo BN moving-average updates made by the first pass
  const accumulated = batchGradients(step, batch, microBatchSize);
  model.setWeights(saved);
  tf.dispose(saved);

  const variables = tf.tidy(() =>
    Object.keys(full.grads).map((name) => {
      const [absDiff, scale] = tf
        .stack([tf.max(tf.abs(tf.sub(accumulated.grads[name], full.grads[name]))), tf.max(tf.abs(full.grads[name]))])
        .dataSync();
      return { variable: name, maxAbsDiff: absDiff, maxRelDiff: scale > 0 ? absDiff / scale : absDiff };
    }),
  );
  tf.dispose([full.grads, full.lossParts, accumulated.grads, accumulated.lossParts]);

  const batchNormLayers = findNormLayers(model).filter((r) => r.kind === 'batch').map((r) => r.path);
  const maxRelDiff = Math.max(...variables.map((v) => v.maxRelDiff));
  const report: AccumulationReport = {
    batchSize: batch.size,
    microBatchSize,
    variables,
    maxAbsDiff: Math.max(...variables.map((v) => v.maxAbsDiff)),
    maxRelDiff,
    batchNormLayers,
    explanation: '',
  };
  report.explanation = explain(report);
  return report;
}

function explain(report: AccumulationReport): string {
  const { batchSize, microBatchSize, maxRelDiff, batchNormLayers } = report;
  if (microBatchSize >= batchSize) return 'The micro-batch is the whole batch: nothing is accumulated, so the gradients are identical.';
  if (batchNormLayers.length > 0) {
    return (
      `This model has batch normalization (${batchNormLayers.join(', ')}). In training, BN normalizes each micro-batch of ` +
      `${microBatchSize} with that micro-batch's own mean and variance, not the statistics of all ${batchSize} instances, so ` +
      `accumulating micro-batch gradients cannot reproduce the large-batch update (max relative difference ${maxRelDiff.toExponential(2)}). ` +
      'Convert the BN layers to batchless normalization to make accumulation exact.'
    );
  }
  return (
    `Every layer treats instances independently, so the ${Math.ceil(batchSize / microBatchSize)} accumulated micro-batch gradients ` +
    `equal the gradient of the whole batch of ${batchSize} up to float rounding (max relative difference ${maxRelDiff.toExponential(2)}).`
  );
}
