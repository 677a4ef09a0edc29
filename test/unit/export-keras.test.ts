// Export to Keras: any model the engine loads becomes a Keras 3 `.keras` (write-keras3-archive.ts).
// Without Python: the archive's layout (entries, config.json form, Keras 3 weight groups named
// like Keras's own) and the engine's read-back. With Keras (python/batchless_keras): Keras loads
// the export of the bundled tfjs example and of the engine's load of every Keras fixture, and
// reproduces the engine's predictions.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { exportKerasCommand } from '../../src/cli/commands/export-keras';
import { setBackend } from '../../src/engine/backend/select';
import { convertLayersModel } from '../../src/engine/convert/bn-to-batchless';
import { exportToKeras } from '../../src/engine/convert/export-keras';
import { loadModel } from '../../src/engine/convert/load-model';
import { ModelFormatError } from '../../src/engine/convert/model-errors';
import { Hdf5Reader } from '../../src/engine/convert/read-hdf5';
import { writeTfjsModel } from '../../src/engine/convert/write-tfjs';
import { KERAS_FIXTURES } from './helpers/keras-fixtures';
import { findKerasPython, REPO_ROOT, runPython, tail } from './helpers/python';

const EXAMPLE = nodePath.join(REPO_ROOT, 'examples', 'mnist-bn-mlp', 'model.json');
const dir = mkdtempSync(nodePath.join(os.tmpdir(), 'batchless-export-'));

before(async () => {
  await setBackend('cpu');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI command in this process; returns its exit code and the --json summary. */
async function cliExport(args: string[]): Promise<{ code: number; summary: { output?: string } }> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => printed.push(a.join(' '));
  try {
    const code = await exportKerasCommand([...args, '--json', '--backend', 'cpu']);
    return { code, summary: JSON.parse(printed.join('\n')) as { output?: string } };
  } finally {
    console.log = log;
  }
}

test('export-keras writes a tfjs model.json as a Keras 3 archive laid out like Keras writes one', async () => {
  const out = nodePath.join(dir, 'mnist.keras');
  const { code, summary } = await cliExport([EXAMPLE, '--out', out]);
  assert.equal(code, 0);
  assert.equal(summary.output, out);
  const entries = unzipSync(readFileSync(out));
  assert.deepEqual(Object.keys(entries), ['metadata.json', 'config.json', 'model.weights.h5']);
  const config = JSON.parse(new TextDecoder().decode(entries['config.json'])) as {
    class_name: string;
    config: { layers: { class_name: string; registered_name: string | null; module: string }[] };
  };
  assert.equal(config.class_name, 'Sequential');
  const layers = config.config.layers;
  assert.deepEqual(
    layers.map((l) => l.class_name),
    [
      'InputLayer',
      'Dense',
      'BatchlessNormalization',
      'Activation',
      'Dense',
      'BatchlessNormalization',
      'Activation',
      'Dense',
    ],
  );
  const batchless = layers.filter((l) => l.class_name === 'BatchlessNormalization');
  for (const l of batchless) {
    assert.equal(l.registered_name, 'batchless>BatchlessNormalization');
    assert.equal(l.module, 'batchless_keras');
  }
  const h5 = await Hdf5Reader.open(entries['model.weights.h5'], 'model.weights.h5');
  try {
    // Keras's own group names: class in snake case, numbered per class in layer order.
    assert.deepEqual(h5.keys('layers').sort(), [
      'activation',
      'activation_1',
      'batchless_normalization',
      'batchless_normalization_1',
      'dense',
      'dense_1',
      'dense_2',
    ]);
    assert.equal(h5.attr('layers/batchless_normalization_1/vars', 'name'), 'bn2');
    assert.deepEqual(h5.keys('layers/batchless_normalization/vars'), ['0', '1', '2', '3']);
    assert.deepEqual(h5.shape('layers/dense/vars/0'), [784, 128]);
    assert.equal(h5.attr('vars', 'name'), 'mnist_bn_mlp');
  } finally {
    h5.close();
  }
});

test('the exported archive reads back into the engine with the converted model’s predictions', async () => {
  const out = nodePath.join(dir, 'readback.keras');
  const summary = await exportToKeras(EXAMPLE, { out });
  assert.equal(summary.layers.length, 2);
  assert.ok(summary.parity?.passed);
  const original = await loadModel(EXAMPLE);
  const converted = (await convertLayersModel(original.model)).model;
  const reread = await loadModel(out);
  const x = tf.randomNormal([16, 784], 0, 1, 'float32', 3);
  const diff = tf.tidy(
    () =>
      tf
        .max(
          tf.abs(tf.sub(converted.predict(x) as tf.Tensor, reread.model.predict(x) as tf.Tensor)),
        )
        .dataSync()[0],
  );
  tf.dispose([x]);
  [original.model, converted, reread.model].forEach((m) => m.dispose());
  assert.equal(diff, 0);
});

test('a layer class Keras export does not know is refused, naming the layer; nothing is written', async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 2, name: 'd' }),
      tf.layers.leakyReLU({ name: 'leaky' }),
    ],
  });
  const source = await writeTfjsModel(model, nodePath.join(dir, 'leaky'));
  model.dispose();
  const out = nodePath.join(dir, 'leaky.keras');
  await assert.rejects(exportToKeras(source, { out }), (e: unknown) => {
    assert.ok(e instanceof ModelFormatError, String(e));
    assert.equal(e.layer, 'leaky');
    return true;
  });
  assert.throws(() => readFileSync(out), /ENOENT/);
});

