// Engine <-> Keras parity on real Keras fixtures (test/fixtures/keras, Keras 3.15.1): the engine
// converts each BN model to a batchless `.keras`; Keras loads it (python/batchless_keras) and must
// (a) compute the engine's outputs on the same inputs and (b) take the same SGD step on the same
// batch: every variable, μ/σ (trained by the NLL) and γ/β/kernels (task loss), after one step in
// Keras's train_on_batch vs the engine's train() (batch = micro-batch = 16, and micro-batches of
// 1 accumulated). Keras's side is test/python/keras_parity.py. Skipped, saying why, without Keras.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/engine/backend/select';
import { convertLayersModel } from '../../src/engine/convert/bn-to-batchless';
import { convertModel } from '../../src/engine/convert/convert-file';
import { loadModel } from '../../src/engine/convert/load-model';
import type { Dataset } from '../../src/engine/data/dataset';
import { flattenLayers } from '../../src/engine/models/norm-layers';
import { outputIsProbability } from '../../src/engine/train/task-loss';
import { train } from '../../src/engine/train/trainer';
import { KERAS_FIXTURES, kerasProbes } from './helpers/keras-fixtures';
import { findKerasPython, noPythonMessage, REPO_ROOT, runPython, tail } from './helpers/python';

const FIXTURES = ['mlp', 'cnn'];
const BATCH = 16;
const LEARNING_RATE = 0.1;
const OUTPUT_TOLERANCE = 1e-5;
const STEP_TOLERANCE = 1e-4;
const PREFIX = '@@batchless-parity ';
const script = nodePath.join(REPO_ROOT, 'test', 'python', 'keras_parity.py');

type Variables = Record<string, { shape: number[]; values: number[] }>;

interface Difference {
  worst: string;
  max_abs: number;
  max_scaled: number;
}

interface ParityResult {
  name: string;
  batchless_layers: string[];
  outputs: { max_abs: number; max_scaled: number };
  before: Difference;
  step: Difference & { per_variable: Record<string, { max_abs: number; max_scaled: number }> };
  micro_step: Difference;
  keras_loss: number;
  moved: Record<string, number>;
  /** For models ending in softmax: the batch's smallest p(label) and largest probability. */
  min_label_probability?: number;
  max_probability?: number;
}

/** Every variable by `<layer path>/<variable>`, the names keras_parity.py gives Keras's. */
function variablesOf(model: tf.LayersModel): Variables {
  const out: Variables = {};
  for (const { layer, path } of flattenLayers(model)) {
    for (const w of layer.weights) {
      const name = `${path}/${w.originalName.split('/').pop()}`;
      out[name] = { shape: w.shape as number[], values: Array.from(w.read().dataSync()) };
    }
  }
  return out;
}

/** The frameworks draw different dropout masks; a comparable step needs none (Keras: rate 0 too). */
function disableDropout(model: tf.LayersModel): void {
  for (const { layer } of flattenLayers(model)) {
    if (layer.getClassName() === 'Dropout') (layer as unknown as { rate: number }).rate = 0;
  }
}

/** The converted model after one SGD step on the whole batch, in micro-batches of `micro`. */
async function engineStep(model: tf.LayersModel, data: Dataset, micro: number): Promise<Variables> {
  disableDropout(model);
  const summary = await train(
    model,
    { train: data },
    {
      batchSize: BATCH,
      microBatchSize: micro,
      maxSteps: 1,
      optimizer: 'sgd',
      learningRate: LEARNING_RATE,
      init: 'keep',
      statsEvery: 0,
    },
  );
  assert.equal(summary.steps, 1, summary.message);
  return variablesOf(model);
}

