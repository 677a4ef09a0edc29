import * as tf from '@tensorflow/tfjs';

type Shape4 = [number, number, number, number];

/** What tfjs passes a kernel function. */
export type KernelParams = Parameters<tf.KernelFunc>[0];

/** A named input of a kernel call; tfjs types them as optional, the kernels require them. */
export function kernelInput(params: KernelParams, name: string): tf.TensorInfo {
  const input = params.inputs[name];
  if (input === undefined) throw new Error(`kernel input '${name}' is missing`);
  return input;
}

/** Explicit NHWC padding as tfjs kernels take it: [[0, 0], [top, bottom], [left, right], [0, 0]]. */
export type ExplicitPadding = [
  [number, number],
  [number, number],
  [number, number],
  [number, number],
];

/**
 * Runs wasm's own kernels from inside a kernel we add, the way tfjs backends compose kernels:
 * by calling kernel functions directly rather than tf ops, so nothing is recorded on the tape or
 * tracked by the engine. The contract is then ours to keep: the engine takes ownership of the
 * TensorInfo we return and nothing else, so every intermediate data id must be released here.
 * Those ids are invisible to `tf.memory().numTensors`; a leak shows only in the backend's
 * `numDataIds()`.
 */
export class WasmKernelCalls {
  private readonly intermediates: tf.TensorInfo[] = [];

  constructor(readonly backend: tf.KernelBackend) {}

  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: object = {}): tf.TensorInfo {
    const kernel = tf.getKernel(kernelName, 'wasm');
    if (kernel === undefined) throw new Error(`the wasm backend has no ${kernelName} kernel`);
    const out = kernel.kernelFunc({
      inputs,
      attrs: attrs as tf.NamedAttrMap,
      backend: this.backend,
    });
    if (Array.isArray(out)) throw new Error(`${kernelName} returned several outputs`);
    this.intermediates.push(out);
    return out;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reverse(x: tf.TensorInfo, dims: number[]): tf.TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  sum(x: tf.TensorInfo, axis: number): tf.TensorInfo {
    return this.run('Sum', { x }, { axis: [axis], keepDims: false });
  }

  pad(x: tf.TensorInfo, paddings: Array<[number, number]>): tf.TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  /**
   * Applies signed spatial padding to an NHWC tensor ahead of a convolution: negative amounts
   * crop (wasm's convolutions accept only non-negative padding), positive ones are returned as
   * explicit padding for the convolution itself, which avoids copying the input.
   */
  padSpatial(
    x: tf.TensorInfo,
    [top, bottom]: [number, number],
    [left, right]: [number, number],
  ): { x: tf.TensorInfo; padding: ExplicitPadding } {
    const [batch, height, width, channels] = x.shape as Shape4;
    const crop = [Math.max(0, -top), Math.max(0, -bottom), Math.max(0, -left), Math.max(0, -right)];
    const keptHeight = height - crop[0] - crop[1];
    const keptWidth = width - crop[2] - crop[3];
    if (keptHeight <= 0 || keptWidth <= 0) {
      throw new Error(
        `padding [${top}, ${bottom}, ${left}, ${right}] crops away all of ${x.shape}`,
      );
    }
    const fitted = crop.some((c) => c > 0)
      ? this.run(
          'Slice',
          { x },
          { begin: [0, crop[0], crop[2], 0], size: [batch, keptHeight, keptWidth, channels] },
        )
      : x;
    const padding: ExplicitPadding = [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ];
    return { x: fitted, padding };
  }

  /** Releases every intermediate except `result`, whose ownership passes to the engine. */
  finish(result: tf.TensorInfo): tf.TensorInfo {
    if (!this.intermediates.includes(result)) {
      // Returning an input's TensorInfo would give the engine a second owner of its data id.
      throw new Error('a composed kernel must return one of its own intermediates');
    }
    this.release(result);
    return result;
  }

  /** Releases every intermediate (the error path), or all but `keep`. */
  release(keep?: tf.TensorInfo): void {
    for (const info of this.intermediates) {
      if (info !== keep) this.backend.disposeData(info.dataId);
    }
    this.intermediates.length = 0;
  }
}

/** Runs `body` with a fresh set of kernel calls and releases its intermediates on every path. */
export function composeKernel(
  params: KernelParams,
  body: (calls: WasmKernelCalls) => tf.TensorInfo,
): tf.TensorInfo {
  const calls = new WasmKernelCalls(params.backend as tf.KernelBackend);
  try {
    return calls.finish(body(calls));
  } catch (error) {
    calls.release();
    throw error;
  }
}
