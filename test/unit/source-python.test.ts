// Python Keras rewriting: the tokenizer on the string and bracket forms that trip naive
// scanners, which calls are Keras's BatchNormalization, arguments, the import's place, errors.
// Every converted output is compiled by python3 at the end (skipped, with the reason, without it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  SourceRewriteError,
  SourceRewriteResult,
  applyEdits,
  rewriteSource,
} from '../../src/engine/convert/source';
import { tokenizePython } from '../../src/engine/convert/source/python-tokens';

const PYTHON = spawnSync('python3', ['--version']).status === 0;
const outputs: string[] = [];

function convert(text: string): { output: string; result: SourceRewriteResult } {
  const result = rewriteSource(text, 'model.py');
  const output = applyEdits(text, result.edits);
  outputs.push(output);
  return { output, result };
}

function tokenTexts(text: string): string[] {
  const { tokens, problems } = tokenizePython(text);
  assert.deepEqual(problems, []);
  return tokens
    .filter((t) => t.kind !== 'nl' && t.kind !== 'newline')
    .map((t) => text.slice(t.start, t.end));
}

describe('tokenizer', () => {
  test('string prefixes, triple quotes and escapes are single tokens', () => {
    const text = `a = rb'x\\'' + Rf"{y}" + u'z' + """two\nlines "" ' """ + '''q''' + b"\\\\"`;
    assert.deepEqual(tokenTexts(text), [
      'a',
      '=',
      "rb'x\\''",
      '+',
      'Rf"{y}"',
      '+',
      "u'z'",
      '+',
      '"""two\nlines "" \' """',
      '+',
      "'''q'''",
      '+',
      'b"\\\\"',
    ]);
  });

  test('f-strings: nested quotes (Python 3.12), format specs with literal quotes, doubled braces', () => {
    const text = `s = f"{x["k"]:>{w}} {{not a field}} {y!r:'^9}" + f'{"a" if z else f"{q}"}'`;
    assert.deepEqual(tokenTexts(text), [
      's',
      '=',
      `f"{x["k"]:>{w}} {{not a field}} {y!r:'^9}"`,
      '+',
      `f'{"a" if z else f"{q}"}'`,
    ]);
  });

  test('comments, continuation lines and brackets decide where logical lines end', () => {
    const text = 'x = (1,  # one\n     2)\ny = 3 + \\\n    4\n# alone\nz = [\n]\n';
    const { tokens } = tokenizePython(text);
    const logicalEnds = tokens
      .filter((t) => t.kind === 'newline')
      .map((t) => text.slice(0, t.start).split('\n').length);
    assert.deepEqual(logicalEnds, [2, 4, 7]);
    const close = tokens.find((t) => text.slice(t.start, t.end) === ')');
    assert.equal(close?.depth, 0);
  });

  test('problems are reported, not thrown', () => {
    const cases: [string, RegExp][] = [
      ['s = "open', /unterminated string/],
      ["s = '''never closed", /unterminated string/],
      ['f(1, 2', /'\(' is never closed/],
      ['f(1]', /unmatched '\]'/],
      ['x = $', /unexpected character/],
    ];
    for (const [text, message] of cases) {
      assert.match(tokenizePython(text).problems[0]?.message ?? '', message, text);
    }
  });
});

describe('which calls are converted', () => {
  test('every way of importing Keras layers, including tf.keras and star imports', () => {
    const text = [
      'import keras',
      'import tensorflow as tf',
      'from tensorflow import keras as tfk',
      'from keras import layers as KL',
      'from tf_keras import layers',
      'from keras.layers import *',
      'a = keras.layers.BatchNormalization()',
      'b = tf.keras.layers.BatchNormalization()',
      'c = tfk.layers.BatchNormalization()',
      'd = KL.BatchNormalization()',
      'e = layers.BatchNormalization()',
      'f = BatchNormalization()',
      '',
    ].join('\n');
    const { output, result } = convert(text);
    assert.equal(result.converted.length, 6);
    assert.equal(output.split(' = BatchlessNormalization()').length - 1, 6);
  });

  test('look-alikes are left alone: other modules, definitions, strings, comments', () => {
    const text = [
      'import mylib.layers as layers',
      'from torch import nn',
      'x = layers.BatchNormalization(momentum=0.1)',
      'y = nn.BatchNorm2d(3)',
      's = "keras.layers.BatchNormalization()"  # keras.layers.BatchNormalization()',
      'def BatchNormalization(): pass',
      '',
    ].join('\n');
    assert.deepEqual(rewriteSource(text, 'm.py'), {
      language: 'python',
      edits: [],
      converted: [],
      unsupported: [],
    });
  });

  test('calls nested in arguments of other calls, and calls whose arguments call BN', () => {
    const text =
      'from keras import layers\nm = wrap(layers.BatchNormalization(name=pick(layers.BatchNormalization(epsilon=2).name)), momentum=3)\n';
    const { output, result } = convert(text);
    assert.equal(result.converted.length, 2);
    assert.ok(
      output.endsWith(
        'm = wrap(BatchlessNormalization(name=pick(BatchlessNormalization().name)), momentum=3)\n',
      ),
    );
  });
});

