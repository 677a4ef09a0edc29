// What micro-batching promises, measured on the default backend: a batchless step's peak does not
// grow with the effective batch when the micro-batch stays the same, while a BN step (which must
// see the whole batch) grows about linearly with it. Also the sweep the memory view and
// `batchless memory --json` draw: SweepPoint fields first, then the breakdown.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../../src/engine/backend/select';
import { loadMnist } from '../../src/engine/data/mnist';
import { reshapeDataset, sliceBatch } from '../../src/engine/data/dataset';
import { measureStepBreakdown } from '../../src/engine/memory/breakdown';
import { memoryReport } from '../../src/engine/memory/report';
import { buildBuiltinModel } from '../../src/engine/models/builtin';

const images = reshapeDataset(loadMnist({ limit: 48 }), [28, 28, 1]);
const cyclic = (n: number) =>
  sliceBatch(
    images,
    Int32Array.from({ length: n }, (_, i) => i % images.count),
  );
const options = { inputShape: [28, 28, 1], numClasses: 10 };

before(async () => {
  await setBackend();
});

test('batchless micro-batch 1: the same peak at effective batch 2, 8 and 32', async () => {
  const model = buildBuiltinModel('cnn', { norm: 'batchless', seed: 1 });
  const peaks: number[] = [];
  for (const batch of [2, 8, 32])
    peaks.push((await measureStepBreakdown(model, cyclic(batch), 1, options)).backprop.peakBytes);
  for (const p of peaks)
    assert.ok(
      Math.abs(p - peaks[0]) <= 0.01 * peaks[0],
      `peaks ${peaks.join(', ')} should agree within 1%`,
    );
  model.dispose();
});

test('BN: activations and peak grow about linearly with the batch', async () => {
  const model = buildBuiltinModel('cnn', { norm: 'batch', seed: 1 });
  const at = async (batch: number) => measureStepBreakdown(model, cyclic(batch), batch, options);
  const small = await at(4);
  const large = await at(16);
  const activationRatio =
    large.backprop.categories.activations / small.backprop.categories.activations;
  const stepRatio =
    (large.backprop.peakBytes - large.residentBytes) /
    (small.backprop.peakBytes - small.residentBytes);
  assert.ok(
    activationRatio > 3.6 && activationRatio < 4.4,
    `4× the batch, ${activationRatio.toFixed(2)}× the activations`,
  );
  assert.ok(
    stepRatio > 3.4 && stepRatio < 4.4,
    `4× the batch, ${stepRatio.toFixed(2)}× the step's own peak`,
  );
  model.dispose();
});

test('the sweep: SweepPoint fields plus the breakdown; batchless flat, BN growing', async () => {
  const bn = buildBuiltinModel('cnn', { norm: 'batch', seed: 1 });
  const batchless = buildBuiltinModel('cnn', { norm: 'batchless', seed: 1 });
  const seen: string[] = [];
  const report = await memoryReport(bn, batchless, images, {
    batchSizes: [2, 8],
    microBatchSizes: [1, 4],
    inputShape: [28, 28, 1],
    onPoint: (p) => seen.push(`${p.norm}:${p.batchSize}:${p.microBatchSize}`),
  });
  assert.deepEqual(seen, [
    'batch:2:2',
    'batchless:2:1',
    'batch:8:8',
    'batchless:8:1',
    'batchless:8:4',
  ]);
  for (const p of report.points) {
    for (const key of [
      'norm',
      'batchSize',
      'microBatchSize',
      'peakStepBytes',
      'activationsBytes',
      'lowerBoundBytes',
      'updatePeakStepBytes',
    ] as const)
      assert.ok(p[key] !== undefined, key);
    assert.ok(p.peakStepBytes > 0 && p.peakStepBytes <= p.tfjsPeakStepBytes);
  }
  const point = (norm: string, b: number, m: number) =>
    report.points.find((p) => p.norm === norm && p.batchSize === b && p.microBatchSize === m)!;
  assert.ok(
    Math.abs(point('batchless', 8, 1).peakStepBytes - point('batchless', 2, 1).peakStepBytes) <=
      0.01 * point('batchless', 2, 1).peakStepBytes,
  );
  assert.ok(point('batch', 8, 8).peakStepBytes > 3 * point('batch', 2, 2).peakStepBytes);
  assert.ok(point('batch', 8, 8).activationsBytes > 6 * point('batchless', 8, 1).activationsBytes);
  assert.equal(report.largest.batch?.batchSize, 8);
  assert.equal(report.largest.batchless.microBatchSize, 1);
  bn.dispose();
  batchless.dispose();
});