async function engineCase(name: string, dir: string): Promise<Record<string, unknown>> {
  const source = nodePath.join(KERAS_FIXTURES, `${name}.keras`);
  const keras = nodePath.join(dir, `${name}.batchless.keras`);
  await convertModel(source, { out: keras });
  const probe = kerasProbes.find((p) => p.model === name);
  assert.ok(probe, `no probe for ${name}`);
  const loaded = await loadModel(source, { forConversion: true });
  const convert = async () => (await convertLayersModel(loaded.model)).model;
  const [model, microModel] = [await convert(), await convert()];
  try {
    const inputShape = model.inputs[0].shape.slice(1) as number[];
    const classes = model.outputs[0].shape[1] as number;
    // The probe's inputs and seeded random ones: a batch of 16 with fixed labels.
    const x = tf.tidy(() =>
      tf.concat([
        tf.tensor(probe.inputs as number[][]),
        tf.randomNormal([BATCH - 4, ...inputShape], 0, 1, 'float32', 7),
      ]),
    );
    const labels = Int32Array.from({ length: BATCH }, (_, i) => i % classes);
    const outputs = tf.tidy(() => (model.predict(x) as tf.Tensor).arraySync());
    const data: Dataset = {
      name: `${name} parity batch`,
      source: 'probe inputs + seeded normal',
      inputShape,
      numClasses: classes,
      count: BATCH,
      x: x.dataSync() as Float32Array,
      y: labels,
    };
    const inputs = x.arraySync();
    x.dispose();
    const engineBefore = variablesOf(model);
    return {
      name,
      keras,
      inputs,
      engine_outputs: outputs,
      train_x: inputs,
      train_y: Array.from(labels),
      from_probabilities: outputIsProbability(model),
      learning_rate: LEARNING_RATE,
      engine_before: engineBefore,
      engine_after: await engineStep(model, data, BATCH),
      engine_micro_after: await engineStep(microModel, data, 1),
    };
  } finally {
    model.dispose();
    microModel.dispose();
    loaded.model.dispose();
  }
}

const lookup = findKerasPython();
const suite = 'the engine and Keras compute the same outputs and the same SGD step';

if (!lookup.python) {
  test(suite, (t) => t.skip(noPythonMessage(lookup)));
} else {
  const python = lookup.python;
  const dir = mkdtempSync(nodePath.join(os.tmpdir(), 'batchless-parity-'));
  before(async () => {
    await setBackend('cpu');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test(suite, { timeout: 600_000 }, async (t) => {
    const cases = [];
    for (const name of FIXTURES) cases.push(await engineCase(name, dir));
    const casesFile = nodePath.join(dir, 'cases.json');
    writeFileSync(casesFile, JSON.stringify(cases));
    const run = await runPython<ParityResult>(python, [script, 'parity', casesFile], PREFIX);
    assert.equal(run.code, 0, tail(run));
    assert.equal(run.results.length, FIXTURES.length, tail(run));
    for (const r of run.results) {
      await t.test(r.name, (s) => {
        const fmt = (d: { max_abs: number; max_scaled: number }) =>
          `max abs ${d.max_abs.toExponential(2)}, scaled ${d.max_scaled.toExponential(2)}`;
        s.diagnostic(`batchless layers in Keras: ${r.batchless_layers.join(', ')}`);
        s.diagnostic(`outputs (inference, ${BATCH} inputs): ${fmt(r.outputs)}`);
        s.diagnostic(`variables as loaded: ${fmt(r.before)} (worst ${r.before.worst})`);
        s.diagnostic(`one SGD step, batch ${BATCH}: ${fmt(r.step)} (worst ${r.step.worst})`);
        s.diagnostic(`one SGD step, engine micro-batches of 1: ${fmt(r.micro_step)}`);
        const statistics = Object.keys(r.moved).filter((n) => /\/(mean|std)$/.test(n));
        s.diagnostic(
          `largest move in the step: μ/σ ${Math.max(...statistics.map((n) => r.moved[n])).toExponential(2)}, ` +
            `all ${Math.max(...Object.values(r.moved)).toExponential(2)}`,
        );
        if (r.min_label_probability !== undefined && r.max_probability !== undefined) {
          // Keras's train step uses the softmax's logits, the engine clipped probabilities
          // (task-loss.ts): equal gradients only while nothing is clipped at 1e-7.
          s.diagnostic(
            `softmax output: min p(label) ${r.min_label_probability.toExponential(2)}, max p ${r.max_probability.toFixed(6)}`,
          );
          assert.ok(r.min_label_probability > 1e-6 && r.max_probability < 1 - 1e-6, 'no clipping');
        }
        assert.ok(r.batchless_layers.length > 0, 'Keras loaded batchless layers');
        assert.ok(r.outputs.max_scaled <= OUTPUT_TOLERANCE, `outputs: ${fmt(r.outputs)}`);
        assert.ok(r.before.max_scaled <= 1e-7, `loaded variables: ${fmt(r.before)}`);
        // The step must move μ/σ and the rest, or agreeing on it would prove nothing.
        for (const n of statistics) assert.ok(r.moved[n] > 1e-4, `${n} did not move`);
        assert.ok(r.step.max_scaled <= STEP_TOLERANCE, `step: ${fmt(r.step)} at ${r.step.worst}`);
        assert.ok(r.micro_step.max_scaled <= STEP_TOLERANCE, `micro: ${fmt(r.micro_step)}`);
      });
    }
  });
}
