import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { kerasSnakeCase } from '../../src/engine/convert/keras-weights';
import { LAYER_SPECS } from '../../src/engine/convert/keras-layer-table';
import { ModelFormatError } from '../../src/engine/convert/model-errors';
import { Hdf5Reader } from '../../src/engine/convert/read-hdf5';
import { h5wasm, noteFailure } from '../../src/engine/convert/read-hdf5-wasm';

// References: HDF5 files Keras 3.15.1 wrote (test/fixtures/make_keras_fixtures.py): the group
// names and attributes it chose, and one model's variables stored by it in both its layouts.
// Fixture JSON is edited freely here; its shape is Keras's and the code under test checks it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const FIXTURES = nodePath.resolve(__dirname, '../../../test/fixtures/keras');
const open = async (name: string): Promise<Hdf5Reader> =>
  Hdf5Reader.open(new Uint8Array(readFileSync(nodePath.join(FIXTURES, name))), name);

function classByName(model: Json, out = new Map<string, Json>()): Map<string, Json> {
  for (const layer of model.config.layers as Json[]) {
    out.set(layer.config.name ?? layer.name, layer);
    if (Array.isArray(layer.config.layers)) classByName(layer, out);
  }
  return out;
}

test('kerasSnakeCase names layer groups exactly as Keras 3.15.1 did in its weights files', async () => {
  let checked = 0;
  for (const model of ['cnn', 'residual', 'mlp', 'nested']) {
    const layers = classByName(
      JSON.parse(readFileSync(nodePath.join(FIXTURES, `${model}.json`), 'utf8')),
    );
    const h5 = await open(`${model}.weights.h5`);
    try {
      const walk = (prefix: string): void => {
        for (const group of h5.keys(`${prefix}layers`)) {
          const path = `${prefix}layers/${group}`;
          const name = h5.attr(`${path}/vars`, 'name') as string; // Keras stamps the real name here
          const cls = layers.get(name)?.class_name as string;
          assert.equal(
            group.replace(/_\d+$/, ''),
            kerasSnakeCase(cls),
            `${model}: ${path} (${cls})`,
          );
          checked++;
          if (h5.isGroup(`${path}/layers`)) walk(`${path}/`);
        }
      };
      walk('');
    } finally {
      h5.close();
    }
  }
  assert.ok(checked >= 30, `${checked} groups`);
  assert.equal(kerasSnakeCase('ReLU'), 're_lu');
});

test("the tables' variable order is Keras's own (legacy h5 weight_names order)", async () => {
  for (const model of ['cnn', 'residual', 'mlp']) {
    const layers = classByName(
      JSON.parse(readFileSync(nodePath.join(FIXTURES, `${model}.json`), 'utf8')),
    );
    const h5 = await open(`${model}.h5`);
    try {
      for (const name of h5.stringListAttr('model_weights', 'layer_names') ?? []) {
        const stored = (h5.stringListAttr(`model_weights/${name}`, 'weight_names') ?? []).map((w) =>
          w.split('/').pop(),
        );
        const layer = layers.get(name) as Json;
        assert.deepEqual(
          LAYER_SPECS[layer.class_name].weights(layer.config),
          stored,
          `${model}/${name}`,
        );
      }
    } finally {
      h5.close();
    }
  }
});

test('one variable reads the same from the legacy layout and the Keras 3 layout', async () => {
  const legacy = await open('residual.h5');
  const keras3 = await open('residual.weights.h5');
  try {
    // branch_bn has scale=False, so its vars are beta, moving_mean, moving_variance.
    const fromLegacy = legacy.readFloat32('model_weights/branch_bn/branch_bn/moving_variance', [4]);
    const group = keras3
      .keys('layers')
      .find((g) => keras3.attr(`layers/${g}/vars`, 'name') === 'branch_bn') as string;
    const fromKeras3 = keras3.readFloat32(`layers/${group}/vars/2`, [4]);
    assert.deepEqual(fromKeras3, fromLegacy);
    assert.ok(
      fromLegacy.every((v) => v > 0.3 && v < 2.5),
      'the script drew variances from U(0.3, 2.5)',
    );
  } finally {
    legacy.close();
    keras3.close();
  }
});

test('readFloat32 checks the declared shape first and names the dataset', async () => {
  const h5 = await open('mlp.weights.h5');
  try {
    assert.deepEqual(h5.shape('layers/dense/vars/0'), [10, 16]);
    assert.throws(
      () => h5.readFloat32('layers/dense/vars/0', [16, 10], 'hidden'),
      (e: unknown) =>
        e instanceof ModelFormatError &&
        e.field === 'layers/dense/vars/0' &&
        e.layer === 'hidden' &&
        /\[10, 16\] in the file, the model expects \[16, 10\]/.test(e.message),
    );
    assert.throws(() => h5.readFloat32('layers/dense/vars/9', [16]), /missing dataset/);
    assert.throws(() => h5.keys('no/such/group'), /missing group/);
  } finally {
    h5.close();
  }
});

test('a file that is not HDF5 is refused before h5wasm sees it', async () => {
  await assert.rejects(
    Hdf5Reader.open(new TextEncoder().encode('{"json": true}'), 'x.h5'),
    (e: unknown) => {
      return (
        e instanceof ModelFormatError && e.file === 'x.h5' && /not an HDF5 file/.test(e.message)
      );
    },
  );
});

test('after a wasm abort, the next open gets a fresh h5wasm instance that still reads', async () => {
  const before = await h5wasm();
  noteFailure(new Error('Aborted(native code called abort())'));
  const after = await h5wasm();
  assert.notEqual(after, before);
  const h5 = await open('mlp.weights.h5');
  try {
    assert.deepEqual(h5.shape('layers/dense/vars/0'), [10, 16]);
  } finally {
    h5.close();
  }
  noteFailure(new Error('an ordinary error'));
  assert.equal(await h5wasm(), after);
});
