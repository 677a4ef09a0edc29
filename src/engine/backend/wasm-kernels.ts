import * as tf from '@tensorflow/tfjs';
import { wasmFilterGradKernels } from './wasm-conv-grads';
import { wasmFasterInputGradKernels, wasmInputGradKernels } from './wasm-conv-input-grads';
import { wasmSegmentSumKernel } from './wasm-segment-sum';

// tfjs-backend-wasm 4.22 runs the forward pass of every model the engine builds but cannot train
// a CNN or an embedding: four kernels are missing. (Overriding Conv2D's gradient instead would
// not do: layers' fused convolution calls the kernels directly.)

const missingKernels: tf.KernelConfig[] = [
  ...wasmFilterGradKernels,
  ...wasmInputGradKernels,
  wasmSegmentSumKernel,
];

/** Kernels tfjs-backend-wasm 4.22 lacks for training, which this module supplies. */
export const WASM_TRAINING_KERNELS: readonly string[] = missingKernels.map((k) => k.kernelName);

/** Kernels wasm has but this module replaces with faster compositions (see their files). */
export const WASM_REPLACED_KERNELS: readonly string[] = wasmFasterInputGradKernels.map(
  (k) => k.kernelName,
);

export interface WasmKernelOptions {
  /** Also replace wasm's slow Conv2DBackpropInput (default true). */
  replaceSlowKernels?: boolean;
}

/**
 * Registers the training kernels on 'wasm'. Idempotent: a missing kernel that wasm has by now (a
 * newer tfjs-backend-wasm, or an earlier call) is left alone, and a replacement already in place
 * is not registered twice. Safe before or after the wasm backend initializes: these kernels need
 * no setup of their own. Returns the names registered by this call.
 */
export function registerWasmTrainingKernels({
  replaceSlowKernels = true,
}: WasmKernelOptions = {}): string[] {
  const registered: string[] = [];
  for (const config of missingKernels) {
    if (tf.getKernel(config.kernelName, 'wasm') !== undefined) continue;
    tf.registerKernel(config);
    registered.push(config.kernelName);
  }
  if (replaceSlowKernels) {
    for (const config of wasmFasterInputGradKernels) {
      const existing = tf.getKernel(config.kernelName, 'wasm');
      if (existing?.kernelFunc === config.kernelFunc) continue;
      // Unregistering first avoids tfjs's "already registered" warning; the replacement is meant.
      if (existing !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
      tf.registerKernel(config);
      registered.push(config.kernelName);
    }
  }
  return registered;
}

/** The training kernels that 'wasm' still lacks (empty once registration has run). */
export function missingWasmTrainingKernels(): string[] {
  return WASM_TRAINING_KERNELS.filter((name) => tf.getKernel(name, 'wasm') === undefined);
}
