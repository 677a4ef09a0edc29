// Picking the micro-batch size for a memory budget (default backend): sizes parse as people write
// them, the pick's measured peak really fits, a budget below one instance is refused with the
// numbers, and a BN model is never split (its gradient would change).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../../src/engine/backend/select';
import { loadMnist } from '../../src/engine/data/mnist';
import { reshapeDataset, sliceBatch } from '../../src/engine/data/dataset';
import { measureStepBreakdown } from '../../src/engine/memory/breakdown';
import { BudgetError, parseBytes, pickMicroBatchSize } from '../../src/engine/memory/budget';
import { buildBuiltinModel } from '../../src/engine/models/builtin';

const images = reshapeDataset(loadMnist({ limit: 32 }), [28, 28, 1]);
const inputShape = [28, 28, 1];

before(async () => {
  await setBackend();
});

test('sizes: 64MB, 1.5 GiB, 512k, plain bytes; nonsense refused with the value quoted', () => {
  assert.equal(parseBytes('64MB'), 64 * 1024 ** 2);
  assert.equal(parseBytes('1.5 GiB'), 1.5 * 1024 ** 3);
  assert.equal(parseBytes('512k'), 512 * 1024);
  assert.equal(parseBytes('1000'), 1000);
  for (const bad of ['', 'lots', '-3MB', '0', '12 parsecs'])
    assert.throws(
      () => parseBytes(bad),
      (err: Error) => err.message.includes(`'${bad}'`),
    );
});

test('the picked micro-batch size fits the budget when measured, and the next divisor would not be predicted to', async () => {
  const model = buildBuiltinModel('cnn', { norm: 'batchless', seed: 1 });
  const one = await measureStepBreakdown(model, sliceBatch(images, 0, 2), 1, {
    inputShape,
    numClasses: 10,
  });
  const budget = Math.round(one.backprop.peakBytes * 4.5);
  const choice = await pickMicroBatchSize(model, images, 16, budget, { inputShape });
  assert.ok(
    choice.microBatchSize > 1 && choice.microBatchSize < 16 && 16 % choice.microBatchSize === 0,
    `picked ${choice.microBatchSize}`,
  );
  assert.ok(choice.perInstanceBytes > 0 && choice.fixedBytes > 0);
  const measured = await measureStepBreakdown(
    model,
    sliceBatch(images, 0, 16),
    choice.microBatchSize,
    { inputShape, numClasses: 10 },
  );
  assert.ok(measured.peakBytes <= budget, `measured ${measured.peakBytes} > budget ${budget}`);
  assert.ok(
    Math.abs(measured.backprop.peakBytes - choice.predictedPeakBytes) <=
      0.1 * measured.backprop.peakBytes,
    `predicted ${choice.predictedPeakBytes}, measured ${measured.backprop.peakBytes}`,
  );
  const next = choice.microBatchSize * 2;
  assert.ok(
    choice.fixedBytes + choice.perInstanceBytes * next > budget,
    'the next larger divisor would not fit',
  );
  model.dispose();
});

test('a budget below one instance is refused, saying what one instance needs', async () => {
  const model = buildBuiltinModel('cnn', { norm: 'batchless', seed: 1 });
  await assert.rejects(
    pickMicroBatchSize(model, images, 8, 1000, { inputShape }),
    (err: Error) => err instanceof BudgetError && /micro-batches of 1 need/.test(err.message),
  );
  model.dispose();
});

test('BN: the whole batch or nothing', async () => {
  const model = buildBuiltinModel('cnn', { norm: 'batch', seed: 1 });
  const fits = await pickMicroBatchSize(model, images, 4, 1024 ** 3, { inputShape });
  assert.equal(fits.microBatchSize, 4);
  await assert.rejects(
    pickMicroBatchSize(model, images, 4, 100_000, { inputShape }),
    (err: Error) => err instanceof BudgetError && /batch normalization/.test(err.message),
  );
  model.dispose();
});
