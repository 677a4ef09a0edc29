// The native training step (src/engine/native) against the generic one. Reference: the engine's
// generic step, tfjs autodiff through the layers (itself held to the authors' Keras run in
// layer-reference.test.ts) and tfjs's optimizers, on the same weights and data. Runs on the native
// TensorFlow backend, the only one the native step exists for.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/engine/backend/select';
import { loadMnist } from '../../src/engine/data/mnist';
import { Batch, reshapeDataset, shuffleDataset, sliceBatch, splitDataset } from '../../src/engine/data/dataset';
import { batchlessNormalization } from '../../src/engine/layers/batchless-normalization';
import type { StdParametrization } from '../../src/engine/layers/std-parametrization';
import { buildBuiltinModel, BuiltinModelName } from '../../src/engine/models/builtin';
import { findBatchlessLayers } from '../../src/engine/models/norm-layers';
import { maxPool } from '../../src/engine/native/native-layers';
import { NativeStep } from '../../src/engine/native/native-step';
import { NativeOps } from '../../src/engine/native/tf-native';
import { oneDnnMaxPool } from '../../src/engine/native/process-kernels';
import { batchGradients, StepModel, stepModelOf } from '../../src/engine/train/batch-gradients';
import type { OptimizerName } from '../../src/engine/train/config';
import { initializeFromData } from '../../src/engine/train/data-init';
import { StepOptimizer } from '../../src/engine/train/optimizers';
import { train } from '../../src/engine/train/trainer';
import type { StartEvent, TrainEvent } from '../../src/shared/train-events';

const mnist = shuffleDataset(loadMnist({ limit: 300 }), 7);

before(async () => {
  await setBackend('tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
});

function stepModel(model: tf.LayersModel): StepModel {
  return stepModelOf(model, model.inputs[0].shape.slice(1) as number[], 10);
}

function batchOf(model: tf.LayersModel, from: number, size: number): Batch {
  return sliceBatch(reshapeDataset(mnist, model.inputs[0].shape.slice(1) as number[]), from, from + size);
}

/** Statistics from data, then moved off, so every gradient (μ/σ included) is far from zero. */
function realisticStatistics(model: tf.LayersModel): void {
  const batchless = findBatchlessLayers(model);
  initializeFromData(model, batchless, batchOf(model, 100, 64), model.inputs[0].shape.slice(1) as number[]);
  for (const layer of batchless) {
    const [mean, std] = layer.statisticsVariables();
    mean.assign(tf.tidy(() => tf.add(mean, tf.randomNormal(mean.shape, 0, 0.1, 'float32', 3))));
    std.assign(tf.tidy(() => tf.mul(std, tf.randomUniform(std.shape, 0.8, 1.2, 'float32', 4))));
  }
}

/** max |a − e| / max |e| per variable: one number that a wrong gradient cannot hide in. */
function maxRelativeDifference(actual: tf.NamedTensorMap, expected: tf.NamedTensorMap): { name: string; rel: number }[] {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), 'the same variables get gradients');
  return Object.keys(expected).map((name) => {
    const a = actual[name].dataSync();
    const e = expected[name].dataSync();
    assert.deepEqual(actual[name].shape, expected[name].shape, `${name}: shape`);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < e.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - e[i]));
      scale = Math.max(scale, Math.abs(e[i]));
    }
    assert.ok(scale > 0, `${name}: the reference gradient is not all zero`);
    return { name, rel: diff / scale };
  });
}

function compileOrFail(step: StepModel, optimizer: OptimizerName = 'adam', statsLearningRate = 0): NativeStep {
  const native = NativeStep.compile(step, { optimizer, learningRate: 1e-3, statsLearningRate });
  if (!(native instanceof NativeStep)) throw new Error(`no native step: ${native.reason}`);
  return native;
}

