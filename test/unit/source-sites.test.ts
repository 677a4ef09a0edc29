// findNormalizationSites: what the CodeLens provider sees, for both kinds of layer, while the
// user is typing (syntax errors must not hide the calls that are fine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NormalizationSite, findNormalizationSites } from '../../src/engine/convert/source';

function summary(text: string, sites: NormalizationSite[]): string[] {
  return sites.map(
    (s) => `${s.kind} ${s.line}:${s.column} ${text.slice(s.range.start, s.range.end)}`,
  );
}

test('TS: BN calls and batchless constructions in file order, each with its whole call', () => {
  const text = [
    "import * as tf from '@tensorflow/tfjs';",
    "import * as bl from 'batchless';",
    "import { batchlessNormalization as bn, BatchlessNormalization } from 'batchless';",
    'const a = tf.layers.batchNormalization({',
    '  axis: 1,',
    '});',
    'const b = bn({ axis: 1 }), c = new BatchlessNormalization();',
    'const d = bl.batchlessNormalization(), e = new bl.BatchlessNormalization({});',
    'const f = tf.layers.batchNormalization;',
    'export { a, b, c, d, e, f };',
  ].join('\n');
  assert.deepEqual(summary(text, findNormalizationSites(text, 'model.ts')), [
    'batch 4:11 tf.layers.batchNormalization({\n  axis: 1,\n})',
    'batchless 7:11 bn({ axis: 1 })',
    'batchless 7:32 new BatchlessNormalization()',
    'batchless 8:11 bl.batchlessNormalization()',
    'batchless 8:44 new bl.BatchlessNormalization({})',
  ]);
  const [first] = findNormalizationSites(text, 'model.ts');
  assert.equal(first.callee, 'tf.layers.batchNormalization');
});

test('TS: sites are still found in a file with a syntax error elsewhere', () => {
  const text =
    "import * as tf from '@tensorflow/tfjs';\ntf.layers.batchNormalization();\nconst broken = (;\n";
  assert.deepEqual(summary(text, findNormalizationSites(text, 'model.js')), [
    'batch 2:1 tf.layers.batchNormalization()',
  ]);
});

test('Python: BN calls and BatchlessNormalization calls; references and strings are not sites', () => {
  const text = [
    'from keras import layers',
    'from batchless_keras import BatchlessNormalization',
    'import batchless_keras as bk',
    'x = layers.BatchNormalization(',
    '    momentum=0.9,  # comment with )',
    ')',
    'y = BatchlessNormalization(axis=1)',
    'z = bk.BatchlessNormalization()',
    'isinstance(x, layers.BatchNormalization)',
    's = "layers.BatchNormalization()"',
  ].join('\n');
  assert.deepEqual(summary(text, findNormalizationSites(text, 'model.py')), [
    'batch 4:5 layers.BatchNormalization(\n    momentum=0.9,  # comment with )\n)',
    'batchless 7:5 BatchlessNormalization(axis=1)',
    'batchless 8:5 bk.BatchlessNormalization()',
  ]);
});

test('Python: an unterminated string later in the file does not hide earlier sites', () => {
  const text = 'import keras\nx = keras.layers.BatchNormalization()\ns = "open\n';
  assert.deepEqual(summary(text, findNormalizationSites(text, 'model.py')), [
    'batch 2:5 keras.layers.BatchNormalization()',
  ]);
});

test('line and column are 1-based and count CRLF as one line break', () => {
  const text = 'import keras\r\n\r\n  x = keras.layers.BatchNormalization()\r\n';
  const [site] = findNormalizationSites(text, 'model.py');
  assert.deepEqual([site.line, site.column], [3, 7]);
  assert.equal(site.range.start, text.indexOf('keras.layers'));
});
