import type * as tf from '@tensorflow/tfjs';
import { Dataset, sliceBatch } from '../data/dataset';
import { findNormLayers } from '../models/norm-layers';
import type { OptimizerName } from '../train/config';
import { measureStepBreakdown } from './breakdown';

/** How a micro-batch size was chosen to fit a memory budget, with the measurements behind it. */
export interface MicroBatchChoice {
  /** The chosen size: the largest divisor of the batch whose predicted peak fits (or the batch itself). */
  microBatchSize: number;
  batchSize: number;
  budgetBytes: number;
  /** Measured: bytes of the backprop peak that do not grow with the micro-batch (weights, optimizer state, gradients). */
  fixedBytes: number;
  /** Measured: bytes per instance of a micro-batch (activations, their gradients, temporaries). */
  perInstanceBytes: number;
  /** Measured: the optimizer update's peak, which does not depend on the micro-batch. */
  updatePeakBytes: number;
  /** max(update peak, fixed + per instance × micro-batch) for the chosen size. */
  predictedPeakBytes: number;
  /** The steps measured to fit the line. */
  measured: {
    microBatchSize: number;
    batchSize: number;
    backpropPeakBytes: number;
    updatePeakBytes: number;
  }[];
}

/** Thrown when no micro-batch size fits; the message says how much the smallest needs. */
export class BudgetError extends Error {}

/** '64MB', '1.5GiB', '500k', '1048576' → bytes (k/M/G are powers of 1024, as memory is sized). */
export function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?[bB])?\s*$/.exec(text);
  if (!match) throw new Error(`expected a size like 64MB, 512KB or 1GB, got '${text}'`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    match[2].toLowerCase() as '' | 'k' | 'm' | 'g'
  ];
  const bytes = Math.round(Number(match[1]) * scale);
  if (!(bytes > 0)) throw new Error(`a memory budget must be positive, got '${text}'`);
  return bytes;
}

export interface BudgetOptions {
  inputShape: number[];
  optimizer?: OptimizerName;
}

/**
 * Picks the micro-batch size for a memory budget (tensor bytes of a whole training step, weights
 * and optimizer state included). The cost per instance is measured, not guessed: two real steps
 * with accumulation (micro-batch 1 and a larger one) give a line, fixed + per instance × m, and
 * the update's own peak is a floor. Models with batch normalization cannot be split (their
 * gradient changes), so for them the whole batch either fits or this throws.
 */
export async function pickMicroBatchSize(
  model: tf.LayersModel,
  data: Dataset,
  batchSize: number,
  budgetBytes: number,
  options: BudgetOptions,
): Promise<MicroBatchChoice> {
  const measureAt = async (micro: number, batch: number) => {
    const b = await measureStepBreakdown(
      model,
      sliceBatch(
        data,
        Int32Array.from({ length: batch }, (_, i) => i % data.count),
      ),
      micro,
      {
        inputShape: options.inputShape,
        numClasses: data.numClasses,
        optimizer: options.optimizer,
      },
    );
    return {
      microBatchSize: micro,
      batchSize: batch,
      backpropPeakBytes: b.backprop.peakBytes,
      updatePeakBytes: b.update.peakBytes,
    };
  };
  const hasBatchNorm = findNormLayers(model).some((ref) => ref.kind === 'batch');
  if (hasBatchNorm) {
    const whole = await measureAt(batchSize, batchSize);
    const peak = Math.max(whole.backpropPeakBytes, whole.updatePeakBytes);
    if (peak > budgetBytes) {
      throw new BudgetError(
        `a step of batch ${batchSize} needs ${mib(peak)} but the budget is ${mib(budgetBytes)}, and this model has batch normalization, ` +
          'so its batch cannot be split into micro-batches without changing the gradient. Convert it to batchless (--norm batchless) or lower --batch.',
      );
    }
    return {
      microBatchSize: batchSize,
      batchSize,
      budgetBytes,
      fixedBytes: peak,
      perInstanceBytes: 0,
      updatePeakBytes: whole.updatePeakBytes,
      predictedPeakBytes: peak,
      measured: [whole],
    };
  }
  const small = await measureAt(1, Math.min(2, batchSize));
  const largeMicro = Math.min(8, batchSize);
  const large =
    largeMicro > 1 ? await measureAt(largeMicro, Math.min(2 * largeMicro, batchSize)) : small;
  const perInstanceBytes =
    large === small
      ? 0
      : Math.max(0, (large.backpropPeakBytes - small.backpropPeakBytes) / (largeMicro - 1));
  const fixedBytes = small.backpropPeakBytes - perInstanceBytes;
  const updatePeakBytes = Math.max(small.updatePeakBytes, large.updatePeakBytes);
  const predict = (m: number) => Math.max(updatePeakBytes, fixedBytes + perInstanceBytes * m);
  const base = {
    batchSize,
    budgetBytes,
    fixedBytes,
    perInstanceBytes,
    updatePeakBytes,
    measured: large === small ? [small] : [small, large],
  };
  if (predict(1) > budgetBytes) {
    throw new BudgetError(
      `even micro-batches of 1 need ${mib(predict(1))} per step (${mib(fixedBytes)} fixed, ${mib(perInstanceBytes)} per instance, ` +
        `optimizer update ${mib(updatePeakBytes)}), over the budget of ${mib(budgetBytes)}`,
    );
  }
  let best = 1;
  for (let m = 1; m <= batchSize; m++)
    if (batchSize % m === 0 && predict(m) <= budgetBytes) best = m;
  return { ...base, microBatchSize: best, predictedPeakBytes: predict(best) };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
}
