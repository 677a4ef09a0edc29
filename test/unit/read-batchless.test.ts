// The readers' side of converted Keras files: BatchlessNormalization entries as Keras 3 and
// Keras 2 write them load as our tfjs layer with the same config and weights; wrong ones are
// refused by layer and key; a BN over a non-last axis stays refused on a plain load.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { convertModel } from '../../src/engine/convert/convert-file';
import { loadModel } from '../../src/engine/convert/load-model';
import { ModelFormatError } from '../../src/engine/convert/model-errors';
import { BatchlessNormalization } from '../../src/engine/layers/batchless-normalization';
import { deeplyNestedSequential } from './helpers/json-mutations';
import { copyFixture } from './helpers/keras-fixtures';

before(async () => {
  await tf.setBackend('cpu');
});

/** A converted copy of mlp.json (Keras 3 style entry) with `edit` applied to its batchless entry. */
async function convertedMlp(edit?: (entry: Record<string, unknown>) => void): Promise<string> {
  const path = copyFixture('mlp.json');
  await convertModel(path, { inPlace: true });
  if (edit) {
    const json = JSON.parse(readFileSync(path, 'utf8')) as {
      config: { layers: Record<string, unknown>[] };
    };
    edit(json.config.layers[2]);
    writeFileSync(path, JSON.stringify(json));
  }
  return path;
}

async function refusal(path: string): Promise<ModelFormatError> {
  try {
    (await loadModel(path)).model.dispose();
  } catch (e) {
    assert.ok(e instanceof ModelFormatError, String(e));
    return e;
  }
  return assert.fail('loaded');
}

test('a converted entry loads as BatchlessNormalization with its config and stored σ', async () => {
  const loaded = await loadModel(await convertedMlp());
  try {
    const layer = loaded.model.getLayer('hidden_bn');
    assert.ok(layer instanceof BatchlessNormalization);
    assert.equal(layer.stdParametrization, 'log');
    assert.deepEqual(layer.axis, [-1]);
    assert.equal(layer.epsilon, 1e-5);
    assert.deepEqual(
      layer.weights.map((w) => w.originalName),
      ['hidden_bn/mean', 'hidden_bn/std', 'hidden_bn/gamma', 'hidden_bn/beta'],
    );
  } finally {
    loaded.model.dispose();
  }
});

test('a batchless entry from another module, or with a bad setting, is refused by layer and key', async () => {
  const module = await refusal(await convertedMlp((e) => (e['module'] = 'someone_else')));
  assert.equal(module.layer, 'hidden_bn');
  assert.equal(module.field, 'class_name');
  const param = await refusal(
    await convertedMlp(
      (e) => ((e['config'] as Record<string, unknown>)['std_parametrization'] = 'sqrt'),
    ),
  );
  assert.equal(param.layer, 'hidden_bn');
  assert.equal(param.field, 'std_parametrization');
  assert.match(param.message, /'log', 'abs', 'inv'/);
});

test('models nested absurdly deep are refused by field instead of overflowing the stack', async () => {
  const path = copyFixture('mlp.json');
  writeFileSync(path, deeplyNestedSequential(5000));
  const e = await refusal(path);
  assert.equal(e.field, 'layers');
  assert.match(e.message, /nested more than 32 deep/);
});

test('a BN over a non-last axis: refused on a plain load, with a pointer to converting it', async () => {
  const e = await refusal(copyFixture('channels_first.keras'));
  assert.equal(e.layer, 'channel_bn');
  assert.equal(e.field, 'axis');
  assert.match(e.message, /batchless convert/);
});
