import type * as tf from '@tensorflow/tfjs';
import type { NativeLayer } from './native-layers';
import type { Native, NativeOps } from './tf-native';

// Where a native step keeps each of the model's weights: a TensorFlow resource variable, or the host.

/** One weight of the model as the native step holds it. */
export interface VariableSlot {
  name: string;
  tfjs: tf.Variable;
  shape: number[];
  /** A TensorFlow resource variable; absent for a batchless layer's per-channel values, kept in `host`. */
  native?: Native;
  host?: Float32Array;
  trainable: boolean;
  learningRate: number;
}

/**
 * Whether the step keeps a weight on the host: a normalization layer's per-channel values (a
 * batchless layer's μ, σ, γ, β; batch normalization's γ, β and moving statistics). C numbers each,
 * where a TensorFlow op (a read, an update) costs ~3–10 µs of dispatch for a few ns of arithmetic.
 */
export function keptOnHost(layer: NativeLayer, role: string): boolean {
  if (layer.batchless) return ['mean', 'std', 'gamma', 'beta'].includes(role);
  if (layer.usesBatchStatistics) return ['gamma', 'beta', 'moving_mean', 'moving_variance'].includes(role);
  return false;
}

/** A slot per weight of `layers`, in layer order (helper threads rely on the order), each holding a copy of the tfjs value. */
export function createSlots(ops: NativeOps, layers: NativeLayer[], learningRateOf: (name: string) => number): Map<tf.Variable, VariableSlot> {
  const slots = new Map<tf.Variable, VariableSlot>();
  ops.scope(() => {
    for (const layer of layers) {
      for (const weight of layer.weights) {
        const name = weight.variable.name;
        const onHost = keptOnHost(layer, weight.role);
        slots.set(weight.variable, {
          name,
          tfjs: weight.variable,
          shape: weight.variable.shape,
          native: onHost ? undefined : ops.variable(ops.fromTfjs(weight.variable)),
          host: onHost ? Float32Array.from(weight.variable.dataSync()) : undefined,
          trainable: weight.trainable,
          learningRate: learningRateOf(name),
        });
      }
    }
  });
  return slots;
}
