import * as tf from '@tensorflow/tfjs';

export interface StepMemory<T> {
  result: T;
  /** Peak tensor bytes during `fn` beyond those alive before it: the step's own working memory. */
  peakStepBytes: number;
  /** Tensor bytes alive before `fn` (weights, optimizer state, anything else resident). */
  residentBytes: number;
}

/**
 * Measures a step's tensor memory with `tf.profile`. Its peakBytes is absolute (it starts from the
 * bytes already alive), so the bytes alive before the step are subtracted (toolchain.md).
 */
export async function measurePeakStep<T>(fn: () => Promise<T> | T): Promise<StepMemory<T>> {
  const residentBytes = tf.memory().numBytes;
  let result: T | undefined;
  const info = await tf.profile(async () => {
    result = await fn();
  });
  return { result: result as T, peakStepBytes: Math.max(0, info.peakBytes - residentBytes), residentBytes };
}
