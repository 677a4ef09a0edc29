// The product's central promise (method.md, "Why memory falls"): the gradient of a batch of B
// processed as accumulated micro-batches equals the full-batch gradient for batchless models, and
// differs for BN models. Reference: the same engine's full-batch gradient on the same weights and data.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/engine/backend/select';
import { loadMnist } from '../../src/engine/data/mnist';
import { reshapeDataset, sliceBatch } from '../../src/engine/data/dataset';
import {
  buildBuiltinModel,
  builtinInputShape,
  BuiltinModelName,
} from '../../src/engine/models/builtin';
import { checkAccumulation } from '../../src/engine/train/accumulation-check';
import { initializeFromData } from '../../src/engine/train/data-init';
import { findBatchlessLayers } from '../../src/engine/models/norm-layers';

const mnist = loadMnist({ limit: 64 });

function batchFor(name: BuiltinModelName, size: number) {
  const data = reshapeDataset(mnist, builtinInputShape(name));
  return sliceBatch(data, 0, size);
}

before(async () => {
  await setBackend(); // the default (native TensorFlow here), as users run it
});

for (const name of ['mlp', 'cnn'] as const) {
  describe(`builtin:${name}`, () => {
    for (const micro of [1, 5]) {
      test(`batchless: accumulated micro-batches of ${micro} equal the full batch of 16 (≤ 1e-5 relative)`, () => {
        const model = buildBuiltinModel(name, { norm: 'batchless', seed: 1 });
        // Realistic statistics, so the NLL gradients are not trivially zero.
        initializeFromData(
          model,
          findBatchlessLayers(model),
          batchFor(name, 32),
          builtinInputShape(name),
        );
        const report = checkAccumulation(
          model,
          batchFor(name, 16),
          micro,
          builtinInputShape(name),
          10,
        );
        assert.equal(report.variables.length, model.trainableWeights.length);
        assert.ok(
          report.maxRelDiff <= 1e-5,
          `max relative difference ${report.maxRelDiff} (${JSON.stringify(report.variables)})`,
        );
        assert.ok(
          report.variables.some((v) => /norm1\/mean/.test(v.variable)),
          'μ gradients are compared too',
        );
        assert.deepEqual(report.batchNormLayers, []);
      });
    }

    test('batch normalization: accumulated micro-batch gradients differ, and the report says why', () => {
      const model = buildBuiltinModel(name, { norm: 'batch', seed: 1 });
      const before = model.getWeights().map((w) => Array.from(w.dataSync()));
      const report = checkAccumulation(model, batchFor(name, 16), 4, builtinInputShape(name), 10);
      assert.ok(
        report.maxRelDiff > 1e-2,
        `BN should not accumulate exactly, got ${report.maxRelDiff}`,
      );
      assert.deepEqual(report.batchNormLayers, ['norm1', 'norm2']);
      assert.match(report.explanation, /batch normalization .* own mean and variance/);
      const after = model.getWeights().map((w) => Array.from(w.dataSync()));
      assert.deepEqual(after, before, 'moving averages restored');
    });
  });
}

test('no tensors leak across accumulation checks', () => {
  const model = buildBuiltinModel('mlp', { norm: 'batchless', seed: 2 });
  const batch = batchFor('mlp', 8);
  checkAccumulation(model, batch, 2, [784], 10);
  const count = tf.memory().numTensors;
  checkAccumulation(model, batch, 2, [784], 10);
  checkAccumulation(model, batch, 1, [784], 10);
  assert.equal(tf.memory().numTensors, count);
});
