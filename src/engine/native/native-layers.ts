import * as tf from '@tensorflow/tfjs';
import type { BatchlessNormalization } from '../layers/batchless-normalization';
import { biasAdd, biasGrad, matMul, reduce, reshape, shapeOf, stagedSum } from './native-math';
import { invStdOnHost } from './native-nll';
import { maxPoolAttrs, oneDnnMaxPool } from './process-kernels';
import type { Native, NativeOps } from './tf-native';

// Forward and backward of each supported layer, written out by hand in TensorFlow ops. Autodiff
// would record a tape and replay ~3 tfjs kernels per forward op; a hand-written backward is the
// handful of ops the math needs (TensorFlow's own gradient kernels: ReluGrad, Conv2DBackprop*,
// FusedBatchNormGradV3, BiasAddGrad). The tests hold each layer to tfjs's autodiff.

/** A layer weight's role, as its name ends ('conv1/kernel' → 'kernel'). */
export type WeightRole = 'kernel' | 'bias' | 'mean' | 'std' | 'gamma' | 'beta' | 'moving_mean' | 'moving_variance';

export interface LayerWeight {
  role: WeightRole;
  /** The tfjs variable behind it (its name keys gradients and optimizer state). */
  variable: tf.Variable;
  trainable: boolean;
}

/** Per-channel Σ(a − μ) and Σ(a − μ)² of one micro-batch's input to a batchless layer. */
export interface StatisticsSums {
  first: Native;
  second: Native;
  /** Elements per channel summed. */
  count: number;
}

export interface Forward {
  y: Native;
  /** Gradients of the weights (by role) and, when asked, of the input. */
  backward(dy: Native, inputGrad: boolean): { dx?: Native; grads: Partial<Record<WeightRole, Native>> };
  sums?: StatisticsSums;
  /** Batch normalization's moving averages: each variable moves toward the micro-batch's value. */
  movingUpdates?: { role: WeightRole; batchValue: Native; momentum: number }[];
}

/**
 * A layer's inputs for one step: its weights' current values, plus what a batchless layer derives
 * from them once per step (batchlessConstants), since the weights do not change between micro-batches.
 */
export type LayerValues = Partial<Record<WeightRole | 'invStd' | 'scale' | 'variance', Native>>;

export interface NativeLayer {
  name: string;
  /** Marks the layers the compiler may reorder (see compileLayers), and convolutions. */
  kind?: 'relu' | 'maxPool' | 'conv';
  weights: LayerWeight[];
  batchless?: BatchlessNormalization;
  /** For a batchless layer: whether its input is rank 4 (TensorFlow's fused kernels, which take σ²). */
  fused?: boolean;
  /** Normalizes with the micro-batch's own statistics (batch normalization): its micro-batches cannot be cut or spread over threads. */
  usesBatchStatistics?: boolean;
  forward(ops: NativeOps, x: Native, w: LayerValues): Forward;
}

export type Activation = 'linear' | 'relu';

/** The activation's backward applied to dy, given the activation's output. */
function activationGrad(ops: NativeOps, dy: Native, y: Native, activation: Activation): Native {
  return activation === 'relu' ? ops.unary('ReluGrad', dy, y) : dy;
}

export function dense(ops: NativeOps, x: Native, w: LayerValues, activation: Activation): Forward {
  const kernel = w.kernel!;
  let z = matMul(ops, x, kernel);
  if (w.bias) z = biasAdd(ops, z, w.bias);
  const y = activation === 'relu' ? ops.unary('Relu', z) : z;
  return {
    y,
    backward: (dy, inputGrad) => {
      const dz = activationGrad(ops, dy, y, activation);
      const grads: Partial<Record<WeightRole, Native>> = { kernel: matMul(ops, x, dz, true, false) };
      if (w.bias) grads.bias = biasGrad(ops, dz);
      return { grads, dx: inputGrad ? matMul(ops, dz, kernel, false, true) : undefined };
    },
  };
}

export function conv2d(ops: NativeOps, x: Native, w: LayerValues, strides: number[], padding: string, activation: Activation): Forward {
  const kernel = w.kernel!;
  const attrs = [ops.float32(), ops.int('strides', [1, strides[0], strides[1], 1]), ops.bool('use_cudnn_on_gpu', true), ops.string('padding', padding), ops.string('data_format', 'NHWC'), ops.int('dilations', [1, 1, 1, 1])];
  let z = ops.run('Conv2D', attrs, [x, kernel])[0];
  if (w.bias) z = biasAdd(ops, z, w.bias);
  const y = activation === 'relu' ? ops.unary('Relu', z) : z;
  return {
    y,
    backward: (dy, inputGrad) => {
      const dz = activationGrad(ops, dy, y, activation);
      const grads: Partial<Record<WeightRole, Native>> = { kernel: ops.run('Conv2DBackpropFilter', attrs, [x, shapeOf(ops, kernel.shape), dz])[0] };
      if (w.bias) grads.bias = biasGrad(ops, dz);
      return { grads, dx: inputGrad ? ops.run('Conv2DBackpropInput', attrs, [shapeOf(ops, x.shape), kernel, dz])[0] : undefined };
    },
  };
}