function assertSameGradients(model: tf.LayersModel, size: number, micro: number, tolerance = 1e-5): void {
  if (findBatchlessLayers(model).length > 0) realisticStatistics(model);
  const step = stepModel(model);
  const batch = batchOf(model, 0, size);
  const generic = batchGradients(step, batch, size);
  const native = compileOrFail(step);
  const ours = native.gradientsAsTfjs(batch, micro);
  try {
    const worst = maxRelativeDifference(ours.grads, generic.grads).sort((p, q) => q.rel - p.rel);
    assert.ok(worst[0].rel <= tolerance, `worst variable ${JSON.stringify(worst.slice(0, 3))}`);
    const [mine, theirs] = [ours.lossParts.dataSync(), generic.lossParts.dataSync()];
    assert.equal(mine.length, theirs.length);
    mine.forEach((v, i) => assert.ok(Math.abs(v - theirs[i]) <= 1e-5 * Math.max(1, Math.abs(theirs[i])), `loss part ${i}: ${v} vs ${theirs[i]}`));
  } finally {
    tf.dispose([ours.grads, ours.lossParts, generic.grads, generic.lossParts]);
    native.dispose();
  }
}

describe('gradients equal the generic step (≤ 1e-5 relative per variable)', () => {
  for (const name of ['mlp', 'cnn'] as BuiltinModelName[]) {
    for (const micro of [16, 5, 1]) {
      test(`builtin:${name}, batch 16 as micro-batches of ${micro}`, () => {
        const model = buildBuiltinModel(name, { seed: 2 });
        assertSameGradients(model, 16, micro);
        model.dispose();
      });
    }
  }

  // Batch normalization's gradients run through the batch moments. tfjs takes them with Mean
  // over N·H·W, TensorFlow's fused kernel with its own long float32 sums: on 16 MNIST digits the
  // first convolution's gradients differ by ~1e-4 relative between the two, dense layers by ~1e-6.
  for (const [name, tolerance] of [['mlp', 1e-5], ['cnn', 5e-4]] as [BuiltinModelName, number][]) {
    test(`batch normalization, builtin:${name}, batch 16 (≤ ${tolerance} relative: batch moments)`, () => {
      const model = buildBuiltinModel(name, { seed: 2, norm: 'batch' });
      assertSameGradients(model, 16, 16, tolerance);
      model.dispose();
    });
  }

  for (const parametrization of ['abs', 'inv'] as StdParametrization[]) {
    for (const rank of [2, 4]) {
      test(`σ stored as '${parametrization}', rank-${rank} input, without γ or β`, () => {
        const model = tf.sequential({
          layers:
            rank === 2
              ? [
                  tf.layers.flatten({ inputShape: [28, 28, 1] }),
                  tf.layers.dense({ units: 32, useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
                  batchlessNormalization({ stdParametrization: parametrization, scale: false }),
                  tf.layers.reLU(),
                  tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
                ]
              : [
                  tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
                  batchlessNormalization({ stdParametrization: parametrization, center: false }),
                  tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
                  tf.layers.flatten(),
                  tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
                ],
        });
        assertSameGradients(model, 12, 5);
        model.dispose();
      });
    }
  }
});

describe('max pooling', () => {
  // Reference: tfjs's own max-pool gradient (tf.grad through tf.maxPool), which routes each
  // window's gradient to its first maximum. The input is mostly ties, like MNIST's background.
  for (const [shape, pool, strides, padding] of [
    [[4, 8, 8, 3], [2, 2], [2, 2], 'VALID'],
    [[2, 7, 9, 2], [2, 2], [2, 2], 'SAME'],
    [[2, 9, 9, 4], [3, 3], [2, 2], 'VALID'],
    // Large enough for oneDNN's kernels (maxPool takes Eigen's below 65,536 elements).
    [[8, 28, 28, 16], [2, 2], [2, 2], 'VALID'],
    [[4, 29, 27, 32], [2, 2], [2, 2], 'SAME'],
  ] as const) {
    test(`${shape.join('x')}, pool ${pool.join('x')} stride ${strides.join('x')} ${padding}: forward and gradient equal tfjs's (Eigen's kernels below 65,536 elements, oneDNN's above)`, () => {
      const ops = NativeOps.forActiveBackend()!;
      const size = shape.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: size }, (_, i) => (i % 5 < 3 ? 0.25 : Math.sin(i) * 2));
      const x = tf.tensor4d(values, [...shape]);
      const expectedY = tf.maxPool(x, [...pool], [...strides], padding === 'SAME' ? 'same' : 'valid');
      const dyValues = Float32Array.from({ length: expectedY.size }, (_, i) => Math.cos(i) + 2);
      const dy = tf.tensor(dyValues, expectedY.shape);
      const expectedDx = tf.grad((input: tf.Tensor) => tf.maxPool(input as tf.Tensor4D, [...pool], [...strides], padding === 'SAME' ? 'same' : 'valid'))(x, dy);
      const [y, dx] = ops.scope(() => {
        const forward = maxPool(ops, ops.constant(values, [...shape]), [...pool], [...strides], padding);
        const { dx: grad } = forward.backward(ops.constant(dyValues, expectedY.shape), true);
        return [Array.from(ops.read(forward.y)), Array.from(ops.read(grad!))];
      });
      assert.deepEqual(y, Array.from(expectedY.dataSync()));
      assert.deepEqual(dx, Array.from(expectedDx.dataSync()));
      assert.ok(dx.filter((v) => v !== 0).length < dx.length / 2, 'ties get one gradient, not one each');
      tf.dispose([x, expectedY, dy, expectedDx]);
      ops.release();
    });
  }

  test('oneDNN pooling is found in this libtensorflow (the tensorflow-cpu wheel is built with oneDNN)', () => {
    assert.equal(oneDnnMaxPool(NativeOps.forActiveBackend()!), true);
  });
});

