import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Dataset,
  DataError,
  reshapeDataset,
  seededPermutation,
  seededRandom,
  shuffleDataset,
  sliceBatch,
  splitDataset,
  validateDataset,
} from '../../src/engine/data';

/** Example i has features [i, 10 i + 1, 100 i + 2] and label i % 3, so rows are recognisable. */
function tagged(count: number): Dataset {
  const x = new Float32Array(count * 3);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    x.set([i, 10 * i + 1, 100 * i + 2], i * 3);
    y[i] = i % 3;
  }
  return { name: 'tagged', source: 'test', inputShape: [3], numClasses: 3, count, x, y };
}

/** Recovers each example's original index and checks its features and label still belong to it. */
function originalIndices(ds: Dataset): number[] {
  const ids: number[] = [];
  for (let i = 0; i < ds.count; i++) {
    const id = ds.x[i * 3];
    assert.deepEqual(Array.from(ds.x.subarray(i * 3, i * 3 + 3)), [id, 10 * id + 1, 100 * id + 2]);
    assert.equal(ds.y[i], id % 3);
    ids.push(id);
  }
  return ids;
}

test('seededRandom is deterministic, seed-dependent and in [0, 1)', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const c = seededRandom(8);
  const fromA = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(
    fromA,
    Array.from({ length: 1000 }, () => b()),
  );
  assert.notDeepEqual(
    fromA,
    Array.from({ length: 1000 }, () => c()),
  );
  assert.ok(fromA.every((v) => v >= 0 && v < 1));
  const mean = fromA.reduce((s, v) => s + v, 0) / fromA.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

test('seededPermutation is a permutation', () => {
  const order = Array.from(seededPermutation(500, 3));
  assert.deepEqual(
    [...order].sort((p, q) => p - q),
    Array.from({ length: 500 }, (_, i) => i),
  );
  assert.notDeepEqual(
    order,
    Array.from({ length: 500 }, (_, i) => i),
  );
});

test('shuffleDataset keeps rows with their labels, repeats per seed, leaves the input alone', () => {
  const ds = tagged(200);
  const before = Array.from(ds.x);
  const once = shuffleDataset(ds, 42);
  const again = shuffleDataset(ds, 42);
  const other = shuffleDataset(ds, 43);
  const ids = originalIndices(once);
  assert.deepEqual(
    [...ids].sort((p, q) => p - q),
    originalIndices(ds),
  );
  assert.deepEqual(ids, originalIndices(again));
  assert.notDeepEqual(ids, originalIndices(other));
  assert.deepEqual(Array.from(ds.x), before);
});

test('splitDataset by count and by fraction: disjoint, complete, in order', () => {
  const shuffled = shuffleDataset(tagged(100), 1);
  const byCount = splitDataset(shuffled, { trainCount: 80 });
  assert.equal(byCount.train.count, 80);
  assert.equal(byCount.test.count, 20);
  const train = originalIndices(byCount.train);
  const testIds = originalIndices(byCount.test);
  assert.deepEqual([...train, ...testIds], originalIndices(shuffled));
  assert.equal(new Set([...train, ...testIds]).size, 100);

  const byFraction = splitDataset(shuffled, { trainFraction: 0.8 });
  assert.deepEqual(originalIndices(byFraction.train), train);
  assert.equal(splitDataset(shuffled, { trainFraction: 0.333 }).train.count, 33);
  assert.throws(() => splitDataset(shuffled, { trainCount: 101 }), RangeError);
  assert.throws(() => splitDataset(shuffled, { trainFraction: 1.5 }), RangeError);
});

test('reshapeDataset changes the per-example shape only when the element count matches', () => {
  const ds = tagged(4);
  const image = reshapeDataset({ ...ds, inputShape: [3] }, [3, 1, 1]);
  assert.deepEqual(image.inputShape, [3, 1, 1]);
  assert.equal(image.x, ds.x);
  assert.deepEqual(ds.inputShape, [3]);
  assert.throws(
    () => reshapeDataset(ds, [2, 2]),
    /\[3\] has 3 values per example but \[2,2\] has 4/,
  );
  assert.throws(() => reshapeDataset(ds, [3, 0]), RangeError);
});

test('sliceBatch by range and by indices copies the right rows', () => {
  const ds = tagged(10);
  const range = sliceBatch(ds, 2, 5);
  assert.equal(range.size, 3);
  assert.deepEqual(Array.from(range.x.subarray(0, 3)), [2, 21, 202]);
  assert.deepEqual(Array.from(range.y), [2, 0, 1]);
  range.x[0] = -1;
  assert.equal(ds.x[6], 2, 'a batch must not alias the dataset');

  const tail = sliceBatch(ds, 8, 12);
  assert.equal(tail.size, 2, 'end is clamped to the count');

  const picked = sliceBatch(ds, [9, 0, 9]);
  assert.equal(picked.size, 3);
  assert.deepEqual(Array.from(picked.x), [9, 91, 902, 0, 1, 2, 9, 91, 902]);
  assert.deepEqual(Array.from(picked.y), [0, 0, 0]);
  assert.throws(() => sliceBatch(ds, [10]), RangeError);
  assert.throws(() => sliceBatch(ds, 5, 2), RangeError);
});

test('DataError names file, row, field, expectation and what was found', () => {
  const error = new DataError({
    file: 'digits.csv',
    row: 17,
    field: 'x3',
    expected: 'a number',
    got: "'abc'",
  });
  assert.equal(error.message, "digits.csv row 17, column 'x3': expected a number, got 'abc'");
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'DataError');
  assert.deepEqual(
    [error.file, error.row, error.field, error.expected],
    ['digits.csv', 17, 'x3', 'a number'],
  );
  assert.equal(new DataError({ file: 'a.npy', expected: 'x' }).message, 'a.npy: expected x');
});

test('validateDataset rejects labels outside the classes and mismatched lengths', () => {
  const ds = tagged(5);
  assert.equal(validateDataset(ds), ds);
  assert.throws(
    () => validateDataset({ ...ds, numClasses: 2 }, 'f'),
    /f, label 2: expected a class id in 0..1, got 2/,
  );
  assert.throws(() => validateDataset({ ...ds, count: 6 }), DataError);
});