export function relu(ops: NativeOps, x: Native): Forward {
  const y = ops.unary('Relu', x);
  return { y, backward: (dy) => ({ grads: {}, dx: ops.unary('ReluGrad', dy, y) }) };
}

export function flatten(ops: NativeOps, x: Native): Forward {
  const y = reshape(ops, x, [x.shape[0], x.shape.slice(1).reduce((a, b) => a * b, 1)]);
  return { y, backward: (dy) => ({ grads: {}, dx: reshape(ops, dy, x.shape) }) };
}

/** The input size from which oneDNN's max pooling beats Eigen's here (see maxPool). */
const ONE_DNN_POOL_MIN_ELEMENTS = 65536;

export function maxPool(ops: NativeOps, x: Native, pool: number[], strides: number[], padding: string): Forward {
  // Each window's gradient goes to its first maximum, as tfjs and Keras do; MNIST's flat
  // background makes ties common, so the rule matters. oneDNN's kernels (see oneDnnMaxPool)
  // follow it, keeping the forward's choice in a workspace for the backward. They cost a fixed
  // ~0.1 ms (~0.45 ms with TensorFlow's 2-thread pool) where Eigen's cost grows with the input:
  // measured forward + backward on [n, 28, 28, 16], Eigen is ahead below ~50k elements.
  if (oneDnnMaxPool(ops) && x.shape.reduce((a, b) => a * b, 1) >= ONE_DNN_POOL_MIN_ELEMENTS) {
    const attrs = maxPoolAttrs(ops, pool, strides, padding, true);
    const [y, workspace] = ops.run('_MklNativeMaxPool', attrs, [x], 2);
    return { y, backward: (dy) => ({ grads: {}, dx: ops.run('_MklNativeMaxPoolGrad', attrs, [x, y, dy, workspace])[0] }) };
  }
  const attrs = maxPoolAttrs(ops, pool, strides, padding, false);
  const y = ops.run('MaxPool', attrs, [x])[0];
  return { y, backward: (dy) => ({ grads: {}, dx: ops.run('MaxPoolGrad', attrs, [x, y, dy])[0] }) };
}

export function globalAveragePool(ops: NativeOps, x: Native): Forward {
  const [n, h, wd, c] = x.shape;
  const y = reduce(ops, 'Mean', x, [1, 2]);
  return {
    y,
    backward: (dy) => {
      const scaled = ops.unary('Mul', reshape(ops, dy, [n, 1, 1, c]), ops.scalar(1 / (h * wd)));
      return { grads: {}, dx: ops.run('BroadcastTo', [ops.float32(), ops.int32('Tidx')], [scaled, shapeOf(ops, x.shape)])[0] };
    },
  };
}

/**
 * Batch normalization in training mode, as tfjs computes it: normalized with the micro-batch's
 * mean and biased variance, and those moved into the moving averages with `momentum`.
 */
export function batchNorm(ops: NativeOps, x: Native, w: LayerValues, epsilon: number, momentum: number): Forward {
  const flat = x.shape.length === 2;
  const x4 = flat ? reshape(ops, x, [x.shape[0], 1, 1, x.shape[1]]) : x;
  const empty = ops.filled(0, [0]);
  const attrs = [ops.float32(), ops.float32('U'), ops.float('epsilon', epsilon), ops.float('exponential_avg_factor', 1), ops.string('data_format', 'NHWC'), ops.bool('is_training', true)];
  const [y4, , , mean, variance, reserve] = ops.run('FusedBatchNormV3', attrs, [x4, w.gamma!, w.beta!, empty, empty], 6);
  return {
    y: flat ? reshape(ops, y4, x.shape) : y4,
    movingUpdates: [
      { role: 'moving_mean', batchValue: mean, momentum },
      { role: 'moving_variance', batchValue: variance, momentum },
    ],
    backward: (dy, inputGrad) => {
      const dy4 = flat ? reshape(ops, dy, x4.shape) : dy;
      const grad = [ops.float32(), ops.float32('U'), ops.float('epsilon', epsilon), ops.string('data_format', 'NHWC'), ops.bool('is_training', true)];
      const [dx4, gamma, beta] = ops.run('FusedBatchNormGradV3', grad, [dy4, x4, w.gamma!, mean, variance, reserve], 5);
      return { grads: { gamma, beta }, dx: inputGrad ? (flat ? reshape(ops, dx4, x.shape) : dx4) : undefined };
    },
  };
}

/** A batchless layer's per-channel values as the host keeps them during a native step (host copies of its variables). */
export interface BatchlessHost {
  mean: Float32Array;
  std: Float32Array;
  gamma?: Float32Array;
  beta?: Float32Array;
}

