import * as tf from '@tensorflow/tfjs';
import { composeKernel, kernelInput, KernelParams } from './wasm-kernel-calls';

// The filter gradients of conv2d and depthwiseConv2d, which tfjs-backend-wasm 4.22 lacks, each
// rewritten as one forward convolution that wasm runs natively (XNNPACK). Only NHWC exists on
// wasm, as for its forward convolutions. Dilations are honoured wherever the attrs carry them,
// although tfjs-core's own gradients still refuse dilated convolutions.

type Shape4 = [number, number, number, number];
export type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

export function requireChannelsLast(kernelName: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernelName} on wasm supports only NHWC, got dataFormat '${dataFormat}'`);
  }
}

/**
 * Signed padding of the forward input that makes the convolution windows tile it exactly, so the
 * "stride becomes dilation" convolution below yields exactly the filter's size: the bottom/right
 * side drops rows no window reads (negative) or adds the forward padding (positive).
 */
function windowPadding(info: Conv2DInfo): { rows: [number, number]; cols: [number, number] } {
  const neededHeight = (info.outHeight - 1) * info.strideHeight + info.effectiveFilterHeight;
  const neededWidth = (info.outWidth - 1) * info.strideWidth + info.effectiveFilterWidth;
  const { top, left } = info.padInfo;
  return {
    rows: [top, neededHeight - info.inHeight - top],
    cols: [left, neededWidth - info.inWidth - left],
  };
}

/**
 * dW[i, j, c, o] = Σ_b,p,q x[b, p·s + i·d, q·s + j·d, c] · dy[b, p, q, o]: a convolution of x
 * with batch and channels swapped, dy as the filter, the forward stride as its dilation and the
 * forward dilation as its stride.
 */
function conv2DBackpropFilter(params: KernelParams): tf.TensorInfo {
  const x = kernelInput(params, 'x');
  const dy = kernelInput(params, 'dy');
  const a = params.attrs as unknown as tf.Conv2DBackpropFilterAttrs & {
    dilations?: number | number[];
  };
  requireChannelsLast('Conv2DBackpropFilter', a.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    a.filterShape,
    a.strides,
    (a.dilations ?? 1) as number | [number, number],
    a.pad,
    a.dimRoundingMode,
  );
  return composeKernel(params, (calls) => {
    const { rows, cols } = windowPadding(info);
    const fitted = calls.padSpatial(x, rows, cols);
    const channelsAsBatch = calls.transpose(fitted.x, [3, 1, 2, 0]);
    const dyAsFilter = calls.transpose(dy, [1, 2, 0, 3]);
    const dw = calls.run(
      'Conv2D',
      { x: channelsAsBatch, filter: dyAsFilter },
      {
        strides: [info.dilationHeight, info.dilationWidth],
        dilations: [info.strideHeight, info.strideWidth],
        pad: fitted.padding,
        dataFormat: 'NHWC',
      },
    );
    return calls.transpose(dw, [1, 2, 0, 3]);
  });
}

/**
 * The depthwise dW, with the batch folded into channels (b·C + c) so one depthwise convolution
 * does the work without the C-fold waste of a full convolution; the batch is summed afterwards.
 */
function depthwiseBackpropFilter(params: KernelParams): tf.TensorInfo {
  const x = kernelInput(params, 'x');
  const dy = kernelInput(params, 'dy');
  const a = params.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const [batch, , , channels] = x.shape as Shape4;
  const [filterHeight, filterWidth, , multiplier] = a.filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    a.filterShape,
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    true,
  );
  return composeKernel(params, (calls) => {
    const { rows, cols } = windowPadding(info);
    const fitted = calls.padSpatial(x, rows, cols);
    const [, height, width] = fitted.x.shape;
    const batchInChannels = calls.reshape(
      batch === 1 ? fitted.x : calls.transpose(fitted.x, [1, 2, 0, 3]),
      [1, height, width, batch * channels],
    );
    const dyAsFilter = calls.reshape(batch === 1 ? dy : calls.transpose(dy, [1, 2, 0, 3]), [
      info.outHeight,
      info.outWidth,
      batch * channels,
      multiplier,
    ]);
    const perInstance = calls.run(
      'DepthwiseConv2dNative',
      { x: batchInChannels, filter: dyAsFilter },
      {
        strides: [info.dilationHeight, info.dilationWidth],
        dilations: [info.strideHeight, info.strideWidth],
        pad: fitted.padding,
      },
    );
    const summed =
      batch === 1
        ? perInstance
        : calls.sum(
            calls.reshape(perInstance, [filterHeight, filterWidth, batch, channels * multiplier]),
            2,
          );
    return calls.reshape(summed, a.filterShape);
  });
}

export const wasmFilterGradKernels: tf.KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName: 'wasm',
    kernelFunc: depthwiseBackpropFilter,
  },
];