describe('arguments', () => {
  test('a BN call inside a dropped argument goes with it, without a record or a report of its own', () => {
    const text =
      'from keras import layers\nx = layers.BatchNormalization(axis=1, momentum=layers.BatchNormalization(epsilon=1).momentum, gamma_constraint=layers.BatchNormalization)\n';
    const { output, result } = convert(text);
    assert.ok(output.endsWith('x = BatchlessNormalization(axis=1)\n'));
    assert.equal(result.converted.length, 1);
    assert.deepEqual(result.unsupported, []);
  });

  test('kept keywords stay as written; each dropped one gets a note, unusual settings called out', () => {
    const text =
      'from keras import layers\nlayers.BatchNormalization(axis=1, center=True, scale=False, name="n", dtype="float32", trainable=True, momentum=0.9, epsilon=1e-3, beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, renorm=True, renorm_clipping=None, renorm_momentum=0.9, virtual_batch_size=4, adjustment=None, synchronized=True, fused=None)\n';
    const { output, result } = convert(text);
    assert.ok(
      output.endsWith(
        'BatchlessNormalization(axis=1, center=True, scale=False, name="n", dtype="float32", trainable=True)\n',
      ),
    );
    const [call] = result.converted;
    assert.equal(call.droppedArguments.length, 17);
    assert.equal(call.notes.length, 17);
    for (const name of [
      'renorm',
      'renorm_clipping',
      'renorm_momentum',
      'virtual_batch_size',
      'adjustment',
      'synchronized',
    ]) {
      const note = call.notes.find((n) => n.startsWith(`${name} (`));
      assert.match(note ?? '', /unusual setting/, name);
    }
    assert.match(call.notes[1], /^epsilon \(1e-3\) dropped: .*σ = sqrt\(moving variance \+ ε\)/);
  });

  test('trainable=False is kept with a note on what it meant for BN', () => {
    const { result } = convert(
      'from keras import layers\nlayers.BatchNormalization(trainable=False)\n',
    );
    assert.deepEqual(result.converted[0].droppedArguments, []);
    assert.match(result.converted[0].notes[0], /^trainable \(False\) kept: .*inference mode/);
  });

  test('commas between lambda parameters do not split arguments', () => {
    const text =
      'from keras import layers\nlayers.BatchNormalization(adjustment=lambda s, t=(1, 2): (s, t), axis=1)\n';
    const { output, result } = convert(text);
    assert.ok(output.endsWith('BatchlessNormalization(axis=1)\n'));
    assert.deepEqual(result.converted[0].droppedArguments, ['adjustment']);
  });

  test("positional arguments are read in Keras's order and passed by name", () => {
    const { output, result } = convert(
      'from keras import layers\nlayers.BatchNormalization(-1, 0.9, 1e-3, False, True, "zeros")\n',
    );
    assert.ok(output.endsWith('BatchlessNormalization(axis=-1, center=False, scale=True)\n'));
    assert.deepEqual(result.converted[0].droppedArguments, [
      'momentum',
      'epsilon',
      'beta_initializer',
    ]);
  });

  const unsupported: [string, RegExp][] = [
    ['**options', /unpacked from \*\*options/],
    ['*args', /unpacked from \*args/],
    ['axis=1, input_shape=(4,)', /'input_shape' .* keras\.Input/],
    ['axis=1, renorm=False, foo=2', /'foo'/],
    ['1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14', /positional argument 14 .* Keras 2 and 3/],
  ];
  for (const [args, reason] of unsupported) {
    test(`BatchNormalization(${args}) is reported and left unchanged`, () => {
      const text = `from keras import layers\nx = layers.BatchNormalization(${args})\n`;
      const result = rewriteSource(text, 'model.py');
      assert.deepEqual(result.edits, []);
      assert.equal(result.unsupported.length, 1);
      assert.match(result.unsupported[0].reason, reason);
      assert.equal(result.unsupported[0].text, `layers.BatchNormalization(${args})`);
      assert.deepEqual([result.unsupported[0].line, result.unsupported[0].column], [2, 5]);
    });
  }
});

