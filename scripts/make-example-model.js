#!/usr/bin/env node
// Regenerates examples/mnist-bn-mlp: a small batch-normalized MLP trained on real MNIST by the
// engine itself (1 epoch, batch 64, seed 0), saved in the TF.js Layers format. The demo converts it.
// Run after `npm run compile`: node scripts/make-example-model.js
'use strict';
const path = require('path');
const out = path.join(__dirname, '..', 'out', 'src', 'engine');
const tf = require('@tensorflow/tfjs');
const { setBackend } = require(path.join(out, 'backend', 'select'));
const { loadSessionData } = require(path.join(out, 'data', 'session-split'));
const { train } = require(path.join(out, 'train', 'trainer'));
const { writeTfjsModel } = require(path.join(out, 'convert', 'write-tfjs'));

(async () => {
  await setBackend();
  const init = (i) => tf.initializers.glorotUniform({ seed: 100 + i });
  const model = tf.sequential({
    name: 'mnist_bn_mlp',
    layers: [
      tf.layers.dense({ inputShape: [784], units: 128, useBias: false, kernelInitializer: init(0), name: 'dense1' }),
      tf.layers.batchNormalization({ name: 'bn1' }),
      tf.layers.activation({ activation: 'relu', name: 'relu1' }),
      tf.layers.dense({ units: 64, useBias: false, kernelInitializer: init(1), name: 'dense2' }),
      tf.layers.batchNormalization({ name: 'bn2' }),
      tf.layers.activation({ activation: 'relu', name: 'relu2' }),
      tf.layers.dense({ units: 10, kernelInitializer: init(2), name: 'logits' }),
    ],
  });
  const data = loadSessionData('mnist', 0, [784]);
  const summary = await train(model, data, { batchSize: 64, epochs: 1, seed: 0 });
  const file = await writeTfjsModel(model, path.join(__dirname, '..', 'examples', 'mnist-bn-mlp'));
  console.log(`wrote ${file}: test accuracy ${(summary.testAccuracy * 100).toFixed(2)}% after ${summary.steps} steps`);
})();