test('exporting onto the model itself is refused (that is convert --in-place, with a backup)', async () => {
  const keras = nodePath.join(KERAS_FIXTURES, 'mlp.keras');
  const before = readFileSync(keras);
  await assert.rejects(exportToKeras(keras, { out: keras }), /is the model being exported/);
  assert.deepEqual(readFileSync(keras), before);
});

const lookup = findKerasPython();
test(
  'Keras loads every export and reproduces the engine’s predictions',
  { timeout: 600_000 },
  async (t) => {
    if (!lookup.python) return t.skip(`no Python with Keras: ${lookup.reason}`);
    const sources = [
      ['mnist-bn-mlp (tfjs)', EXAMPLE],
      ...['mlp', 'cnn', 'residual', 'nested'].map((m) => [
        `${m} (Keras fixture)`,
        nodePath.join(KERAS_FIXTURES, `${m}.keras`),
      ]),
    ];
    const cases = [];
    for (const [name, source] of sources) {
      const keras = nodePath.join(dir, `${name.split(' ')[0]}.export.keras`);
      await exportToKeras(source, { out: keras });
      const loaded = await loadModel(keras);
      const shape = loaded.model.inputs[0].shape.map((d, i) => (i === 0 ? 8 : (d as number)));
      const x = tf.randomNormal(shape, 0, 1, 'float32', 11);
      cases.push({
        name,
        keras,
        inputs: x.arraySync(),
        engine_outputs: tf.tidy(() => (loaded.model.predict(x) as tf.Tensor).arraySync()),
      });
      x.dispose();
      loaded.model.dispose();
    }
    const casesFile = nodePath.join(dir, 'outputs.json');
    writeFileSync(casesFile, JSON.stringify(cases));
    const script = nodePath.join(REPO_ROOT, 'test', 'python', 'keras_parity.py');
    const run = await runPython<{
      name: string;
      batchless_layers: string[];
      outputs: { max_abs: number; max_scaled: number };
    }>(lookup.python, [script, 'outputs', casesFile], '@@batchless-parity ');
    assert.equal(run.code, 0, tail(run));
    assert.equal(run.results.length, cases.length, tail(run));
    for (const r of run.results) {
      t.diagnostic(
        `${r.name}: batchless ${r.batchless_layers.join(', ')}; outputs max abs ${r.outputs.max_abs.toExponential(2)}`,
      );
      assert.ok(r.batchless_layers.length > 0, r.name);
      assert.ok(r.outputs.max_scaled <= 1e-5, `${r.name}: ${r.outputs.max_scaled}`);
    }
  },
);
