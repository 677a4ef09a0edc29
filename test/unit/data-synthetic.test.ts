import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset, syntheticGaussian } from '../../src/engine/data';

/** Accuracy of predicting each example's class by the nearest class centroid of the data itself. */
function nearestCentroidAccuracy(ds: Dataset): number {
  const features = ds.inputShape[0];
  const sums = new Float64Array(ds.numClasses * features);
  const counts = new Float64Array(ds.numClasses);
  for (let i = 0; i < ds.count; i++) {
    counts[ds.y[i]]++;
    for (let f = 0; f < features; f++) sums[ds.y[i] * features + f] += ds.x[i * features + f];
  }
  let correct = 0;
  for (let i = 0; i < ds.count; i++) {
    let best = -1;
    let bestDistance = Infinity;
    for (let c = 0; c < ds.numClasses; c++) {
      let distance = 0;
      for (let f = 0; f < features; f++) {
        const d = ds.x[i * features + f] - sums[c * features + f] / counts[c];
        distance += d * d;
      }
      if (distance < bestDistance) [best, bestDistance] = [c, distance];
    }
    if (best === ds.y[i]) correct++;
  }
  return correct / ds.count;
}

test('same options give identical data; another seed gives other data', () => {
  const options = { count: 300, features: 5, numClasses: 3, seed: 11 };
  const a = syntheticGaussian(options);
  const b = syntheticGaussian(options);
  assert.deepEqual(a.x, b.x);
  assert.deepEqual(a.y, b.y);
  assert.notDeepEqual(syntheticGaussian({ ...options, seed: 12 }).x, a.x);
  assert.equal(a.x.length, 300 * 5);
  assert.deepEqual(a.inputShape, [5]);
  assert.ok(a.x.every(Number.isFinite));
  assert.match(a.source, /seed=11/);
});

test('labels cycle so every prefix is balanced', () => {
  const ds = syntheticGaussian({ count: 10, features: 2, numClasses: 4, seed: 1 });
  assert.deepEqual(Array.from(ds.y), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
});

test('classes are separable at the default separation, including beyond 2·features classes', () => {
  const easy = syntheticGaussian({ count: 2000, features: 20, numClasses: 4, seed: 1 });
  assert.ok(nearestCentroidAccuracy(easy) > 0.95, `${nearestCentroidAccuracy(easy)}`);
  const many = syntheticGaussian({ count: 3000, features: 3, numClasses: 10, seed: 2 });
  assert.ok(nearestCentroidAccuracy(many) > 0.6, `${nearestCentroidAccuracy(many)}`);
  const noise = syntheticGaussian({
    count: 2000,
    features: 20,
    numClasses: 4,
    seed: 1,
    separation: 0,
  });
  assert.ok(nearestCentroidAccuracy(noise) < 0.5, 'no separation means (almost) chance level');
});

test('per-class noise has unit variance around the class mean', () => {
  const ds = syntheticGaussian({ count: 4000, features: 2, numClasses: 2, seed: 5, separation: 3 });
  // Class 0 sits at (+3, 0), class 1 at (-3, 0).
  let sum0 = 0;
  let sq0 = 0;
  let n0 = 0;
  for (let i = 0; i < ds.count; i++) {
    if (ds.y[i] !== 0) continue;
    sum0 += ds.x[i * 2];
    sq0 += ds.x[i * 2] ** 2;
    n0++;
  }
  const mean = sum0 / n0;
  assert.ok(Math.abs(mean - 3) < 0.1, `mean ${mean}`);
  assert.ok(Math.abs(sq0 / n0 - mean * mean - 1) < 0.1, 'variance ≈ 1');
});

test('bad options are refused with the value in the message', () => {
  assert.throws(
    () => syntheticGaussian({ count: 0, features: 2, numClasses: 2, seed: 1 }),
    /count must be an integer ≥ 1, got 0/,
  );
  assert.throws(
    () => syntheticGaussian({ count: 5, features: 2.5, numClasses: 2, seed: 1 }),
    /features/,
  );
  assert.throws(
    () => syntheticGaussian({ count: 5, features: 2, numClasses: 2, seed: 1, separation: -1 }),
    /separation/,
  );
});
