// TS/JS rewriting, case by case: which calls are TF.js's batchNormalization, what each argument
// becomes, what is reported instead of rewritten, and where the import goes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ts from 'typescript';
import {
  SourceRewriteError,
  SourceRewriteResult,
  applyEdits,
  rewriteSource,
} from '../../src/engine/convert/source';

const TF = "import * as tf from '@tensorflow/tfjs';\n";

function convert(
  text: string,
  fileName = 'model.ts',
): { output: string; result: SourceRewriteResult } {
  const result = rewriteSource(text, fileName);
  const output = applyEdits(text, result.edits);
  const diagnostics = ts.transpileModule(output, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { allowJs: true, jsx: ts.JsxEmit.Preserve },
  }).diagnostics;
  assert.deepEqual(
    diagnostics?.map((d) => d.messageText),
    [],
    `output parses:\n${output}`,
  );
  return { output, result };
}

describe('which calls are converted', () => {
  test('namespace, named, aliased and required bindings of every TF.js package', () => {
    const text = [
      "import * as a from '@tensorflow/tfjs-node';",
      "import { layers } from '@tensorflow/tfjs-layers';",
      "import { layers as L } from '@tensorflow/tfjs-node-gpu';",
      "import c = require('@tensorflow/tfjs');",
      'a.layers.batchNormalization();',
      'layers.batchNormalization();',
      'L.batchNormalization();',
      'c.layers.batchNormalization();',
      '',
    ].join('\n');
    const { output, result } = convert(text);
    assert.equal(result.converted.length, 4);
    assert.equal(output.split('batchlessNormalization();').length - 1, 4);
  });

  test('look-alikes are left alone: other modules, shadowing names, strings, comments', () => {
    const text = [
      "import * as tf from './my-tf';",
      "import * as real from '@tensorflow/tfjs';",
      'tf.layers.batchNormalization({ momentum: 1 });',
      'function f(real: any) { return real.layers.batchNormalization(); }',
      '{ const real = { layers: { batchNormalization() {} } }; real.layers.batchNormalization(); }',
      "const s = 'real.layers.batchNormalization()'; // real.layers.batchNormalization()",
      'real.layers.dense({ units: 1 });',
      'export { f, s };',
      '',
    ].join('\n');
    const result = rewriteSource(text, 'model.ts');
    assert.deepEqual(result, { language: 'typescript', edits: [], converted: [], unsupported: [] });
  });

  test('optional chaining and calls inside other expressions are converted in place', () => {
    const text = `${TF}const xs = [1, 2].map((i) => tf.layers?.batchNormalization({ name: \`bn\${i}\`, momentum: i }));\n`;
    const { output } = convert(text);
    assert.match(output, /map\(\(i\) => batchlessNormalization\(\{ name: `bn\$\{i\}` \}\)\)/);
  });

  test('the global `tf` of a <script> tag: found, but reported instead of rewritten', () => {
    const text =
      'const model = tf.sequential();\nmodel.add(tf.layers.batchNormalization({ axis: 1 }));\n';
    const result = rewriteSource(text, 'page.js');
    assert.deepEqual(result.edits, []);
    assert.match(result.unsupported[0].reason, /not imported here .*<script> tag/);
    assert.equal(result.unsupported[0].text, 'tf.layers.batchNormalization({ axis: 1 })');
    const local = rewriteSource(`const tf = makeTf();\n${text.split('\n')[1]}\n`, 'page.js');
    assert.deepEqual(local.unsupported, [], 'a declared tf that is not TF.js is not reported');
  });

  test('.tsx and .jsx files parse as JSX', () => {
    const text = `${TF}export const View = () => <div>{String(tf.layers.batchNormalization({ axis: 1 }))}</div>;\n`;
    assert.equal(convert(text, 'view.tsx').result.converted.length, 1);
    assert.equal(convert(text, 'view.jsx').result.language, 'javascript');
  });
});

