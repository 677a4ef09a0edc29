import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { DataError, loadDataset, SYNTHETIC_DEFAULTS } from '../../src/engine/data';

const FIXTURES = resolve(__dirname, '../../../test/fixtures/data');

test('mnist, with a limit', () => {
  const ds = loadDataset(' MNIST ', { limit: 30 });
  assert.equal(ds.name, 'mnist');
  assert.equal(ds.count, 30);
  assert.deepEqual(ds.inputShape, [784]);
});

test('synthetic with defaults, option overrides and spec parameters', () => {
  const plain = loadDataset('synthetic');
  assert.equal(plain.count, SYNTHETIC_DEFAULTS.count);
  assert.equal(plain.numClasses, SYNTHETIC_DEFAULTS.numClasses);
  const tuned = loadDataset('synthetic:count=50,features=3,classes=5,seed=9', {
    synthetic: { count: 10, separation: 2 },
  });
  assert.equal(tuned.count, 50, 'the spec wins over options');
  assert.deepEqual(tuned.inputShape, [3]);
  assert.equal(tuned.numClasses, 5);
  assert.match(tuned.source, /seed=9, separation=2/);
  assert.throws(() => loadDataset('synthetic:colour=3'), DataError);
  assert.throws(
    () => loadDataset('synthetic:count=lots'),
    /synthetic:count=lots: expected key=number/,
  );
});

test('csv and npy pairs dispatch to their readers with options', () => {
  const csv = loadDataset(join(FIXTURES, 'digits-small.csv'), { labelColumn: 'LABEL', limit: 2 });
  assert.equal(csv.count, 2);
  assert.deepEqual(Array.from(csv.y), [3, 0]);
  const npy = loadDataset(`${join(FIXTURES, 'x_f4.npy')}, ${join(FIXTURES, 'y_u1.npy')}`);
  assert.equal(npy.count, 6);
  assert.deepEqual(npy.inputShape, [4]);
});

test('unknown or incomplete specs get a DataError listing what is accepted', () => {
  for (const spec of ['cifar10', '', 'data.txt', 'x.npy']) {
    assert.throws(
      () => loadDataset(spec),
      (error: unknown) =>
        error instanceof DataError && /mnist|<x>\.npy,<y>\.npy/.test(error.message),
      spec,
    );
  }
  assert.throws(() => loadDataset('x.npy'), /x\.npy: expected two \.npy files/);
});
