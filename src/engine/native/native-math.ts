import type { Native, NativeOps } from './tf-native';

// The TensorFlow ops the native layers and step share, with their attributes spelled out once.

export const shapeOf = (ops: NativeOps, shape: number[]) => ops.ints(shape);

export function reshape(ops: NativeOps, x: Native, shape: number[]): Native {
  return ops.run('Reshape', [ops.float32(), ops.int32('Tshape')], [x, shapeOf(ops, shape)])[0];
}

export function reduce(ops: NativeOps, op: 'Sum' | 'Mean' | 'Max', x: Native, axes: number[], keepDims = false): Native {
  return ops.run(op, [ops.float32(), ops.int32('Tidx'), ops.bool('keep_dims', keepDims)], [x, shapeOf(ops, axes)])[0];
}

export function matMul(ops: NativeOps, a: Native, b: Native, transposeA = false, transposeB = false): Native {
  return ops.run('MatMul', [ops.float32(), ops.bool('transpose_a', transposeA), ops.bool('transpose_b', transposeB)], [a, b])[0];
}

export function biasAdd(ops: NativeOps, x: Native, bias: Native): Native {
  return ops.run('BiasAdd', [ops.float32(), ops.string('data_format', 'NHWC')], [x, bias])[0];
}

export function biasGrad(ops: NativeOps, dy: Native): Native {
  return ops.run('BiasAddGrad', [ops.float32(), ops.string('data_format', 'NHWC')], [dy])[0];
}

/** Σ of every element. */
export function reduceAll(ops: NativeOps, x: Native): Native {
  return ops.run('Sum', [ops.float32(), ops.int32('Tidx'), ops.bool('keep_dims', false)], [x, ops.ints([...x.shape.keys()])])[0];
}

/**
 * Σ over N, H, W of an NHWC map, one axis at a time (W, then H, then N), as the generic path sums:
 * runs of 28 and 64 terms instead of one of 50k keep the σ gradient's digits, which matter since
 * near a good σ it is a small difference of nearly equal terms.
 */
export function stagedSum(ops: NativeOps, x: Native): Native {
  const channels = x.shape[3];
  return reshape(ops, reduce(ops, 'Sum', reduce(ops, 'Sum', reduce(ops, 'Sum', x, [2], true), [1], true), [0], true), [channels]);
}
