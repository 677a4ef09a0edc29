// The native step spread over threads (src/engine/native/step-helpers.ts): helper threads with
// TensorFlow contexts of their own compute shares of each batch. Reference: the same native step
// on one thread (itself held to tfjs autodiff in native-step.test.ts), on the same weights and
// data; a batchless batch split into shares is the same sum over instances, so only float
// summation order may differ. Runs on the native TensorFlow backend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/engine/backend/select';
import { loadMnist } from '../../src/engine/data/mnist';
import { Batch, reshapeDataset, shuffleDataset, sliceBatch, splitDataset } from '../../src/engine/data/dataset';
import { buildBuiltinModel, BuiltinModelName, NormKind } from '../../src/engine/models/builtin';
import { NativeStep } from '../../src/engine/native/native-step';
import { splitBatch } from '../../src/engine/native/step-shares';
import { StepHelpers } from '../../src/engine/native/step-helpers';
import { chooseStepThreads } from '../../src/engine/native/step-threads';
import { stepModelOf } from '../../src/engine/train/batch-gradients';
import { train } from '../../src/engine/train/trainer';
import type { StartEvent, TrainEvent } from '../../src/shared/train-events';

const mnist = shuffleDataset(loadMnist({ limit: 300 }), 11);
const inputShapeOf = (model: tf.LayersModel) => model.inputs[0].shape.slice(1) as number[];

