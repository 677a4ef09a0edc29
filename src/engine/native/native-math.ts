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
 * Σ over N, H, W of an NHWC map in three short runs (N, then H, then W terms per sum), each a
 * reduction over the leading axis of a reshaped view, the fast case for TensorFlow's Sum. One
 * run over all N·H·W terms loses digits the σ gradient needs: near a good σ it is a small
 * difference of nearly equal terms.
 */
export function stagedSum(ops: NativeOps, x: Native): Native {
  const [n, h, w, c] = x.shape;
  const overBatch = reduce(ops, 'Sum', reshape(ops, x, [n, h * w * c]), [0]);
  const overRows = reduce(ops, 'Sum', reshape(ops, overBatch, [h, w * c]), [0]);
  return reduce(ops, 'Sum', reshape(ops, overRows, [w, c]), [0]);
}
