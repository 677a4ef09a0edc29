// Where the editor puts "Convert to batchless" lenses (src/views/normalization-lines.ts): real
// calls get one, calls quoted in strings, docstrings or comments do not. Reference: the fixtures'
// own text, with the expected lines worked out by hand below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blankStringsAndComments, normalizationLines } from '../../src/views/normalization-lines';

test('TypeScript: calls get lenses; strings, templates, line and block comments do not', () => {
  const source = [
    "import * as tf from '@tensorflow/tfjs';", // 0
    'const model = tf.sequential();', // 1
    'model.add(tf.layers.batchNormalization({ axis: -1 }));', // 2
    "const hint = 'tf.layers.batchNormalization() is slow';", // 3
    '// model.add(tf.layers.batchNormalization());', // 4
    '/* old:', // 5
    '   model.add(tf.layers.batchNormalization());', // 6
    '*/', // 7
    'const doc = `use batchNormalization(', // 8
    '  here`;', // 9
    'const quoted = "a \\" batchNormalization(";', // 10
    'model.add(layers.batchNormalization', // 11
    '  ({}));', // 12
  ].join('\n');
  assert.deepEqual(normalizationLines(source, 'typescript', 'model.ts'), [2, 11]);
  assert.deepEqual(normalizationLines(source, 'javascriptreact', 'model.jsx'), [2, 11]);
});

test('Python: calls get lenses; comments, strings and triple-quoted docstrings do not', () => {
  const source = [
    'import keras', // 0
    'def build():', // 1
    '    """Builds a model with layers.BatchNormalization() after each conv.', // 2
    "    keras.layers.BatchNormalization(axis=1) is the NCHW form.", // 3
    '    """', // 4
    "    # x = keras.layers.BatchNormalization()(x)", // 5
    "    name = 'BatchNormalization('", // 6
    '    x = keras.layers.BatchNormalization(momentum=0.9)(x)', // 7
    "    y = BatchNormalization()(x)  # and BatchNormalization( again", // 8
  ].join('\n');
  assert.deepEqual(normalizationLines(source, 'python', 'model.py'), [7, 8]);
});

test('JSON model files: BatchNormalization class names, by line', () => {
  const json = '{\n "layers": [\n  {"class_name": "Dense"},\n  {"class_name": "BatchNormalization", "config": {}}\n ]\n}';
  assert.deepEqual(normalizationLines(json, 'json', 'model.json'), [3]);
  assert.deepEqual(normalizationLines('x', 'markdown', 'README.md'), []);
});

test('blanking keeps every offset and newline, so lines and columns stay the original ones', () => {
  const source = "a = 'x\\'y' # c\nb = \"\"\"d\ne\"\"\"\n";
  const blanked = blankStringsAndComments(source, 'python');
  assert.equal(blanked.length, source.length);
  assert.deepEqual(blanked.split('\n').map((l) => l.length), source.split('\n').map((l) => l.length));
  assert.equal(blanked.split('\n')[0].trimEnd(), 'a =');
  assert.equal(blanked.split('\n')[1].trimEnd(), 'b =');
});

test('an unterminated string or comment blanks to the end instead of throwing', () => {
  assert.deepEqual(normalizationLines('/* open\nbatchNormalization(', 'typescript', 'a.ts'), []);
  assert.deepEqual(normalizationLines('x = """open\nBatchNormalization(', 'python', 'a.py'), []);
  assert.deepEqual(normalizationLines("s = 'open\nlayers.BatchNormalization()", 'python', 'a.py'), [1]);
});