/**
 * What a batchless layer's forward and backward take, made once per step on the host from its
 * per-channel values: μ, β, 1/σ, the scale γ/σ, and σ² where the fused kernels take it (rank 4),
 * each handed to TensorFlow as a constant; and 1/σ in float64 for the NLL (native-nll.ts).
 */
export function batchlessConstants(ops: NativeOps, layer: BatchlessNormalization, host: BatchlessHost, fused: boolean): { values: LayerValues; invStd: Float64Array } {
  const invStd = invStdOnHost(host.std, layer);
  const n = invStd.length;
  const channels = [n];
  // γ/σ rounded as TensorFlow's float32 product of the two would be (the generic step's rounding).
  const [inv32, scale, variance] = [new Float32Array(n), new Float32Array(n), fused ? new Float32Array(n) : undefined];
  for (let c = 0; c < n; c++) {
    inv32[c] = invStd[c];
    scale[c] = host.gamma ? Math.fround(inv32[c] * host.gamma[c]) : inv32[c];
    if (variance) variance[c] = 1 / (invStd[c] * invStd[c]);
  }
  const values: LayerValues = {
    mean: ops.constant(host.mean.slice(), channels),
    invStd: ops.constant(inv32, channels),
    scale: ops.constant(scale, channels),
  };
  if (host.gamma) values.gamma = ops.constant(host.gamma.slice(), channels);
  if (host.beta) values.beta = ops.constant(host.beta.slice(), channels);
  if (variance) values.variance = ops.constant(variance, channels);
  return { values, invStd };
}

/**
 * y = (a − μ)·(γ/σ) + β with μ, σ held constant for the task loss (method.md), and the per-channel
 * sums the NLL needs. Rank 2 in element-wise ops (cheap at [B, C]); rank 4 in TensorFlow's fused
 * batch-norm kernels in inference mode, which compute exactly this affine map and its gradients
 * from a given mean and variance, far faster than broadcasting over an NHWC map.
 */
export function batchless(ops: NativeOps, x: Native, w: LayerValues): Forward {
  const channels = x.shape[x.shape.length - 1];
  const inv = w.invStd!;
  const count = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  if (x.shape.length === 2) {
    const factor = w.scale!;
    const centred = ops.unary('Sub', x, w.mean!);
    const scaled = ops.unary('Mul', centred, factor);
    const y = w.beta ? ops.unary('AddV2', scaled, w.beta) : scaled;
    const sums = { first: reduce(ops, 'Sum', centred, [0]), second: reduce(ops, 'Sum', ops.unary('Square', centred), [0]), count };
    return {
      y,
      sums,
      backward: (dy, inputGrad) => {
        const grads: Partial<Record<WeightRole, Native>> = {};
        if (w.beta) grads.beta = biasGrad(ops, dy);
        if (w.gamma) grads.gamma = reduce(ops, 'Sum', ops.unary('Mul', dy, ops.unary('Mul', centred, inv)), [0]);
        return { grads, dx: inputGrad ? ops.unary('Mul', dy, factor) : undefined };
      },
    };
  }
  const ones = () => ops.filled(1, [channels]);
  const zeros = () => ops.filled(0, [channels]);
  const gamma = w.gamma ?? ones();
  const variance = w.variance!;
  const inference = [ops.float32(), ops.float32('U'), ops.float('epsilon', 0), ops.float('exponential_avg_factor', 1), ops.string('data_format', 'NHWC'), ops.bool('is_training', false)];
  const normalized = ops.run('FusedBatchNormV3', inference, [x, gamma, w.beta ?? zeros(), w.mean!, variance], 6);
  // Σ(a−μ) and Σ(a−μ)² per channel, a − μ from the same fused kernel (variance 1, scale 1,
  // offset 0). One Sum over N·H·W (or fused batch norm's training variance) adds ~50k terms per
  // channel in a row and is 2e-5 off a float64 reference in the σ gradient; see stagedSum.
  const unit = ones();
  const centred = ops.run('FusedBatchNormV3', inference, [x, unit, zeros(), w.mean!, unit], 6)[0];
  const sums = { first: stagedSum(ops, centred), second: stagedSum(ops, ops.unary('Square', centred)), count };
  return {
    y: normalized[0],
    sums,
    backward: (dy, inputGrad) => {
      const grad = [ops.float32(), ops.float32('U'), ops.float('epsilon', 0), ops.string('data_format', 'NHWC'), ops.bool('is_training', false)];
      const [dx, dGamma, dBeta] = ops.run('FusedBatchNormGradV3', grad, [dy, x, gamma, w.mean!, variance, normalized[5]], 5);
      const grads: Partial<Record<WeightRole, Native>> = {};
      if (w.gamma) grads.gamma = dGamma;
      if (w.beta) grads.beta = dBeta;
      return { grads, dx: inputGrad ? dx : undefined };
    },
  };
}