before(async () => {
  await setBackend('tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
});

function nativeStepOf(model: tf.LayersModel): NativeStep {
  const native = NativeStep.compile(stepModelOf(model, inputShapeOf(model), 10), { optimizer: 'adam', learningRate: 1e-3, statsLearningRate: 0 });
  if (!(native instanceof NativeStep)) throw new Error(`no native step: ${native.reason}`);
  return native;
}

function batchOf(model: tf.LayersModel, from: number, size: number): Batch {
  return sliceBatch(reshapeDataset(mnist, inputShapeOf(model)), from, from + size);
}

function maxDifference(a: number[][], b: number[][]): number {
  return Math.max(...a.map((w, i) => w.reduce((m, v, j) => Math.max(m, Math.abs(v - b[i][j])), 0)));
}

describe('splitBatch', () => {
  test('shares cover the batch in order, end on micro-batch boundaries, and the first has the fewest micro-batches', () => {
    assert.deepEqual(splitBatch(64, 8, 2), [[0, 32], [32, 64]]);
    assert.deepEqual(splitBatch(64, 16, 3), [[0, 16], [16, 32], [32, 64]]);
    assert.deepEqual(splitBatch(60, 8, 2), [[0, 32], [32, 60]], 'four micro-batches each, the last one short');
    assert.deepEqual(splitBatch(56, 8, 2), [[0, 24], [24, 56]], 'seven micro-batches: three here, four there');
    assert.deepEqual(splitBatch(5, 1, 2), [[0, 2], [2, 5]]);
  });

  test('one micro-batch is cut into equal parts, none larger than the micro-batch', () => {
    assert.deepEqual(splitBatch(64, 64, 2), [[0, 32], [32, 64]]);
    assert.deepEqual(splitBatch(7, 7, 3), [[0, 2], [2, 4], [4, 7]]);
    assert.deepEqual(splitBatch(1, 1, 2), [[0, 0], [0, 1]], 'an empty share is left for runShared to notice');
  });
});

describe('chooseStepThreads', () => {
  const compiled = (name: BuiltinModelName, norm: NormKind) => {
    const model = buildBuiltinModel(name, { norm, seed: 1 });
    const native = nativeStepOf(model);
    return { native, done: () => (native.dispose(), model.dispose()) };
  };

  test('spreads a convolutional model over the CPUs TensorFlow leaves free, and keeps a dense one on one thread', () => {
    const cnn = compiled('cnn', 'batchless');
    const mlp = compiled('mlp', 'batchless');
    try {
      assert.equal(chooseStepThreads(0, cnn.native, false, 2, 1).threads, 2);
      assert.equal(chooseStepThreads(0, cnn.native, false, 16, 1).threads, 4, 'at most four');
      assert.equal(chooseStepThreads(0, cnn.native, false, 8, 4).threads, 2);
      const busy = chooseStepThreads(0, cnn.native, false, 2, 2);
      assert.equal(busy.threads, 1);
      assert.match(busy.reason, /each op on 2 of 2 CPUs/);
      const dense = chooseStepThreads(0, mlp.native, false, 2, 1);
      assert.equal(dense.threads, 1);
      assert.match(dense.reason, /dense model/);
      assert.deepEqual(chooseStepThreads(3, mlp.native, false, 2, 2), { threads: 3, reason: 'as asked' });
      const graph = chooseStepThreads(0, cnn.native, true, 2, 1);
      assert.equal(graph.threads, 1, 'a step compiled into one graph is not spread');
      assert.match(graph.reason, /compiled graph runs independent ops/);
      assert.equal(chooseStepThreads(2, cnn.native, true, 2, 1).threads, 2, 'unless asked');
    } finally {
      cnn.done();
      mlp.done();
    }
  });

  test('keeps batch normalization on one thread, and refuses a request to spread it', () => {
    const bn = compiled('cnn', 'batch');
    try {
      assert.equal(bn.native.splittable, false);
      assert.equal(chooseStepThreads(0, bn.native, false, 8, 1).threads, 1);
      assert.throws(() => chooseStepThreads(2, bn.native, false, 8, 1), /without batch normalization/);
    } finally {
      bn.done();
    }
  });
});

describe('runShared with helper threads', () => {
  const started: StepHelpers[] = [];
  after(async () => {
    await Promise.all(started.map((h) => h.dispose()));
  });

  async function helpersFor(model: tf.LayersModel, native: NativeStep, count: number): Promise<StepHelpers> {
    const helpers = await StepHelpers.start(model, inputShapeOf(model), 10, count, native.slotShapes());
    started.push(helpers);
    return helpers;
  }

  // Two copies of one model: one trained on this thread alone, one spread over threads.
  for (const [name, micro, threads] of [
    ['cnn', 32, 2],
    ['cnn', 5, 3],
    ['mlp', 1, 2],
  ] as const) {
    test(`${name}, micro-batch ${micro}, ${threads} threads: three steps end at the weights of one thread (≤ 2e-6)`, async () => {
      const single = buildBuiltinModel(name, { seed: 3 });
      const spread = buildBuiltinModel(name, { seed: 3 });
      const one = nativeStepOf(single);
      const many = nativeStepOf(spread);
      const helpers = await helpersFor(spread, many, threads - 1);
      try {
        for (let k = 0; k < 3; k++) {
          const batch = batchOf(single, 32 * k, 32);
          const a = one.run(batch, micro);
          const b = await many.runShared(batch, micro, helpers);
          assert.ok(a.applied && b.applied);
          a.values.forEach((v, i) => assert.ok(Math.abs(v - b.values[i]) <= 1e-5 * Math.max(1, Math.abs(v)), `step ${k}, value ${i}: ${v} vs ${b.values[i]}`));
          assert.ok(b.peakStepBytes > 0);
        }
        one.syncToModel();
        many.syncToModel();
        const diff = maxDifference(
          single.getWeights().map((w) => Array.from(w.dataSync())),
          spread.getWeights().map((w) => Array.from(w.dataSync())),
        );
        assert.ok(diff <= 2e-6, `weights ${diff} apart`);
        // Adam moved every weight ~3e-3: a share lost or counted twice would show far above 2e-6.
        const moved = maxDifference(
          single.getWeights().map((w) => Array.from(w.dataSync())),
          buildBuiltinModel(name, { seed: 3 }).getWeights().map((w) => Array.from(w.dataSync())),
        );
        assert.ok(moved > 1e-3, `the steps moved the weights (${moved})`);
      } finally {
        one.dispose();
        many.dispose();
        single.dispose();
        spread.dispose();
      }
    });
  }

  test('a failed share rejects the step with the thread\'s reason, and the native tensors are freed', async () => {
    const model = buildBuiltinModel('cnn', { seed: 3 });
    const native = nativeStepOf(model);
    const helpers = await helpersFor(model, native, 1);
    try {
      await assert.rejects(
        helpers.compute([{ x: new Float32Array(784), y: new Int32Array(1), batchSize: 1, microBatchSize: 1, weights: [new Float32Array(3)] }]),
        /helper thread failed: NativeStep: 1 weights for \d+ variables/,
      );
      const batch = batchOf(model, 0, 16);
      const live = (native as unknown as { ops: { liveBytes: number } }).ops.liveBytes;
      await helpers.dispose();
      await assert.rejects(native.runShared(batch, 16, helpers), /the step has ended/);
      assert.equal((native as unknown as { ops: { liveBytes: number } }).ops.liveBytes, live, 'the failed step freed what it made');
    } finally {
      native.dispose();
      model.dispose();
    }
  });

  test('a helper that rebuilt different variables is refused at start', async () => {
    const model = buildBuiltinModel('cnn', { seed: 3 });
    const native = nativeStepOf(model);
    try {
      const wrong = native.slotShapes().map((s) => s.map((d) => d + 1));
      await assert.rejects(StepHelpers.start(model, inputShapeOf(model), 10, 1, wrong), /rebuilt the model with other variables/);
    } finally {
      native.dispose();
      model.dispose();
    }
  });
});

describe('in the trainer', () => {
  const data = splitDataset(mnist, { trainCount: 240 });
  const quick = { batchSize: 16, microBatchSize: 4, maxSteps: 4, initSamples: 64, seed: 5, statsEvery: 2 };
  const startOf = (events: TrainEvent[]) => events.find((e): e is StartEvent => e.type === 'start')!;

  test('a session spread over two threads trains to the weights of one thread and says so in its start event', async () => {
    const run = async (stepThreads: number) => {
      const model = buildBuiltinModel('cnn', { seed: 1 });
      const events: TrainEvent[] = [];
      const summary = await train(model, data, { ...quick, stepThreads }, { onEvent: (e) => events.push(e) });
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return { summary, start: startOf(events), weights };
    };
    const tensors = tf.memory().numTensors;
    const [one, two] = [await run(1), await run(2)];
    assert.deepEqual([one.start.stepThreads, two.start.stepThreads], [1, 2]);
    assert.equal(two.start.stepThreadsReason, 'as asked');
    // Spread over threads, a step runs op by op, and the start event does not claim the graph.
    assert.deepEqual([one.start.stepGraph, two.start.stepGraph], [true, false]);
    assert.match(two.start.stepGraphReason ?? '', /spread over 2 threads, which run op by op/);
    assert.equal(two.summary.stopped, 'completed');
    assert.ok(maxDifference(one.weights, two.weights) <= 2e-5, `${maxDifference(one.weights, two.weights)} apart`);
    assert.equal(tf.memory().numTensors, tensors, 'no tfjs tensors left behind');
  });

  test('a BN model asked to spread over threads fails before training, with why', async () => {
    const model = buildBuiltinModel('cnn', { seed: 1, norm: 'batch' });
    await assert.rejects(train(model, data, { ...quick, stepThreads: 2 }), /without batch normalization/);
    model.dispose();
  });
});
