import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { kernelInput, KernelParams } from './wasm-kernel-calls';

// UnsortedSegmentSum is what tfjs-core's Gather gradient calls (embeddings, lookups). It is a
// scatter-add; one pass over x in JavaScript, writing straight into the wasm heap, costs the same
// memory traffic as a native kernel would, and keeps TensorFlow's rules for odd ids exactly.

type NumericArray = Float32Array | Int32Array;

/**
 * out[s, ...] = Σ x[i, ...] over the i with segmentIds[i] = s. segmentIds may have any rank that
 * is a prefix of x's shape, as in TensorFlow; ids that are negative or ≥ numSegments are dropped
 * (TensorFlow drops negatives and rejects the rest; the cpu backend drops both).
 */
function unsortedSegmentSum(params: KernelParams): tf.TensorInfo {
  const x = kernelInput(params, 'x');
  const segmentIds = kernelInput(params, 'segmentIds');
  const numSegments = (params.attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
  const wasm = params.backend as BackendWasm;
  const idShape = segmentIds.shape;
  if (idShape.some((size, axis) => size !== x.shape[axis])) {
    throw new Error(`segmentIds shape ${idShape} is not a prefix of x shape ${x.shape}`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32, got ${x.dtype}`);
  }
  const ids = wasm.readSync(segmentIds.dataId) as NumericArray;
  const values = wasm.readSync(x.dataId) as NumericArray;
  const rowShape = x.shape.slice(idShape.length);
  const rowSize = tf.util.sizeFromShape(rowShape);

  // Allocate only after reading: a heap allocation may grow wasm memory and detach views.
  const out = wasm.makeOutput([numSegments, ...rowShape], x.dtype);
  const sums = wasm.typedArrayFromHeap(out) as NumericArray;
  sums.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const segment = ids[i];
    if (segment < 0 || segment >= numSegments) continue;
    const from = i * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) sums[to + j] += values[from + j];
  }
  return out;
}

export const wasmSegmentSumKernel: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
