// `batchless memory` and `batchless train --memory-budget` as users run them: real child
// processes on the default backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli as run } from './helpers/cli';

test('memory --json: SweepPointData fields first, BN growing and batchless flat, the largest point broken down', () => {
  const { code, stdout, stderr } = run([
    'memory',
    '--model',
    'builtin:cnn',
    '--batches',
    '2,8',
    '--micro',
    '1',
    '--json',
  ]);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout.trim().split('\n').pop()!);
  assert.equal(report.type, 'memory');
  assert.deepEqual(
    report.points.map(
      (p: { norm: string; batchSize: number; microBatchSize: number }) =>
        `${p.norm}:${p.batchSize}:${p.microBatchSize}`,
    ),
    ['batch:2:2', 'batchless:2:1', 'batch:8:8', 'batchless:8:1'],
  );
  for (const p of report.points) {
    assert.deepEqual(Object.keys(p).slice(0, 4), [
      'norm',
      'batchSize',
      'microBatchSize',
      'peakStepBytes',
    ]);
    assert.ok(p.peakStepBytes > 0 && p.lowerBoundBytes > 0 && p.categories.weights > 0);
  }
  const [bn2, bl2, bn8, bl8] = report.points;
  assert.ok(bn8.peakStepBytes > 3 * bn2.peakStepBytes);
  assert.equal(bl8.peakStepBytes, bl2.peakStepBytes);
  assert.equal(report.largest.batch.batchSize, 8);
  assert.equal(report.largest.batchless.microBatchSize, 1);
});

test('memory: the human table names both levels and the breakdown', () => {
  const { code, stdout, stderr } = run([
    'memory',
    '--model',
    'builtin:mlp',
    '--batches',
    '4',
    '--micro',
    '1,2',
  ]);
  assert.equal(code, 0, stderr);
  for (const text of [
    'BN (whole batch)',
    'batchless micro 2',
    'activations kept for backprop',
    'lower bound for the whole step',
    'process: resident set peak',
    'tfjs accounting',
  ]) {
    assert.ok(stdout.includes(text), `missing '${text}' in:\n${stdout}`);
  }
});

test('train --memory-budget picks a micro-batch size that divides the batch and trains with it', () => {
  const { code, stdout, stderr } = run([
    'train',
    '--model',
    'builtin:cnn',
    '--batch',
    '16',
    '--steps',
    '1',
    '--limit',
    '200',
    '--memory-budget',
    '5MB',
    '--json',
  ]);
  assert.equal(code, 0, stderr);
  const events = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const budget = events.find((e) => e.type === 'budget');
  assert.ok(budget, 'a budget event');
  assert.ok(
    budget.microBatchSize >= 1 && budget.microBatchSize < 16 && 16 % budget.microBatchSize === 0,
    `picked ${budget.microBatchSize}`,
  );
  assert.ok(budget.predictedPeakBytes <= 5 * 1024 ** 2);
  assert.equal(events.find((e) => e.type === 'start').config.microBatchSize, budget.microBatchSize);
});

test('train --memory-budget: nonsense and conflicts are usage errors; too small says what one instance needs', () => {
  const bad = run(['train', '--model', 'builtin:mlp', '--memory-budget', 'lots']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--memory-budget: .*'lots'/);
  const both = run(['train', '--model', 'builtin:mlp', '--memory-budget', '64MB', '--micro', '4']);
  assert.equal(both.code, 2);
  const tiny = run([
    'train',
    '--model',
    'builtin:mlp',
    '--batch',
    '8',
    '--limit',
    '100',
    '--memory-budget',
    '100k',
  ]);
  assert.equal(tiny.code, 1);
  assert.match(tiny.stderr, /micro-batches of 1 need/);
});