describe('the import', () => {
  test('after a module docstring and __future__ imports when there are no other top-level imports', () => {
    const text =
      '"""Doc."""\nfrom __future__ import annotations\n\n\ndef build():\n    from keras import layers\n    return layers.BatchNormalization()\n';
    const { output } = convert(text);
    assert.equal(
      output,
      '"""Doc."""\nfrom __future__ import annotations\nfrom batchless_keras import BatchlessNormalization\n\n\ndef build():\n    from keras import layers\n    return BatchlessNormalization()\n',
    );
  });

  test('after the docstring, or before the first statement, when nothing is imported at the top', () => {
    const doc = convert(
      '"""Doc."""\ndef f():\n    import keras\n    return keras.layers.BatchNormalization()\n',
    );
    assert.ok(
      doc.output.startsWith(
        '"""Doc."""\nfrom batchless_keras import BatchlessNormalization\ndef f():',
      ),
    );
    const bare = convert(
      '# header\n\ndef f():\n    import keras\n    return keras.layers.BatchNormalization()\n',
    );
    assert.ok(
      bare.output.startsWith(
        '# header\n\nfrom batchless_keras import BatchlessNormalization\ndef f():',
      ),
    );
  });

  test('before module-level code that uses it, even if more imports follow that code', () => {
    const text = 'import keras\nbn = keras.layers.BatchNormalization()\nimport os\n';
    assert.equal(
      convert(text).output,
      'import keras\nfrom batchless_keras import BatchlessNormalization\nbn = BatchlessNormalization()\nimport os\n',
    );
  });

  test('a last line without a line break, CRLF line breaks and a multi-line import', () => {
    assert.equal(
      convert(
        'from keras import (\r\n    layers,\r\n)\r\nx = layers.BatchNormalization(\r\n    momentum=1,\r\n    axis=2,\r\n)',
      ).output,
      'from keras import (\r\n    layers,\r\n)\r\nfrom batchless_keras import BatchlessNormalization\r\nx = BatchlessNormalization(\r\n    axis=2,\r\n)',
    );
    assert.equal(convert('import keras').output, 'import keras');
    assert.equal(
      convert('import keras; x = keras.layers.BatchNormalization()').output,
      'from batchless_keras import BatchlessNormalization\nimport keras; x = BatchlessNormalization()',
    );
  });

  test('a file with its own BatchlessNormalization is reported, not rewritten', () => {
    const text =
      'from keras import layers\nclass BatchlessNormalization: pass\nx = layers.BatchNormalization()\n';
    const result = rewriteSource(text, 'model.py');
    assert.deepEqual(result.edits, []);
    assert.match(result.unsupported[0].reason, /defines its own BatchlessNormalization/);
  });
});

describe('errors', () => {
  test('a file that does not tokenize: SourceRewriteError with the position', () => {
    assert.throws(
      () =>
        rewriteSource(
          'from keras import layers\nx = layers.BatchNormalization(name="bn)\n',
          'net.py',
        ),
      (error: unknown) =>
        error instanceof SourceRewriteError &&
        error.message ===
          'net.py:2:36: does not tokenize (unterminated string); fix the syntax before converting',
    );
  });
});

// Last in the file, so it runs once every output above exists.
test(
  'every converted output above compiles',
  { skip: PYTHON ? false : 'python3 is not on PATH, so Python output cannot be compiled here' },
  () => {
    assert.ok(outputs.length >= 10, `${outputs.length} outputs`);
    const script =
      'import json,sys\nfor i,s in enumerate(json.load(sys.stdin)):\n  compile(s, f"output{i}", "exec")\n';
    const run = spawnSync('python3', ['-c', script], {
      input: JSON.stringify(outputs),
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
  },
);
