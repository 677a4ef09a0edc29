// The tfjs layer contract: config round trip, serialization in a saved model, argument validation,
// no leaked tensors, shared axes. Values are checked against the closed form y = (a − μ)/σ·γ + β.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  BatchlessNormalization,
  batchlessNormalization,
} from '../../src/engine/layers/batchless-normalization';
import { withInputObserver } from '../../src/engine/layers/input-observers';
import { assertArrayClose, assertTensorClose } from './helpers/tensors';

before(async () => {
  await tf.setBackend('cpu');
});

test('getConfig round-trips through fromConfig', () => {
  const layer = batchlessNormalization({
    axis: [1, 3],
    epsilon: 1e-3,
    stdParametrization: 'inv',
    gauge: false,
    center: false,
    initialMean: 0.5,
    initialStd: 2,
    name: 'bln',
  });
  const config = layer.getConfig();
  const copy = tf.serialization.SerializationMap.getMap().classNameMap.BatchlessNormalization[1](
    BatchlessNormalization,
    config,
  ) as BatchlessNormalization;
  assert.deepEqual(copy.getConfig(), config);
  assert.equal(config.stdParametrization, 'inv');
  assert.deepEqual(config.axis, [1, 3]);
});

test('a model with the layer saves to and loads from the tfjs format with its weights', async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 4 }),
      batchlessNormalization({ stdParametrization: 'abs', name: 'bln' }),
    ],
  });
  const layer = model.getLayer('bln') as BatchlessNormalization;
  layer.setStatistics([0.1, 0.2, 0.3, 0.4], [1.5, 2, 0.5, 1]);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(
      async (a) => (
        (artifacts = a),
        { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
      ),
    ),
  );
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
  const reloaded = loaded.getLayer('bln');
  assert.equal(reloaded.getClassName(), 'BatchlessNormalization');
  assert.deepEqual(
    reloaded.weights.map((w) => w.originalName.split('/').pop()),
    ['mean', 'std', 'gamma', 'beta'],
  );
  assertArrayClose(
    (reloaded as BatchlessNormalization).getStatistics().std,
    [1.5, 2, 0.5, 1],
    { atol: 1e-6 },
    'std',
  );
  const x = tf.randomNormal([5, 3], 0, 1, 'float32', 7);
  assertTensorClose(
    loaded.predict(x) as tf.Tensor,
    model.predict(x) as tf.Tensor,
    { atol: 1e-6, rtol: 0 },
    'prediction',
  );
});

test('invalid arguments are rejected with the bad value in the message', () => {
  assert.throws(() => batchlessNormalization({ epsilon: -1 }), /epsilon .* got -1/);
  assert.throws(
    () => batchlessNormalization({ stdParametrization: 'sqrt' as never }),
    /got 'sqrt'/,
  );
  assert.throws(() => batchlessNormalization({ initialStd: 0 }), /initialStd .* got 0/);
  assert.throws(() => batchlessNormalization({ axis: [] }), /axis .* got \[\]/);
  const layer = batchlessNormalization({ axis: 0 });
  assert.throws(() => layer.build([null, 4]), /axis \[0\] does not fit/);
});

test('statistics on shared axes: one Gaussian per (height, channel), computed in closed form', () => {
  const layer = batchlessNormalization({ axis: [1, 3] });
  layer.build([null, 2, 3, 2]);
  const mean = [1, 2, 3, 4];
  const std = [0.5, 1, 2, 4];
  layer.setStatistics(mean, std);
  const x = tf.randomNormal([2, 2, 3, 2], 0, 3, 'float32', 3);
  const y = layer.apply(x) as tf.Tensor;
  const xs = x.arraySync() as number[][][][];
  const expected = xs.map((n) =>
    n.map((row, h) => row.map((col) => col.map((v, c) => (v - mean[h * 2 + c]) / std[h * 2 + c]))),
  );
  assertTensorClose(y, expected, { atol: 1e-5, rtol: 1e-5 }, 'output');
});

test('forward, NLL and their gradients leak no tensors', () => {
  const layer = batchlessNormalization();
  layer.build([null, 4]);
  const x = tf.randomNormal([8, 4]);
  const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () => tf.add(tf.sum(layer.apply(x) as tf.Tensor), layer.nll(x)) as tf.Scalar,
      weights,
    );
    value.dispose();
    tf.dispose(grads);
  };
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
});

test('input observers see each call and are removed afterwards', () => {
  const layer = batchlessNormalization();
  const x = tf.ones([2, 3]);
  const seen: number[][] = [];
  withInputObserver(
    (_l, input) => seen.push(input.shape),
    () => layer.apply(x),
  );
  layer.apply(x);
  assert.deepEqual(seen, [[2, 3]]);
});
