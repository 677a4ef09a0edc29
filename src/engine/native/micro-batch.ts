import type { StepModel } from '../train/batch-gradients';
import { reduceAll } from './native-math';
import type { LayerValues, NativeLayer, StatisticsSums } from './native-layers';
import type { Native, NativeOps } from './tf-native';

/** A micro-batch on the device: its rows of the input, and its labels one-hot. */
export interface MicroBatchInputs {
  input: Native;
  oneHot: Native;
}

/** The rows of `x` (labels `labels`) as a micro-batch's two tensors, made from host values. */
export function microBatchInputs(ops: NativeOps, step: StepModel, x: Float32Array, labels: Int32Array): MicroBatchInputs {
  const size = labels.length;
  const classes = step.numClasses;
  const oneHot = new Float32Array(size * classes);
  for (let i = 0; i < size; i++) oneHot[i * classes + labels[i]] = 1;
  // A view, not a copy: TensorFlow shares (or, unaligned, copies) the host memory it is given.
  return { input: ops.constant(x, [size, ...step.inputShape]), oneHot: ops.constant(oneHot, [size, classes]) };
}

/**
 * Forward and backward of one micro-batch through the native layers: gradients pre-weighted by
 * 1/B of the whole batch (the loss is Σ over the micro-batch / B), the task loss summed, the
 * batchless layers' per-channel sums, and BN's micro-batch moments. Only ops: no host values
 * (the compiled step traces this, step-graph.ts).
 */
export function microBatchGradients(ops: NativeOps, layers: NativeLayer[], inputs: MicroBatchInputs, batchSize: number, layerWeights: LayerValues[]) {
  let h = inputs.input;
  const forwards = layers.map((layer, i) => {
    const f = layer.forward(ops, h, layerWeights[i]);
    h = f.y;
    return f;
  });
  const [loss, backprop] = ops.run('SoftmaxCrossEntropyWithLogits', [ops.float32()], [h, inputs.oneHot], 2);
  let dy: Native | undefined = ops.unary('Mul', backprop, ops.scalar(1 / batchSize));
  const grads = new Map<string, Native>();
  for (let i = layers.length - 1; i >= 0 && dy; i--) {
    const { dx, grads: layerGrads } = forwards[i].backward(dy, i > 0);
    for (const weight of layers[i].weights) {
      const g = layerGrads[weight.role];
      if (g && weight.trainable) grads.set(weight.variable.name, g);
    }
    dy = dx;
  }
  const sums = new Map<NativeLayer, StatisticsSums>();
  layers.forEach((layer, i) => forwards[i].sums && sums.set(layer, forwards[i].sums!));
  const movingUpdates = layers.flatMap((layer, i) =>
    (forwards[i].movingUpdates ?? []).map((u) => ({ variable: layer.weights.find((w) => w.role === u.role)!.variable, value: u.batchValue, momentum: u.momentum })),
  );
  return { grads, loss: reduceAll(ops, loss), sums, movingUpdates };
}