describe('arguments', () => {
  test('kept arguments stay as written; dropped ones are named with a note each', () => {
    const text = `${TF}tf.layers.batchNormalization({ axis: 1, center: false, scale: true, name: 'n', trainable: false, inputShape: [3], batchInputShape: [null, 3], batchSize: 2, dtype: 'float32', inputDType: 'float32', momentum: 0.9, epsilon: 1e-3, betaInitializer: 'zeros', gammaInitializer: 'ones', movingMeanInitializer: 'zeros', movingVarianceInitializer: 'ones', betaRegularizer: 'l2', gammaRegularizer: 'l2', betaConstraint: 'nonNeg', gammaConstraint: 'nonNeg', weights: [] });\n`;
    const { output, result } = convert(text);
    assert.match(
      output,
      /batchlessNormalization\(\{ axis: 1, center: false, scale: true, name: 'n', trainable: false, inputShape: \[3\], batchInputShape: \[null, 3\], batchSize: 2, dtype: 'float32', inputDType: 'float32' \}\)/,
    );
    const [call] = result.converted;
    assert.deepEqual(call.droppedArguments, [
      'momentum',
      'epsilon',
      'betaInitializer',
      'gammaInitializer',
      'movingMeanInitializer',
      'movingVarianceInitializer',
      'betaRegularizer',
      'gammaRegularizer',
      'betaConstraint',
      'gammaConstraint',
      'weights',
    ]);
    assert.equal(call.notes.length, 11);
    assert.match(
      call.notes[1],
      /^epsilon \(1e-3\) dropped: .*folds ε_BN into σ = sqrt\(moving variance \+ ε\)\.$/,
    );
    assert.match(call.notes[0], /^momentum \(0\.9\) dropped: .*no moving averages/);
    assert.match(call.notes[2], /γ = 1, β = 0/);
    assert.match(call.notes[6], /no regularizers or constraints/);
  });

  test('a BN call inside a kept argument is converted too, and shows in the outer record', () => {
    const text = `${TF}tf.layers.batchNormalization({ name: tf.layers.batchNormalization({ epsilon: 1 }).name, momentum: tf.layers.batchNormalization().momentum });\n`;
    const { output, result } = convert(text);
    assert.ok(
      output.endsWith('batchlessNormalization({ name: batchlessNormalization({}).name });\n'),
    );
    assert.equal(result.converted.length, 2);
    assert.equal(
      result.converted[0].replacement,
      'batchlessNormalization({ name: batchlessNormalization({}).name })',
    );
  });

  test('quoted and shorthand keys are read like plain ones', () => {
    const text = `${TF}const momentum = 0.5;\ntf.layers.batchNormalization({ 'axis': 1, momentum, "epsilon": 2 });\n`;
    const { output, result } = convert(text);
    assert.match(output, /batchlessNormalization\(\{ 'axis': 1 \}\)/);
    assert.deepEqual(result.converted[0].droppedArguments, ['momentum', 'epsilon']);
  });

  const unsupported: [string, RegExp][] = [
    ['bnArgs', /not an object literal \(bnArgs\)/],
    ['{ ...common, axis: 1 }', /the argument \.\.\.common cannot be checked/],
    ["{ ['ax' + 'is']: 1 }", /cannot be checked/],
    [
      '{ axis: 1, renorm: true }',
      /argument 'renorm' of tf\.layers\.batchNormalization has no known batchless counterpart/,
    ],
    ['{ initialStd: 2 }', /'initialStd'/],
    ['{ axis: 1 }, extra', /takes one argument object; this call passes 2/],
    ['{ get axis() { return 1; } }', /cannot be checked/],
  ];
  for (const [args, reason] of unsupported) {
    test(`batchNormalization(${args}) is reported and left unchanged`, () => {
      const text = `${TF}declare const bnArgs: object, common: object, extra: object;\ntf.layers.batchNormalization(${args});\n`;
      const result = rewriteSource(text, 'model.ts');
      assert.deepEqual(result.edits, []);
      assert.equal(result.unsupported.length, 1);
      assert.match(result.unsupported[0].reason, reason);
      assert.deepEqual(
        { line: result.unsupported[0].line, column: result.unsupported[0].column },
        { line: 3, column: 1 },
      );
      assert.equal(result.unsupported[0].text, `tf.layers.batchNormalization(${args})`);
    });
  }

  test('a reference that is not a call is reported; other calls in the file still convert', () => {
    const text = `${TF}const make = tf.layers.batchNormalization;\ntf.layers.batchNormalization();\nexport { make };\n`;
    const { result } = convert(text);
    assert.equal(result.converted.length, 1);
    assert.match(result.unsupported[0].reason, /without being called/);
  });
});

