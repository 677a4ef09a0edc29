import { DataError } from './errors';
import { seededPermutation } from './random';

export { DataError, quoteValue } from './errors';
export type { DataErrorDetails } from './errors';
export { seededRandom, seededPermutation } from './random';

/**
 * A classification dataset held as plain typed arrays rather than tensors: the trainer slices
 * micro-batches out of it on every step, and typed arrays cost nothing to keep and cannot leak
 * GPU/wasm memory.
 */
export interface Dataset {
  /** Short display name, e.g. "mnist" or "digits.csv". */
  name: string;
  /** Where the examples came from (package and version, file path, generator settings). */
  source: string;
  /** Shape of one example, e.g. [784] for an MLP or [28, 28, 1] for a CNN. */
  inputShape: number[];
  numClasses: number;
  count: number;
  /** count * prod(inputShape) values, example-major, each example row-major. */
  x: Float32Array;
  /** One class id in 0..numClasses-1 per example. */
  y: Int32Array;
  /** Names of the classes when the source labelled them with strings; index = class id. */
  classNames?: string[];
}

/** Larger class counts are almost certainly a misread column, and one-hot targets would explode. */
export const MAX_CLASSES = 65536;

export interface Batch {
  x: Float32Array;
  y: Int32Array;
  size: number;
}

export type SplitOptions = { trainCount: number } | { trainFraction: number };

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** Checks the invariants every loader promises; `file` names the source in the error. */
export function validateDataset(ds: Dataset, file: string = ds.source): Dataset {
  const perExample = shapeSize(ds.inputShape);
  if (ds.inputShape.some((dim) => !Number.isInteger(dim) || dim <= 0)) {
    throw new DataError({
      file,
      expected: 'positive integer input dimensions',
      got: `[${ds.inputShape}]`,
    });
  }
  if (ds.y.length !== ds.count || ds.x.length !== ds.count * perExample) {
    throw new DataError({
      file,
      expected: `${ds.count} labels and ${ds.count * perExample} feature values`,
      got: `${ds.y.length} and ${ds.x.length}`,
    });
  }
  if (!Number.isInteger(ds.numClasses) || ds.numClasses < 1 || ds.numClasses > MAX_CLASSES) {
    throw new DataError({
      file,
      expected: `between 1 and ${MAX_CLASSES} classes`,
      got: `${ds.numClasses}`,
    });
  }
  for (let i = 0; i < ds.count; i++) {
    if (ds.y[i] < 0 || ds.y[i] >= ds.numClasses) {
      throw new DataError({
        file,
        field: String(i),
        fieldLabel: `label ${i}`,
        expected: `a class id in 0..${ds.numClasses - 1}`,
        got: `${ds.y[i]}`,
      });
    }
  }
  return ds;
}

/** A new dataset holding the given examples in the given order (copies, never views). */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const batch = sliceBatch(ds, indices);
  return {
    ...ds,
    name,
    inputShape: [...ds.inputShape],
    count: batch.size,
    x: batch.x,
    y: batch.y,
  };
}

/** The same examples in a seeded random order; the input is left untouched. */
export function shuffleDataset(ds: Dataset, seed: number): Dataset {
  return subsetDataset(ds, seededPermutation(ds.count, seed));
}

/**
 * The first `trainCount` examples (or the rounded fraction) become train, the rest test. It does
 * not shuffle: the benchmark protocol is shuffleDataset(all 10,000 MNIST digits, seed) and then
 * trainCount 8,000, leaving 2,000 for test.
 */
export function splitDataset(
  ds: Dataset,
  options: SplitOptions,
): { train: Dataset; test: Dataset } {
  let trainCount: number;
  if ('trainCount' in options) {
    trainCount = options.trainCount;
  } else {
    const fraction = options.trainFraction;
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new RangeError(`splitDataset: trainFraction must be in [0, 1], got ${fraction}`);
    }
    trainCount = Math.round(ds.count * fraction);
  }
  if (!Number.isInteger(trainCount) || trainCount < 0 || trainCount > ds.count) {
    throw new RangeError(
      `splitDataset: trainCount must be an integer in 0..${ds.count}, got ${trainCount}`,
    );
  }
  return {
    train: subsetDataset(ds, range(0, trainCount), `${ds.name} (train)`),
    test: subsetDataset(ds, range(trainCount, ds.count), `${ds.name} (test)`),
  };
}

/**
 * The same examples seen with another per-example shape, e.g. [784] → [28, 28, 1] for a CNN.
 * Row-major order is unchanged, so the values are shared rather than copied.
 */
export function reshapeDataset(ds: Dataset, inputShape: number[]): Dataset {
  if (inputShape.length === 0 || inputShape.some((dim) => !Number.isInteger(dim) || dim <= 0)) {
    throw new RangeError(
      `reshapeDataset: dimensions must be positive integers, got [${inputShape}]`,
    );
  }
  const from = shapeSize(ds.inputShape);
  const to = shapeSize(inputShape);
  if (from !== to) {
    throw new RangeError(
      `reshapeDataset: [${ds.inputShape}] has ${from} values per example but [${inputShape}] has ${to}`,
    );
  }
  return { ...ds, inputShape: [...inputShape] };
}

/** The first `limit` examples, or the dataset itself when it is no larger. */
export function takeDataset(ds: Dataset, limit: number | undefined): Dataset {
  if (limit === undefined || limit >= ds.count) return ds;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  return subsetDataset(ds, range(0, limit));
}

/**
 * Copies the chosen examples into fresh arrays, so a tensor built from them never aliases the
 * dataset. Either explicit indices, or start..end with end clamped to the count (so the last,
 * short micro-batch of an epoch needs no special case).
 */
export function sliceBatch(ds: Dataset, indices: ArrayLike<number>): Batch;
export function sliceBatch(ds: Dataset, start: number, end: number): Batch;
export function sliceBatch(ds: Dataset, from: ArrayLike<number> | number, end?: number): Batch {
  const perExample = shapeSize(ds.inputShape);
  if (typeof from === 'number') {
    const stop = Math.min(end ?? ds.count, ds.count);
    if (!Number.isInteger(from) || !Number.isInteger(stop) || from < 0 || from > stop) {
      throw new RangeError(`sliceBatch: bad range ${from}..${end} for ${ds.count} examples`);
    }
    return {
      x: ds.x.slice(from * perExample, stop * perExample),
      y: ds.y.slice(from, stop),
      size: stop - from,
    };
  }
  const size = from.length;
  const x = new Float32Array(size * perExample);
  const y = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const index = from[i];
    if (!Number.isInteger(index) || index < 0 || index >= ds.count) {
      throw new RangeError(`sliceBatch: index ${index} is outside 0..${ds.count - 1}`);
    }
    x.set(ds.x.subarray(index * perExample, (index + 1) * perExample), i * perExample);
    y[i] = ds.y[index];
  }
  return { x, y, size };
}

function range(start: number, end: number): Int32Array {
  const out = new Int32Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}
