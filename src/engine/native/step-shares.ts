// The parts of a native step that cross threads (step-helpers.ts): what a helper is asked, what
// it answers, and how a batch is cut into shares.

/**
 * A share of a batch computed elsewhere (a helper thread, step-helpers.ts) as host arrays: by slot
 * index the gradient (pre-weighted by 1/B of the whole batch; null where the share made none),
 * the Σ of the task loss, and each batchless layer's sums, in layer order.
 */
export interface HostShare {
  grads: (Float32Array | null)[];
  taskSum: number;
  sums: { first: Float32Array; second: Float32Array; count: number }[];
  peakStepBytes: number;
}

/** What a helper needs to compute its share: its rows, the whole batch's size, and the weights by slot. */
export interface ShareRequest {
  x: Float32Array;
  y: Int32Array;
  batchSize: number;
  microBatchSize: number;
  weights: Float32Array[];
}

/** Computes shares of a step somewhere else, all at once, while this thread computes its own. */
export interface ShareHelpers {
  readonly count: number;
  compute(requests: ShareRequest[]): Promise<HostShare[]>;
}

/**
 * Contiguous [start, end) shares of a batch for `parts` threads. With at least as many
 * micro-batches as threads, shares end on micro-batch boundaries (each thread runs whole
 * micro-batches, the first thread the fewest: it also sums and updates); with fewer, the one
 * micro-batch is cut into equal parts, smaller than a micro-batch, so no thread holds more.
 */
export function splitBatch(size: number, microBatchSize: number, parts: number): [number, number][] {
  const micros = Math.ceil(size / microBatchSize);
  const bounds: number[] = [0];
  for (let k = 1; k < parts; k++) {
    const cut = micros >= parts ? Math.min(size, Math.floor((micros * k) / parts) * microBatchSize) : Math.floor((size * k) / parts);
    bounds.push(Math.max(cut, bounds[k - 1]));
  }
  bounds.push(size);
  return bounds.slice(0, -1).map((start, k) => [start, bounds[k + 1]]);
}
