// The batchless layer against the authors' own Keras layer. Reference: test/fixtures/layer-reference.json,
// copied from ../shared/fixtures/layer-reference.json (the reference code's
// batchless_normalization.py run under TensorFlow 2.21 / Keras 3; task loss = sum(output * task_weights)).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { BatchlessNormalization } from '../../src/engine/layers/batchless-normalization';
import { StdParametrization } from '../../src/engine/layers/std-parametrization';
import { assertArrayClose, assertTensorClose, flat } from './helpers/tensors';

interface ReferenceCase {
  input: number[][][][];
  task_weights: number[][][][];
  mean: number[];
  std: number[];
  gamma: number[];
  beta: number[];
  output: number[][][][];
  nll_gauged: number;
  grad_task: Record<'mean' | 'std_variable' | 'gamma' | 'beta' | 'input', unknown>;
  grad_nll: Record<'mean' | 'std_variable' | 'gamma' | 'beta' | 'input', unknown>;
}

const fixturePath = path.join(
  __dirname,
  '..',
  '..',
  '..',
  'test',
  'fixtures',
  'layer-reference.json',
);
const reference = JSON.parse(fs.readFileSync(fixturePath, 'utf8')) as Record<
  StdParametrization,
  ReferenceCase
>;
const TOLERANCE = { atol: 1e-5, rtol: 1e-5 };

function layerFor(kind: StdParametrization, ref: ReferenceCase): BatchlessNormalization {
  const layer = new BatchlessNormalization({ stdParametrization: kind });
  layer.build([null, 3, 3, 2]);
  // The reference initialised its stored variable as log σ, σ (ε added on use) or 1/σ.
  const stored = ref.std.map((s) => (kind === 'log' ? Math.log(s) : kind === 'abs' ? s : 1 / s));
  layer.setWeights([
    tf.tensor1d(ref.mean),
    tf.tensor1d(stored),
    tf.tensor1d(ref.gamma),
    tf.tensor1d(ref.beta),
  ]);
  return layer;
}

before(async () => {
  await tf.setBackend('cpu');
});

for (const kind of ['log', 'abs', 'inv'] as const) {
  describe(`BatchlessNormalization matches the reference layer (${kind})`, () => {
    const ref = reference[kind];

    test('forward output', () => {
      const layer = layerFor(kind, ref);
      const y = layer.apply(tf.tensor(ref.input)) as tf.Tensor;
      assertTensorClose(y, ref.output, TOLERANCE, 'output');
    });

    test('gauged NLL', () => {
      const layer = layerFor(kind, ref);
      const nll = layer.nll(tf.tensor(ref.input));
      assertArrayClose(nll.dataSync(), [ref.nll_gauged], TOLERANCE, 'nll');
    });

    test('task-loss gradients reach gamma, beta and the input, never mean or std', () => {
      const layer = layerFor(kind, ref);
      const x = tf.tensor(ref.input);
      const taskWeights = tf.tensor(ref.task_weights);
      const taskLoss = () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, taskWeights)) as tf.Scalar;
      const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(taskLoss, weights);
      // Weights come in the documented order: mean, std, gamma, beta.
      const [dMean, dStd, dGamma, dBeta] = weights.map((w) => grads[w.name]);
      assertArrayClose(dGamma.dataSync(), flat(ref.grad_task.gamma), TOLERANCE, 'd task/d gamma');
      assertArrayClose(dBeta.dataSync(), flat(ref.grad_task.beta), TOLERANCE, 'd task/d beta');
      assert.equal(ref.grad_task.mean, null);
      assertArrayClose(dMean.dataSync(), [0, 0], { atol: 0, rtol: 0 }, 'd task/d mean');
      assertArrayClose(dStd.dataSync(), [0, 0], { atol: 0, rtol: 0 }, 'd task/d std');
      const dx = tf.grad((input: tf.Tensor) =>
        tf.sum(tf.mul(layer.apply(input) as tf.Tensor, taskWeights)),
      )(x);
      assertTensorClose(dx, ref.grad_task.input, TOLERANCE, 'd task/d input');
    });

    test('NLL gradients reach mean and std, never gamma, beta or the input', () => {
      const layer = layerFor(kind, ref);
      const x = tf.tensor(ref.input);
      const [mean, std] = layer.statisticsVariables();
      const { grads } = tf.variableGrads(() => layer.nll(x), [mean, std]);
      assertArrayClose(
        grads[mean.name].dataSync(),
        flat(ref.grad_nll.mean),
        TOLERANCE,
        'd nll/d mean',
      );
      assertArrayClose(
        grads[std.name].dataSync(),
        flat(ref.grad_nll.std_variable),
        TOLERANCE,
        'd nll/d std',
      );
      assert.deepEqual(flat(ref.grad_nll.gamma), [0, 0]);
      assert.throws(
        () =>
          tf.variableGrads(
            () => layer.nll(x),
            layer.trainableWeights.slice(2).map((w) => w.read() as tf.Variable),
          ),
        /Cannot find a connection|with respect to/,
        'gamma and beta are not on the NLL path at all',
      );
      const dx = tf.grad((input: tf.Tensor) => layer.nll(input))(x);
      assertTensorClose(dx, ref.grad_nll.input, { atol: 0, rtol: 0 }, 'd nll/d input');
    });
  });
}