describe('layout', () => {
  const cases: [string, string, string][] = [
    ['middle of one line', '{ axis: 1, momentum: 2, center: true }', '{ axis: 1, center: true }'],
    ['end of one line', '{ axis: 1, momentum: 2 }', '{ axis: 1 }'],
    ['end with trailing comma', '{ axis: 1, momentum: 2, }', '{ axis: 1, }'],
    ['start of one line', '{ momentum: 2, axis: 1 }', '{ axis: 1 }'],
    ['everything', '{ momentum: 2, epsilon: 3 }', '{}'],
    ['everything but a comment', '{ /* why */ momentum: 2 }', '{ /* why */ }'],
    [
      'own lines',
      '{\n  axis: 1,\n  momentum: 2,\n  center: true,\n}',
      '{\n  axis: 1,\n  center: true,\n}',
    ],
    ['own last line, no trailing comma', '{\n  axis: 1,\n  momentum: 2\n}', '{\n  axis: 1\n}'],
    ['closing brace on the last line', '{\n  axis: 1,\n  momentum: 2 }', '{\n  axis: 1 }'],
    [
      'comment after the last kept element',
      '{\n  axis: 1, // a\n  momentum: 2 }',
      '{\n  axis: 1 // a\n }',
    ],
    ['two dropped on one line', '{\n  momentum: 2, epsilon: 3,\n  axis: 1,\n}', '{\n  axis: 1,\n}'],
    ['dropped first on the brace line', '{ momentum: 2,\n  axis: 1 }', '{ axis: 1 }'],
    [
      'trailing comment goes with its line',
      '{\n  momentum: 2, // slow\n  axis: 1,\n}',
      '{\n  axis: 1,\n}',
    ],
    [
      'comment on its own line stays',
      '{\n  // tuned\n  momentum: 2,\n  axis: 1,\n}',
      '{\n  // tuned\n  axis: 1,\n}',
    ],
  ];
  for (const [what, before, after] of cases) {
    test(what, () => {
      const { output } = convert(`${TF}tf.layers.batchNormalization(${before});\n`);
      assert.equal(output.split('\n').slice(2).join('\n'), `batchlessNormalization(${after});\n`);
    });
  }

  test('CRLF files keep CRLF, including the added import', () => {
    const text = `${TF}tf.layers.batchNormalization({\n  axis: 1,\n  momentum: 2,\n});\n`.replace(
      /\n/g,
      '\r\n',
    );
    const { output } = convert(text);
    assert.equal(
      output,
      "import * as tf from '@tensorflow/tfjs';\r\nimport { batchlessNormalization } from 'batchless';\r\nbatchlessNormalization({\r\n  axis: 1,\r\n});\r\n",
    );
  });
});

describe('the import', () => {
  test('ES modules get an import after the last import, CommonJS a require after the last require', () => {
    const esm = convert(`${TF}import { x } from './x';\ntf.layers.batchNormalization(); x();\n`);
    assert.match(
      esm.output,
      /^import \{ x \} from '\.\/x';\nimport \{ batchlessNormalization \} from 'batchless';$/m,
    );
    const cjs = convert(
      "const tf = require('@tensorflow/tfjs');\nconst fs = require('fs');\n\ntf.layers.batchNormalization(fs);\n",
      'train.js',
    );
    assert.equal(cjs.result.unsupported.length, 1);
    const cjs2 = convert(
      'const tf = require(\'@tensorflow/tfjs\')\nconst fs = require("fs")\ntf.layers.batchNormalization()\n',
      'train.cjs',
    );
    assert.equal(
      cjs2.output,
      'const tf = require(\'@tensorflow/tfjs\')\nconst fs = require("fs")\nconst { batchlessNormalization } = require("batchless")\nbatchlessNormalization()\n',
    );
  });

  test('a require inside a function puts the import after the directives at the top', () => {
    const text =
      "#!/usr/bin/env node\n'use strict';\nfunction build() {\n  const tf = require('@tensorflow/tfjs');\n  return tf.layers.batchNormalization();\n}\nmodule.exports = build;\n";
    const { output, result } = convert(text, 'build.js');
    assert.equal(result.importAdded, "const { batchlessNormalization } = require('batchless');");
    assert.ok(
      output.startsWith(
        "#!/usr/bin/env node\n'use strict';\nconst { batchlessNormalization } = require('batchless');\nfunction build() {",
      ),
    );
  });

  test('an existing namespace import of the package is used instead of a new import', () => {
    const text = `${TF}import * as bl from 'batchless';\ntf.layers.batchNormalization();\n`;
    const { output, result } = convert(text);
    assert.equal(result.importAdded, undefined);
    assert.ok(output.endsWith('bl.batchlessNormalization();\n'));
  });

  test('a file declaring its own batchlessNormalization is reported, not rewritten', () => {
    const text = `${TF}function batchlessNormalization() {}\ntf.layers.batchNormalization();\nbatchlessNormalization();\n`;
    const result = rewriteSource(text, 'model.ts');
    assert.deepEqual(result.edits, []);
    assert.match(result.unsupported[0].reason, /already declares another 'batchlessNormalization'/);
  });
});

describe('errors', () => {
  test('syntax errors: SourceRewriteError with the position, nothing rewritten', () => {
    const text = `${TF}tf.layers.batchNormalization({ axis: 1, );\n`;
    assert.throws(
      () => rewriteSource(text, 'src/model.ts'),
      (error: unknown) =>
        error instanceof SourceRewriteError &&
        error.line === 2 &&
        /^src\/model\.ts:2:\d+: does not parse \(.+\); fix the syntax before converting$/.test(
          error.message,
        ),
    );
  });

  test('unknown extensions are refused; the language option overrides the extension', () => {
    assert.throws(() => rewriteSource(TF, 'notes.txt'), SourceRewriteError);
    assert.throws(() => rewriteSource(TF, 'Untitled-1'), /no extension/);
    const result = rewriteSource(`${TF}tf.layers.batchNormalization();\n`, 'Untitled-1', {
      language: 'typescript',
    });
    assert.equal(result.converted.length, 1);
  });
});
