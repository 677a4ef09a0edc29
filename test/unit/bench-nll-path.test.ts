// The speed work's regression test: batchGradients computes the NLL's value and its μ/σ gradients
// once per effective batch from per-channel sums instead of differentiating the layer's nll() in
// every micro-batch. Reference: the general path, written out here as the trainer had it
// (task loss + Σ layer.nll(input) through tf.variableGrads over every variable, whole batch), on
// every σ parametrization, gauged and not, dense and convolutional, and a layer called twice.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/engine/backend/select';
import { loadMnist } from '../../src/engine/data/mnist';
import { Batch, reshapeDataset, sliceBatch } from '../../src/engine/data/dataset';
import {
  batchlessNormalization,
  BatchlessNormalization,
} from '../../src/engine/layers/batchless-normalization';
import { withInputObserver } from '../../src/engine/layers/input-observers';
import { buildBuiltinModel } from '../../src/engine/models/builtin';
import { findBatchlessLayers } from '../../src/engine/models/norm-layers';
import { batchGradients, StepModel, stepModelOf } from '../../src/engine/train/batch-gradients';
import { taskLoss } from '../../src/engine/train/task-loss';

before(async () => {
  await setBackend('cpu');
});

/** The general path: one backward pass over task + Σ nll, every variable, the whole batch. */
function reference(
  step: StepModel,
  batch: Batch,
): { grads: Record<string, Float32Array>; parts: number[] } {
  return tf.tidy(() => {
    const x = tf.tensor(batch.x, [batch.size, ...step.inputShape]);
    const y = tf.oneHot(tf.tensor1d(batch.y, 'int32'), step.numClasses);
    const byLayer = new Map<tf.layers.Layer, tf.Scalar[]>();
    const parts: number[] = [];
    const { grads } = tf.variableGrads(() => {
      const out = withInputObserver(
        (layer, input) =>
          byLayer.set(layer, [
            ...(byLayer.get(layer) ?? []),
            tf.keep((layer as BatchlessNormalization).nll(input)),
          ]),
        () => step.model.apply(x, { training: true }) as tf.Tensor,
      );
      const task = taskLoss(out, y, false);
      parts.push(task.dataSync()[0]);
      return tf.addN([task, ...[...byLayer.values()].flat()]) as tf.Scalar;
    }, step.variables);
    for (const layer of step.batchless) parts.push(tf.addN(byLayer.get(layer)!).dataSync()[0]);
    return {
      grads: Object.fromEntries(
        Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array]),
      ),
      parts,
    };
  });
}

function compare(step: StepModel, batch: Batch, micro: number, what: string): void {
  const ref = reference(step, batch);
  const got = batchGradients(step, batch, micro);
  assert.deepEqual(
    Object.keys(got.grads),
    step.variables.map((v) => v.name),
    `${what}: one gradient per variable, in variable order`,
  );
  for (const [name, g] of Object.entries(got.grads)) {
    const a = g.dataSync();
    const e = ref.grads[name];
    const scale = Math.max(...Array.from(e, Math.abs), 1e-12);
    const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - e[i])));
    assert.ok(diff <= 2e-5 * scale + 1e-7, `${what}: ${name} differs by ${diff} (scale ${scale})`);
  }
  // [task, NLL of each layer] (gauged where the layer gauges), means over the batch.
  const parts = Array.from(got.lossParts.dataSync());
  assert.equal(parts.length, 1 + step.batchless.length);
  parts.forEach((p, i) =>
    assert.ok(
      Math.abs(p - ref.parts[i]) <= 1e-5 * Math.max(1, Math.abs(p)),
      `${what}: loss part ${i}: ${p} vs ${ref.parts[i]}`,
    ),
  );
  tf.dispose([got.grads, got.lossParts]);
}

/** Statistics away from the data's, so every NLL gradient is clearly non-zero. */
function perturbStatistics(model: tf.LayersModel, seed: number): void {
  let s = seed;
  const rand = () => (s = (s * 16807) % 2147483647) / 2147483647;
  for (const layer of findBatchlessLayers(model)) {
    const n = layer.getStatistics().mean.length;
    layer.setStatistics(
      Array.from({ length: n }, () => rand() - 0.5),
      Array.from({ length: n }, () => 0.5 + rand()),
    );
  }
}

const mnist = loadMnist({ limit: 24 });

test('dense, every σ parametrization, gauged and not: gradients and NLL values match the general path', () => {
  const input = tf.input({ shape: [784] });
  let h = tf.layers
    .dense({
      units: 12,
      useBias: false,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    })
    .apply(input) as tf.SymbolicTensor;
  h = batchlessNormalization({ name: 'bl_log' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers
    .dense({
      units: 10,
      useBias: false,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    })
    .apply(h) as tf.SymbolicTensor;
  h = batchlessNormalization({ name: 'bl_abs', stdParametrization: 'abs', gauge: false }).apply(
    h,
  ) as tf.SymbolicTensor;
  h = tf.layers
    .dense({ units: 8, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
    .apply(h) as tf.SymbolicTensor;
  h = batchlessNormalization({ name: 'bl_inv', stdParametrization: 'inv', center: false }).apply(
    h,
  ) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) })
    .apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  perturbStatistics(model, 7);
  const step = stepModelOf(model, [784], 10);
  for (const micro of [12, 5, 1])
    compare(step, sliceBatch(mnist, 0, 12), micro, `dense micro ${micro}`);
  model.dispose();
});

test('builtin:cnn (statistics over batch, height and width): micro 1 and 3 of 6', () => {
  const model = buildBuiltinModel('cnn', { norm: 'batchless', seed: 2 });
  perturbStatistics(model, 11);
  const step = stepModelOf(model, [28, 28, 1], 10);
  const batch = sliceBatch(reshapeDataset(mnist, [28, 28, 1]), 0, 6);
  for (const micro of [6, 3, 1]) compare(step, batch, micro, `cnn micro ${micro}`);
  model.dispose();
});

test('a layer called twice: its NLL is the sum over both calls, as before', () => {
  const input = tf.input({ shape: [784] });
  const shared = batchlessNormalization({ name: 'shared' });
  const a = shared.apply(
    tf.layers
      .dense({
        units: 6,
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
      })
      .apply(input),
  ) as tf.SymbolicTensor;
  const b = shared.apply(
    tf.layers
      .dense({
        units: 6,
        useBias: false,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
      })
      .apply(input),
  ) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }) })
    .apply(tf.layers.concatenate().apply([a, b])) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output });
  perturbStatistics(model, 3);
  const step = stepModelOf(model, [784], 10);
  for (const micro of [8, 3])
    compare(step, sliceBatch(mnist, 0, 8), micro, `shared micro ${micro}`);
  model.dispose();
});

test('no tensors leak from the sums path', () => {
  const model = buildBuiltinModel('mlp', { norm: 'batchless', seed: 1 });
  const step = stepModelOf(model, [784], 10);
  const batch = sliceBatch(mnist, 0, 6);
  const first = batchGradients(step, batch, 2);
  tf.dispose([first.grads, first.lossParts]);
  const count = tf.memory().numTensors;
  const again = batchGradients(step, batch, 2);
  tf.dispose([again.grads, again.lossParts]);
  assert.equal(tf.memory().numTensors, count);
  model.dispose();
});