describe('optimizer updates equal tfjs optimizers', () => {
  for (const optimizer of ['adam', 'sgd', 'momentum', 'rmsprop'] as OptimizerName[]) {
    // Float32 rounding of gradients reaches the weights through the update, most through Adam's
    // m/√v, which turns a rounding-sized change of a near-zero gradient into a sizeable step (the
    // worst kernel element here is 0.1–0.4% of the distance moved, depending on rounding order);
    // a wrong rule (ε placement, bias correction, momentum) is off by the whole update.
    const tolerance = optimizer === 'adam' ? 1e-2 : 2e-3;
    test(`${optimizer}, 3 steps of builtin:mlp with a separate μ/σ learning rate (within ${tolerance * 100}% of the distance moved)`, () => {
      const [a, b] = [buildBuiltinModel('mlp', { seed: 3 }), buildBuiltinModel('mlp', { seed: 3 })];
      realisticStatistics(a);
      b.setWeights(a.getWeights());
      const [stepA, stepB] = [stepModel(a), stepModel(b)];
      const statsNames = new Set(stepB.batchless.flatMap((l) => l.statisticsVariables().map((v) => v.name)));
      const reference = new StepOptimizer(optimizer, 1e-3, 1e-2, statsNames);
      const native = compileOrFail(stepA, optimizer, 1e-2);
      for (let i = 0; i < 3; i++) {
        const batch = batchOf(a, i * 16, 16);
        assert.equal(native.run(batch, 8).applied, true);
        const { grads, lossParts } = batchGradients(stepB, batch, 8);
        reference.apply(grads);
        tf.dispose([grads, lossParts]);
      }
      native.syncToModel();
      native.dispose();
      reference.dispose();
      const before = buildBuiltinModel('mlp', { seed: 3 }).getWeights();
      const names = a.weights.map((w) => w.name);
      a.getWeights().forEach((w, i) => {
        const [mine, theirs, start] = [w.dataSync(), b.getWeights()[i].dataSync(), before[i].dataSync()];
        let diff = 0;
        let moved = 0;
        for (let j = 0; j < theirs.length; j++) {
          diff = Math.max(diff, Math.abs(mine[j] - theirs[j]));
          moved = Math.max(moved, Math.abs(theirs[j] - start[j]));
        }
        const largest = Array.from(theirs).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(moved > 0, `${names[i]}: the reference moved`);
        assert.ok(diff <= tolerance * moved + 1e-6 * largest, `${names[i]}: ${diff} apart after moving ${moved}`);
      });
      tf.dispose(before);
      a.dispose();
      b.dispose();
    });
  }
});

