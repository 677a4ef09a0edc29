import { Dataset, validateDataset } from './dataset';
import { gaussianSampler, seededRandom } from './random';

export interface SyntheticOptions {
  count: number;
  features: number;
  numClasses: number;
  seed: number;
  /** Distance of each class mean from the origin, in units of the (unit) noise. Default 3. */
  separation?: number;
}

/**
 * A Gaussian-mixture classification set: class c is N(mean_c, I). The first 2·features classes
 * sit on the ± coordinate axes at distance `separation`, so with the default of 3 neighbouring
 * means are ≥ 4.2 σ apart and a small MLP reaches high accuracy within a few hundred steps;
 * further classes get seeded random directions on shells of growing radius.
 * Labels cycle 0, 1, …, numClasses-1, so every prefix is balanced; the same options always give
 * the same bytes.
 */
export function syntheticGaussian(options: SyntheticOptions): Dataset {
  const { count, features, numClasses, seed } = options;
  const separation = options.separation ?? 3;
  for (const [name, value, min] of [
    ['count', count, 1],
    ['features', features, 1],
    ['numClasses', numClasses, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(`syntheticGaussian: ${name} must be an integer ≥ ${min}, got ${value}`);
    }
  }
  if (!Number.isFinite(separation) || separation < 0) {
    throw new RangeError(`syntheticGaussian: separation must be ≥ 0, got ${separation}`);
  }
  const gaussian = gaussianSampler(seededRandom(seed));
  const means = classMeans(numClasses, features, separation, gaussian);
  const x = new Float32Array(count * features);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % numClasses;
    y[i] = label;
    for (let f = 0; f < features; f++) {
      x[i * features + f] = means[label * features + f] + gaussian();
    }
  }
  const dataset: Dataset = {
    name: 'synthetic',
    source:
      `syntheticGaussian(count=${count}, features=${features}, numClasses=${numClasses}, ` +
      `seed=${seed}, separation=${separation})`,
    inputShape: [features],
    numClasses,
    count,
    x,
    y,
  };
  return validateDataset(dataset);
}

/** Flattened numClasses × features matrix of class means. */
export function classMeans(
  numClasses: number,
  features: number,
  separation: number,
  gaussian: () => number,
): Float64Array {
  const means = new Float64Array(numClasses * features);
  for (let c = 0; c < numClasses; c++) {
    const row = means.subarray(c * features, (c + 1) * features);
    if (c < 2 * features) {
      row[c % features] = c < features ? separation : -separation;
      continue;
    }
    const shell = 1 + Math.floor(c / (2 * features));
    let norm = 0;
    for (let f = 0; f < features; f++) {
      row[f] = gaussian();
      norm += row[f] * row[f];
    }
    const scale = (separation * shell) / Math.sqrt(norm || 1);
    for (let f = 0; f < features; f++) row[f] *= scale;
  }
  return means;
}
