import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

export interface Tolerance {
  /** Absolute part of the bound |a − e| ≤ atol + rtol·|e|. */
  atol?: number;
  /** Relative part of the bound. */
  rtol?: number;
}

/** Asserts dtype, shape and values; the message names the first element out of tolerance. */
export function assertTensorClose(
  actual: tf.Tensor,
  expected: number | number[] | tf.Tensor | unknown,
  { atol = 1e-5, rtol = 1e-5 }: Tolerance = {},
  what = 'tensor',
): void {
  const want = expected instanceof tf.Tensor ? expected : tf.tensor(expected as number[]);
  try {
    assert.equal(actual.dtype, want.dtype, `${what}: dtype`);
    assert.deepEqual(actual.shape, want.shape, `${what}: shape`);
    assertArrayClose(actual.dataSync(), want.dataSync(), { atol, rtol }, what);
  } finally {
    if (want !== expected) want.dispose();
  }
}

/** Element-wise |a − e| ≤ atol + rtol·|e| over flat arrays of equal length. */
export function assertArrayClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5 }: Tolerance = {},
  what = 'array',
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const bound = atol + rtol * Math.abs(expected[i]);
    if (!(Math.abs(actual[i] - expected[i]) <= bound)) {
      assert.fail(
        `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (bound ${bound.toExponential(2)})`,
      );
    }
  }
}

/** Flattens nested number arrays (JSON fixtures). */
export function flat(values: unknown): number[] {
  return (Array.isArray(values) ? values.flat(Infinity) : [values]) as number[];
}
