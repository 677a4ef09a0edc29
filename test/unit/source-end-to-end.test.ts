// The converted fixtures run: the TS/JS ones build TF.js models whose normalization layers are
// the engine's BatchlessNormalization, and the Python ones build Keras models with
// python/batchless_keras (with the Keras Python `scripts/provision-python.js` finds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import * as tf from '@tensorflow/tfjs';
import * as batchless from '../../src/engine/layers/batchless-normalization';
import { applyEdits, rewriteSource } from '../../src/engine/convert/source';

const ROOT = resolve(__dirname, '../../..');
const FIXTURES = join(ROOT, 'test/fixtures/source');

/** The converted fixture as a CommonJS module, run with `batchless` bound to the engine's layer. */
function runConverted(name: string): Record<string, unknown> {
  const input = readFileSync(join(FIXTURES, `${name}.txt`), 'utf8');
  const output = applyEdits(input, rewriteSource(input, name).edits);
  const js = ts.transpileModule(output.replace(/^#!.*/, ''), {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  }).outputText;
  const modules: Record<string, unknown> = { batchless, path };
  const fakeRequire = (id: string) => (id.startsWith('@tensorflow/') ? tf : modules[id]);
  const module = { exports: {} as Record<string, unknown> };
  new Function('require', 'module', 'exports', '__dirname', js)(
    fakeRequire,
    module,
    module.exports,
    FIXTURES,
  );
  return module.exports;
}

function normalizationKinds(model: tf.LayersModel): string[] {
  return model.layers
    .map((layer) => layer.getClassName())
    .filter((name) => /Normalization$/.test(name));
}

test('converted TS/JS fixtures build TF.js models with batchless layers that run', () => {
  const esm = runConverted('esm-namespace.ts') as { buildModel: () => tf.Sequential };
  const cnn = esm.buildModel();
  assert.deepEqual(normalizationKinds(cnn), [
    ...Array<string>(5).fill('BatchlessNormalization'),
    'BatchNormalization', // built from a variable, reported rather than converted
  ]);
  assert.equal(cnn.getLayer('bn_last').getClassName(), 'BatchlessNormalization');
  tf.tidy(() =>
    assert.deepEqual((cnn.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape, [2, 26 * 26 * 16]),
  );

  const aliased = runConverted('aliased-layers.ts') as { model: tf.Sequential };
  assert.deepEqual(normalizationKinds(aliased.model), [
    'BatchlessNormalization',
    'BatchlessNormalization',
    'BatchNormalization',
  ]);
  assert.equal(aliased.model.getLayer('bn1').getClassName(), 'BatchlessNormalization');

  const cjs = runConverted('commonjs.js') as { build: (units: number) => tf.Sequential };
  const dense = cjs.build(3);
  assert.deepEqual(normalizationKinds(dense), ['BatchlessNormalization', 'BatchlessNormalization']);
  tf.tidy(() => assert.deepEqual((dense.predict(tf.ones([4, 10])) as tf.Tensor).shape, [4, 3]));
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const provisioning = require(join(ROOT, 'scripts', 'provision-python.js')) as {
  findPython(): { python?: string; reason?: string };
};
const keras = provisioning.findPython();

test(
  'converted Python fixtures build Keras models with batchless_keras layers',
  {
    skip: keras.python
      ? false
      : `no Python with Keras (${keras.reason}); run \`node scripts/provision-python.js\``,
    timeout: 300000,
  },
  () => {
    const sources = ['keras3_layers.py', 'tf_keras_alias.py', 'named_import.py'].map((name) => {
      const input = readFileSync(join(FIXTURES, name), 'utf8');
      return [name, applyEdits(input, rewriteSource(input, name).edits)];
    });
    // Each converted file runs as a module; `build` (when there is one) builds its model.
    const script = [
      'import json, sys',
      'import keras',
      'counts = {}',
      'for name, source in json.load(sys.stdin):',
      '    scope = {"__name__": name}',
      '    exec(compile(source, name, "exec"), scope)',
      '    model = scope["build"]() if "build" in scope else scope.get("head") or scope.get("model")',
      '    counts[name] = sorted(type(l).__name__ for l in model.layers if "Normalization" in type(l).__name__)',
      'print(json.dumps(counts))',
    ].join('\n');
    const run = spawnSync(keras.python as string, ['-c', script], {
      input: JSON.stringify(sources),
      encoding: 'utf8',
      env: {
        ...process.env,
        PYTHONPATH: join(ROOT, 'python'),
        KERAS_BACKEND: 'tensorflow',
        TF_CPP_MIN_LOG_LEVEL: '3',
      },
    });
    assert.equal(run.status, 0, run.stderr);
    const counts = JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<
      string,
      string[]
    >;
    assert.deepEqual(counts, {
      'keras3_layers.py': Array<string>(6).fill('BatchlessNormalization'),
      'tf_keras_alias.py': Array<string>(3).fill('BatchlessNormalization'),
      'named_import.py': ['BatchlessNormalization'],
    });
  },
);
