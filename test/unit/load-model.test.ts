import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { before, test } from 'node:test';
import { loadModel, ModelFileFormat } from '../../src/engine/convert/load-model';
import { ModelFormatError } from '../../src/engine/convert/model-errors';
import { assertArrayClose, flat } from './helpers/tensors';

// Reference: each <model>.probe.json holds fixed inputs and Keras 3.15.1's own predictions
// (model(x, training=False), TensorFlow 2.21 CPU), written by test/fixtures/make_keras_fixtures.py
// next to the .keras, .h5, .json (+ .weights.h5) files it saved from the same trained model.
const FIXTURES = nodePath.resolve(__dirname, '../../../test/fixtures/keras');
/** The brief's bound: 1e-4 absolute, relative where values are large. */
const TOLERANCE = { atol: 1e-4, rtol: 1e-4 };

interface Probe {
  model: string;
  files: Partial<Record<ModelFileFormat, string[]>>;
  inputs: unknown;
  outputs: unknown;
  keras_version: string;
}

const probes: Probe[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.probe.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(nodePath.join(FIXTURES, f), 'utf8')) as Probe);

before(async () => {
  await tf.setBackend('cpu');
});

function predict(model: tf.LayersModel, probe: Probe): Float32Array {
  return tf.tidy(
    () =>
      (model.predict(tf.tensor(probe.inputs as number[])) as tf.Tensor).dataSync() as Float32Array,
  );
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('there are probes for five models in three Keras formats', () => {
  assert.deepEqual(
    probes.map((p) => p.model),
    ['channels_first', 'cnn', 'mlp', 'nested', 'residual'],
  );
  for (const p of probes)
    assert.deepEqual(Object.keys(p.files).sort(), ['h5', 'keras', 'keras-json']);
});

for (const probe of probes.filter((p) => p.model !== 'channels_first')) {
  for (const [format, files] of Object.entries(probe.files)) {
    for (const file of files ?? []) {
      test(`${file} (${format}) reproduces Keras's predictions`, async () => {
        const before = tf.memory().numTensors;
        const loaded = await loadModel(nodePath.join(FIXTURES, file));
        try {
          assert.equal(loaded.format, format);
          assert.equal(loaded.sourcePath, nodePath.join(FIXTURES, file));
          const got = predict(loaded.model, probe);
          const want = flat(probe.outputs);
          assertArrayClose(got, want, TOLERANCE, file);
          // Keep the measured agreement visible in the test log.
          console.log(`# ${file}: max |tfjs − keras| = ${maxAbsDiff(got, want).toExponential(2)}`);
          if (format !== 'keras-json' || file.includes('keras2')) {
            assert.match(loaded.kerasVersion ?? '', /^3\.15\.1/);
          }
        } finally {
          loaded.model.dispose();
        }
        assert.equal(tf.memory().numTensors, before, 'tensors left after dispose');
      });
    }
  }
}

test('every BatchNormalization comes out as tfjs BatchNormalization with its variables', async () => {
  const loaded = await loadModel(nodePath.join(FIXTURES, 'residual.keras'));
  try {
    const bns = loaded.model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    const vars = Object.fromEntries(
      bns.map((l) => [l.name, l.weights.map((w) => w.originalName.split('/').pop())]),
    );
    assert.deepEqual(vars, {
      stem_bn: ['gamma', 'beta', 'moving_mean', 'moving_variance'],
      branch_bn: ['beta', 'moving_mean', 'moving_variance'], // scale=False: no gamma
      shortcut_bn: ['gamma', 'beta', 'moving_mean', 'moving_variance'],
    });
    const stem = bns.find((l) => l.name === 'stem_bn')?.getConfig();
    assert.equal(stem?.epsilon, 1e-2);
  } finally {
    loaded.model.dispose();
  }
});

test('channels_first (BN over axis 1 of [batch, C, L]) is refused in every format', async () => {
  const probe = probes.find((p) => p.model === 'channels_first') as Probe;
  for (const file of Object.values(probe.files).flat()) {
    await assert.rejects(loadModel(nodePath.join(FIXTURES, file as string)), (e: unknown) => {
      assert.ok(e instanceof ModelFormatError, String(e));
      assert.equal(e.layer, 'channel_bn');
      assert.equal(e.field, 'axis');
      assert.ok(e.file.startsWith(nodePath.join(FIXTURES, file as string)));
      return true;
    });
  }
});

/** Writes `model` as a TF.js Layers model with its weights split over two shards. */
async function saveTfjs(model: tf.LayersModel, dir: string): Promise<string> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
      const half = Math.floor(data.length / 2);
      await fs.writeFile(nodePath.join(dir, 'group1-shard1of2.bin'), data.subarray(0, half));
      await fs.writeFile(nodePath.join(dir, 'group1-shard2of2.bin'), data.subarray(half));
      const manifest = [
        { paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs },
      ];
      const json = {
        format: 'layers-model',
        modelTopology: artifacts.modelTopology,
        weightsManifest: manifest,
      };
      await fs.writeFile(nodePath.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return nodePath.join(dir, 'model.json');
}

for (const name of ['cnn', 'residual', 'nested', 'mlp']) {
  test(`${name}: saved by tfjs as model.json + 2 shards, reloads to Keras's predictions`, async () => {
    const probe = probes.find((p) => p.model === name) as Probe;
    const dir = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'batchless-tfjs-'));
    const keras = await loadModel(nodePath.join(FIXTURES, `${name}.keras`));
    try {
      await saveTfjs(keras.model, dir);
      for (const path of [nodePath.join(dir, 'model.json'), dir]) {
        const loaded = await loadModel(path);
        try {
          assert.equal(loaded.format, 'tfjs');
          assert.equal(loaded.sourcePath, nodePath.join(dir, 'model.json'));
          assert.match(loaded.kerasVersion ?? '', /^tfjs-layers/);
          assertArrayClose(predict(loaded.model, probe), flat(probe.outputs), TOLERANCE, name);
        } finally {
          loaded.model.dispose();
        }
      }
    } finally {
      keras.model.dispose();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
}

test('an explicit weightsPath is used instead of the naming convention', async () => {
  const dir = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'batchless-json-'));
  try {
    const json = nodePath.join(dir, 'topology.json');
    await fs.copyFile(nodePath.join(FIXTURES, 'mlp.json'), json);
    const weightsPath = nodePath.join(FIXTURES, 'mlp.weights.h5');
    const loaded = await loadModel(json, { weightsPath });
    try {
      const probe = probes.find((p) => p.model === 'mlp') as Probe;
      assertArrayClose(predict(loaded.model, probe), flat(probe.outputs), TOLERANCE, 'mlp');
    } finally {
      loaded.model.dispose();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a converter-style model.json (Keras config under model_config) keeps Keras node numbering', async () => {
  // The tensorflowjs converter copies Keras's own to_json() config into modelTopology.model_config;
  // nested.json is that config as Keras 3.15.1 wrote it, and its weights come from nested.keras.
  const probe = probes.find((p) => p.model === 'nested') as Probe;
  const dir = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'batchless-converter-'));
  const keras = await loadModel(nodePath.join(FIXTURES, 'nested.keras'));
  try {
    const path = await saveTfjs(keras.model, dir);
    const json = JSON.parse(await fs.readFile(path, 'utf8'));
    const config = JSON.parse(await fs.readFile(nodePath.join(FIXTURES, 'nested.json'), 'utf8'));
    json.modelTopology = { keras_version: '3.15.1', backend: 'tensorflow', model_config: config };
    await fs.writeFile(path, JSON.stringify(json));
    const loaded = await loadModel(path);
    try {
      assert.equal(loaded.kerasVersion, '3.15.1');
      assertArrayClose(predict(loaded.model, probe), flat(probe.outputs), TOLERANCE, 'nested');
    } finally {
      loaded.model.dispose();
    }
  } finally {
    keras.model.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