describe('in the trainer', () => {
  const data = splitDataset(mnist, { trainCount: 240 });
  const quick = { batchSize: 16, microBatchSize: 4, maxSteps: 4, initSamples: 64, seed: 5, statsEvery: 2 };
  const startOf = (events: TrainEvent[]) => events.find((e): e is StartEvent => e.type === 'start')!;

  test('takes the native step on tensorflow, trains the tfjs model, and holds no tensors across steps', async () => {
    const model = buildBuiltinModel('cnn', { seed: 1 });
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const events: TrainEvent[] = [];
    const tensors = tf.memory().numTensors;
    const summary = await train(model, data, quick, { onEvent: (e) => events.push(e) });
    assert.equal(startOf(events).stepPath, 'native');
    assert.equal(summary.stopped, 'completed');
    assert.equal(summary.steps, 4);
    assert.ok(Number.isFinite(summary.testAccuracy) && summary.peakStepBytes > 0);
    assert.ok(model.getWeights().every((w, i) => w.dataSync().some((v, j) => v !== before[i][j])), 'every weight trained');
    // Same tensors as before the session, apart from the model's own (assign keeps their count).
    assert.equal(tf.memory().numTensors, tensors);
    model.dispose();
  });

  test('the native and generic paths train a session to the same weights, BN moving averages included', async () => {
    const run = async (stepPath: 'native' | 'generic', norm: 'batchless' | 'batch') => {
      const model = buildBuiltinModel('mlp', { seed: 1, norm });
      await train(model, data, { ...quick, stepPath });
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return weights;
    };
    for (const norm of ['batchless', 'batch'] as const) {
      const [native, generic] = [await run('native', norm), await run('generic', norm)];
      assert.equal(native.length, 12);
      // norm1's moving mean (after dense1/kernel, gamma, beta) left its zeros in both.
      if (norm === 'batch') assert.ok(native[3].some((v) => v !== 0) && generic[3].some((v) => v !== 0));
      native.forEach((w, i) => {
        const diff = w.reduce((m, v, j) => Math.max(m, Math.abs(v - generic[i][j])), 0);
        assert.ok(diff <= 2e-5, `${norm}, weight ${i}: ${diff} apart`);
      });
    }
  });

  test('a layer without a native step falls back to the generic step and says which; stepPath native refuses it', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 16 }),
        batchlessNormalization({}),
        tf.layers.dropout({ rate: 0.3, name: 'drop' }),
        tf.layers.dense({ units: 10 }),
      ],
    });
    const events: TrainEvent[] = [];
    await train(model, data, { ...quick, maxSteps: 1 }, { onEvent: (e) => events.push(e) });
    assert.equal(startOf(events).stepPath, 'generic');
    assert.match(startOf(events).stepPathReason ?? '', /'drop' \(Dropout\)/);
    await assert.rejects(train(model, data, { ...quick, stepPath: 'native' }), /native training step cannot run this session: layer 'drop'/);
    model.dispose();
  });

  test('a cancelled session keeps what the native step trained before the cancel', async () => {
    const model = buildBuiltinModel('mlp', { seed: 1 });
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const controller = new AbortController();
    const summary = await train(model, data, { ...quick, maxSteps: 10, statsEvery: 0 }, {
      signal: controller.signal,
      onEvent: (e) => e.type === 'step' && e.step === 2 && controller.abort(),
    });
    assert.equal(summary.stopped, 'cancelled');
    assert.equal(summary.steps, 2);
    assert.ok(model.getWeights().every((w, i) => w.dataSync().some((v, j) => v !== before[i][j])), 'the two steps reached the model');
    model.dispose();
  });

  test('a diverging session stops with the step and cause named, before applying the bad update', async () => {
    const model = buildBuiltinModel('mlp', { seed: 1 });
    const summary = await train(model, data, { ...quick, optimizer: 'sgd', learningRate: 1e30, maxSteps: 6 });
    assert.equal(summary.stopped, 'diverged');
    assert.match(summary.message ?? '', /Training stopped at step \d/);
    assert.ok(model.getWeights().every((w) => w.dataSync().every(Number.isFinite)), 'the model keeps its last finite weights');
    model.dispose();
  });
});
