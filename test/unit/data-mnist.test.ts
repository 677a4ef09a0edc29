import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist, shuffleDataset, splitDataset } from '../../src/engine/data';
import { mnistDigitsDir } from '../../src/engine/data/mnist';

const mnist = loadMnist();

test('loads all 10,000 digits with 784 features in [0, 1] and ~1,000 per class', () => {
  assert.equal(mnist.count, 10000);
  assert.deepEqual(mnist.inputShape, [784]);
  assert.equal(mnist.numClasses, 10);
  assert.equal(mnist.x.length, 10000 * 784);
  let min = Infinity;
  let max = -Infinity;
  for (const value of mnist.x) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  const perClass = new Array<number>(10).fill(0);
  for (const label of mnist.y) perClass[label]++;
  // The package's own counts (863 fives … 1,127 ones), checked with python when writing this.
  assert.deepEqual(perClass, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
});

test('every label matches the digit file its image came from, in file order', () => {
  const { dir } = mnistDigitsDir();
  const seen = new Array<number>(10).fill(0);
  const files = Array.from({ length: 10 }, (_, d): number[] => {
    const parsed = JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] };
    return parsed.data;
  });
  for (let i = 0; i < mnist.count; i++) {
    const digit = mnist.y[i];
    const k = seen[digit]++;
    for (const p of [0, 200, 350, 406, 783]) {
      assert.equal(mnist.x[i * 784 + p], Math.fround(files[digit][k * 784 + p]), `example ${i}`);
    }
  }
});

test('classes are interleaved, so a limited prefix is balanced', () => {
  assert.deepEqual(
    Array.from(mnist.y.subarray(0, 20)),
    [...Array(2)].flatMap(() => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
  );
  const small = loadMnist({ limit: 500 });
  assert.equal(small.count, 500);
  const perClass = new Array<number>(10).fill(0);
  for (const label of small.y) perClass[label]++;
  assert.ok(perClass.every((n) => n === 50));
  assert.deepEqual(small.x, mnist.x.subarray(0, 500 * 784));
});

test('benchmark protocol: shuffle with a seed, 8,000 train / 2,000 test, disjoint and repeatable', () => {
  const fingerprint = (x: Float32Array, i: number) => {
    // Sum of pixel index × value identifies an image well enough among 10,000 real digits.
    let sum = 0;
    for (let p = 0; p < 784; p++) sum += p * x[i * 784 + p];
    return sum.toFixed(3);
  };
  const first = splitDataset(shuffleDataset(mnist, 2024), { trainCount: 8000 });
  const second = splitDataset(shuffleDataset(mnist, 2024), { trainCount: 8000 });
  assert.equal(first.train.count, 8000);
  assert.equal(first.test.count, 2000);
  assert.deepEqual(first.train.y, second.train.y);
  assert.deepEqual(first.test.x, second.test.x);
  const train = new Set(Array.from({ length: 8000 }, (_, i) => fingerprint(first.train.x, i)));
  const all = new Set(Array.from({ length: 10000 }, (_, i) => fingerprint(mnist.x, i)));
  const overlap = Array.from({ length: 2000 }, (_, i) => fingerprint(first.test.x, i)).filter((f) =>
    train.has(f),
  );
  // MNIST itself holds a few exact duplicates, so compare against how many the full set has.
  assert.ok(overlap.length <= 10000 - all.size, `${overlap.length} test images also in train`);
  const testPerClass = new Array<number>(10).fill(0);
  for (const label of first.test.y) testPerClass[label]++;
  assert.ok(
    testPerClass.every((n) => n > 120 && n < 280),
    `${testPerClass}`,
  );
});
