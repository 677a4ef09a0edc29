// The training session on the cpu backend (deterministic): repeatability with a seed, cancel,
// divergence reports, no leaked tensors between steps, event stream, data-driven init by strata
// (checked against moments computed independently from sub-models), and the separate μ/σ rate.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/engine/backend/select';
import { loadMnist } from '../../src/engine/data/mnist';
import { shuffleDataset, sliceBatch, splitDataset } from '../../src/engine/data/dataset';
import { buildBuiltinModel } from '../../src/engine/models/builtin';
import { findBatchlessLayers } from '../../src/engine/models/norm-layers';
import { initializeFromData } from '../../src/engine/train/data-init';
import { train } from '../../src/engine/train/trainer';
import type { TrainEvent } from '../../src/shared/train-events';
import { assertArrayClose } from './helpers/tensors';

const data = splitDataset(shuffleDataset(loadMnist({ limit: 400 }), 3), { trainCount: 320 });
const quick = { batchSize: 16, microBatchSize: 4, maxSteps: 3, initSamples: 64, seed: 5 };

before(async () => {
  await setBackend('cpu');
});

test('the same seed gives the same weights; another seed does not', async () => {
  const run = async (seed: number) => {
    const model = buildBuiltinModel('mlp', { seed: 1 });
    await train(model, data, { ...quick, seed });
    return model.getWeights().map((w) => Array.from(w.dataSync()));
  };
  const a = await run(5);
  assert.deepEqual(await run(5), a);
  assert.notDeepEqual(await run(6), a);
});

test('events arrive in order with finite numbers, and a summary with the promised fields', async () => {
  const events: TrainEvent[] = [];
  const summary = await train(
    buildBuiltinModel('mlp', { seed: 1 }),
    data,
    { ...quick, statsEvery: 2 },
    { onEvent: (e) => events.push(e) },
  );
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(0, 3), ['start', 'init', 'memory']);
  assert.deepEqual(types.filter((t) => t === 'step').length, 3);
  assert.ok(types.indexOf('stats') > types.indexOf('step'));
  assert.deepEqual(
    types.slice(-3),
    ['eval', 'stats', 'done'],
    'a final statistics snapshot before done',
  );
  const step = events.find((e) => e.type === 'step');
  assert.ok(
    step &&
      step.type === 'step' &&
      Object.keys(step.nll).length === 2 &&
      Number.isFinite(step.taskLoss),
  );
  assert.equal(summary.stopped, 'completed');
  for (const key of [
    'backend',
    'testAccuracy',
    'trainLoss',
    'samplesPerSecond',
    'peakStepBytes',
  ] as const) {
    assert.ok(summary[key] !== undefined && summary[key] !== null, key);
  }
  assert.ok(summary.peakStepBytes > 0 && summary.testAccuracy >= 0 && summary.testAccuracy <= 1);
});

test('no tensors leak: the count after step 2 equals the count after step 5', async () => {
  const counts = new Map<number, number>();
  await train(
    buildBuiltinModel('mlp', { seed: 1 }),
    data,
    { ...quick, maxSteps: 5 },
    { onEvent: (e) => e.type === 'step' && counts.set(e.step, tf.memory().numTensors) },
  );
  assert.equal(counts.get(5), counts.get(2));
  const before = tf.memory().numTensors;
  const model = buildBuiltinModel('cnn', { seed: 1 });
  const afterBuild = tf.memory().numTensors;
  await train(
    model,
    { train: data.train },
    { ...quick, maxSteps: 1, batchSize: 4, microBatchSize: 1 },
  );
  assert.equal(tf.memory().numTensors, afterBuild, 'a finished session keeps only the model');
  assert.ok(afterBuild > before);
});

test('a session cancelled through its AbortSignal stops between steps and says so', async () => {
  const abort = new AbortController();
  const summary = await train(
    buildBuiltinModel('mlp', { seed: 1 }),
    data,
    { ...quick, maxSteps: 10 },
    { signal: abort.signal, onEvent: (e) => e.type === 'step' && e.step === 2 && abort.abort() },
  );
  assert.equal(summary.stopped, 'cancelled');
  assert.equal(summary.steps, 2);
  assert.match(summary.message ?? '', /Cancelled before step 3 of 10/);
});

test('a non-finite NLL stops the session naming the step and the layer', async () => {
  const model = buildBuiltinModel('mlp', { seed: 1 });
  const norm2 = findBatchlessLayers(model)[1];
  norm2.setStatistics(
    new Array(256).fill(0).map((_, i) => (i === 7 ? NaN : 0)),
    new Array(256).fill(1),
  );
  const summary = await train(model, data, { ...quick, init: 'keep' });
  assert.equal(summary.stopped, 'diverged');
  assert.match(summary.message ?? '', /step 1: the NLL of layer 'norm2' is NaN/);
  assert.equal(summary.steps, 0);
});

test('data-driven init sets μ/σ to the moments of each layer input, stratum by stratum', () => {
  const model = buildBuiltinModel('mlp', { seed: 2 });
  const [norm1, norm2] = findBatchlessLayers(model);
  const sample = sliceBatch(data.train, 0, 100);
  const result = initializeFromData(model, [norm1, norm2], sample, [784], 32);
  assert.deepEqual(result.strata, [['norm1'], ['norm2']]);
  const x = tf.tensor(sample.x, [100, 784]);
  for (const [layer, inputOf] of [
    [norm1, 'dense1'],
    [norm2, 'dense2'],
  ] as const) {
    // Reference: the moments of the layer's input computed by a sub-model in one pass (norm1 is
    // already initialized when norm2's input is computed, as the strata order requires).
    const sub = tf.model({
      inputs: model.inputs,
      outputs: model.getLayer(inputOf).output as tf.SymbolicTensor,
    });
    const { mean, variance } = tf.moments(sub.predict(x) as tf.Tensor, 0);
    const stats = layer.getStatistics();
    assertArrayClose(stats.mean, mean.dataSync(), { atol: 1e-5, rtol: 1e-4 }, `${layer.name} μ`);
    assertArrayClose(
      stats.std,
      Array.from(variance.dataSync(), (v) => Math.max(Math.sqrt(v), 1e-4)),
      { atol: 1e-5, rtol: 1e-4 },
      `${layer.name} σ`,
    );
  }
});

test('a separate learning rate for μ/σ moves only the statistics at that rate', async () => {
  const run = async (statsLearningRate: number) => {
    const model = buildBuiltinModel('mlp', { seed: 1 });
    const layer = findBatchlessLayers(model)[0];
    let start: Float32Array | undefined;
    await train(
      model,
      data,
      { ...quick, optimizer: 'sgd', learningRate: 0.1, statsLearningRate },
      { onEvent: (e) => e.type === 'init' && (start = layer.getStatistics().mean) },
    );
    const end = layer.getStatistics().mean;
    return Math.max(...Array.from(end, (v, i) => Math.abs(v - start![i])));
  };
  const slow = await run(1e-6);
  const fast = await run(0.1);
  assert.ok(slow < 1e-5, `μ moved ${slow} with a statistics learning rate of 1e-6`);
  assert.ok(fast > 100 * slow, `μ moved ${fast} with the full rate`);
});
