import * as tf from '@tensorflow/tfjs';
import { strToU8, zipSync } from 'fflate';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { loadModel } from '../../src/engine/convert/load-model';
import { ModelFormatError } from '../../src/engine/convert/model-errors';

// Bad input must end in a ModelFormatError that names the file and the field or layer, never in
// a crash, a hang, a silent change of meaning, or a large allocation. Inputs are the Keras
// fixtures (test/fixtures/make_keras_fixtures.py) with one thing broken each.
// Fixture JSON is edited freely here; its shape is Keras's and the code under test checks it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const FIXTURES = nodePath.resolve(__dirname, '../../../test/fixtures/keras');
let dir = '';

before(async () => {
  await tf.setBackend('cpu');
  dir = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'batchless-bad-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

interface Expected {
  file: string;
  field?: string | RegExp;
  layer?: string;
  message?: RegExp;
}

async function rejectsWith(load: Promise<unknown>, want: Expected): Promise<ModelFormatError> {
  let caught: unknown;
  try {
    const loaded = (await load) as { model?: tf.LayersModel };
    loaded.model?.dispose();
  } catch (e) {
    caught = e;
  }
  assert.ok(
    caught instanceof ModelFormatError,
    `expected a ModelFormatError, got ${String(caught)}`,
  );
  assert.ok(caught.file.startsWith(want.file), `file ${caught.file}, expected ${want.file}`);
  if (typeof want.field === 'string') assert.equal(caught.field, want.field, caught.message);
  if (want.field instanceof RegExp) assert.match(caught.field ?? '', want.field, caught.message);
  if (want.layer !== undefined) assert.equal(caught.layer, want.layer, caught.message);
  if (want.message) assert.match(caught.message, want.message);
  assert.ok(caught.message.startsWith(caught.file), 'the message starts with the file');
  return caught;
}

async function fixtureJson(name: string): Promise<Json> {
  return JSON.parse(await fs.readFile(nodePath.join(FIXTURES, name), 'utf8'));
}

/** Writes `topology` as <name>.json with a copy of `weights` as <name>.weights.h5. */
async function kerasJson(name: string, topology: unknown, weights: string): Promise<string> {
  const path = nodePath.join(dir, `${name}.json`);
  await fs.writeFile(path, JSON.stringify(topology));
  await fs.copyFile(nodePath.join(FIXTURES, weights), nodePath.join(dir, `${name}.weights.h5`));
  return path;
}

test('a Keras JSON without its weights file names the file and the weights', async () => {
  const path = nodePath.join(dir, 'lonely.json');
  await fs.copyFile(nodePath.join(FIXTURES, 'cnn.json'), path);
  await rejectsWith(loadModel(path), {
    file: path,
    field: 'weights',
    message: /lonely\.weights\.h5/,
  });
  const missing = nodePath.join(dir, 'nope.weights.h5');
  await rejectsWith(loadModel(path, { weightsPath: missing }), { file: path, field: 'weights' });
});

test('a missing file, and a weights-only file given as a model, are named', async () => {
  await rejectsWith(loadModel(nodePath.join(dir, 'absent.keras')), {
    file: nodePath.join(dir, 'absent.keras'),
  });
  const weights = nodePath.join(FIXTURES, 'cnn.weights.h5');
  await rejectsWith(loadModel(weights), {
    file: weights,
    field: 'model_config',
    message: /weights-only/,
  });
});

test('an unknown layer class is reported by layer and class_name', async () => {
  const topology = await fixtureJson('cnn.json');
  topology.config.layers[2].class_name = 'FancyNorm';
  const path = await kerasJson('unknown-class', topology, 'cnn.weights.h5');
  await rejectsWith(loadModel(path), {
    file: path,
    layer: 'bn1',
    field: 'class_name',
    message: /FancyNorm/,
  });
});

test('a custom (registered) Keras class is refused, not guessed at', async () => {
  const topology = await fixtureJson('mlp.json');
  Object.assign(topology.config.layers[2], {
    module: 'my_package',
    registered_name: 'Custom>BatchNormalization',
  });
  const path = await kerasJson('custom-class', topology, 'mlp.weights.h5');
  await rejectsWith(loadModel(path), { file: path, layer: 'hidden_bn', field: 'class_name' });
});

test('an unsupported config key or value is reported by layer and key', async () => {
  const topology = await fixtureJson('mlp.json');
  topology.config.layers[2].config.virtual_batch_size = 4;
  let path = await kerasJson('vbs', topology, 'mlp.weights.h5');
  await rejectsWith(loadModel(path), {
    file: path,
    layer: 'hidden_bn',
    field: 'virtual_batch_size',
  });
  delete topology.config.layers[2].config.virtual_batch_size;
  topology.config.layers[1].config.sparsity = 0.5;
  path = await kerasJson('unknown-key', topology, 'mlp.weights.h5');
  await rejectsWith(loadModel(path), { file: path, layer: 'hidden', field: 'sparsity' });
  delete topology.config.layers[1].config.sparsity;
  topology.config.layers[5].config.activation = 'hard_sigmoid';
  path = await kerasJson('activation', topology, 'mlp.weights.h5');
  await rejectsWith(loadModel(path), { file: path, layer: 'probs', field: 'activation' });
});

test('an input shape too large for any model here is refused before tfjs allocates layers', async () => {
  const topology = await fixtureJson('cnn.json');
  topology.config.layers[0].config.batch_shape = [null, 8192, 8192, 1];
  const path = await kerasJson('huge-input', topology, 'cnn.weights.h5');
  await rejectsWith(loadModel(path), { file: path, layer: 'image', field: 'batch_shape' });
});

test('weights of the wrong shape: the first mismatch by layer and weight, before reading', async () => {
  const topology = await fixtureJson('mlp.json');
  topology.config.layers[1].config.units = 17; // the file's hidden/kernel is [10, 16]
  const path = await kerasJson('shape', topology, 'mlp.weights.h5');
  await rejectsWith(loadModel(path), {
    file: nodePath.join(dir, 'shape.weights.h5'),
    layer: 'hidden',
    message: /weight 'kernel': shape \[10, 16\].*\[10, 17\]/,
  });
});

test('a graph whose inputs never exist fails instead of hanging tfjs', async () => {
  const topology = await fixtureJson('residual_keras2.json');
  topology.config.layers[1].inbound_nodes = [[['add', 0, 0, {}]]]; // stem_conv <- add <- ... <- stem_conv
  const path = await kerasJson('cycle', topology, 'residual_keras2.weights.h5');
  await rejectsWith(loadModel(path), { file: path, field: 'inbound_nodes', message: /never/ });
});

test('corrupt or hostile .keras archives', async () => {
  const bytes = await fs.readFile(nodePath.join(FIXTURES, 'mlp.keras'));
  const truncated = nodePath.join(dir, 'truncated.keras');
  await fs.writeFile(truncated, bytes.subarray(0, bytes.length - 100));
  await rejectsWith(loadModel(truncated), { file: truncated, field: 'zip' });

  const evil = nodePath.join(dir, 'evil.keras');
  await fs.writeFile(
    evil,
    zipSync({ 'config.json': strToU8('{}'), '../escape.txt': strToU8('x') }),
  );
  await rejectsWith(loadModel(evil), { file: evil, field: '../escape.txt', message: /'\.\.'/ });

  const absolute = nodePath.join(dir, 'absolute.keras');
  await fs.writeFile(absolute, zipSync({ '/etc/cron.d/x': strToU8('x') }));
  await rejectsWith(loadModel(absolute), {
    file: absolute,
    field: '/etc/cron.d/x',
    message: /absolute/,
  });

  const noWeights = nodePath.join(dir, 'no-weights.keras');
  await fs.writeFile(
    noWeights,
    zipSync({ 'config.json': strToU8('{}'), 'metadata.json': strToU8('{}') }),
  );
  await rejectsWith(loadModel(noWeights), { file: noWeights, field: 'model.weights.h5' });
});

test('corrupt .h5 files', async () => {
  const notHdf5 = nodePath.join(dir, 'text.h5');
  await fs.writeFile(notHdf5, 'this is not HDF5');
  await rejectsWith(loadModel(notHdf5), { file: notHdf5, message: /not an HDF5 file/ });

  const bytes = Buffer.from(await fs.readFile(nodePath.join(FIXTURES, 'cnn.h5')));
  bytes.fill(0xab, 8, 4096); // the superblock and the root group's object header
  const damaged = nodePath.join(dir, 'damaged.h5');
  await fs.writeFile(damaged, bytes);
  await rejectsWith(loadModel(damaged), { file: damaged, message: /corrupt HDF5|unreadable/ });
});

/** Writes residual.keras's model in tfjs format, with `edit` applied to the manifest. */
async function tfjsModel(name: string, edit: (json: Json) => void): Promise<string> {
  const folder = nodePath.join(dir, name);
  await fs.mkdir(folder);
  const loaded = await loadModel(nodePath.join(FIXTURES, 'residual.keras'));
  await loaded.model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      await fs.writeFile(
        nodePath.join(folder, 'weights.bin'),
        new Uint8Array(artifacts.weightData as ArrayBuffer),
      );
      const json = {
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      edit(json);
      await fs.writeFile(nodePath.join(folder, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  loaded.model.dispose();
  return nodePath.join(folder, 'model.json');
}

test("tfjs manifest paths with '..' or absolute paths are refused by file and field", async () => {
  const outside = await tfjsModel(
    'dotdot',
    (j) => (j.weightsManifest[0].paths = ['../weights.bin']),
  );
  await rejectsWith(loadModel(outside), {
    file: outside,
    field: 'weightsManifest[0].paths[0]',
    message: /'\.\.'/,
  });
  const absolute = await tfjsModel('abs', (j) => (j.weightsManifest[0].paths = ['/etc/passwd']));
  await rejectsWith(loadModel(absolute), {
    file: absolute,
    field: 'weightsManifest[0].paths[0]',
    message: /absolute/,
  });
});

test('tfjs manifest sizes are checked against the shard bytes before decoding', async () => {
  const huge = await tfjsModel(
    'huge',
    (j) => (j.weightsManifest[0].weights[0].shape = [16384, 16384]),
  );
  await rejectsWith(loadModel(huge), { file: huge, field: 'weightsManifest[0]', message: /bytes/ });
  const swapped = await tfjsModel('swapped', (j) => {
    const kernel = j.weightsManifest[0].weights.find(
      (w: { name: string }) => w.name === 'head/kernel',
    );
    kernel.shape = [kernel.shape[1], kernel.shape[0]]; // same bytes, wrong shape
  });
  await rejectsWith(loadModel(swapped), {
    file: swapped,
    layer: 'head',
    field: 'head/kernel',
    message: /shape/,
  });
});

// Seeded byte corruption of real files (formerly here) and a few hundred more broken inputs,
// through loadModel and convertModel: read-fuzz.test.ts.
