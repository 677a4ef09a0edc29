// Randomly truncated and mutated fixtures: the rewriter either returns a result or throws
// SourceRewriteError, quickly; a result with edits always leaves a file that still parses (TS/JS:
// TypeScript's parser; Python: python3's compile, when the mutated input itself compiled).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import {
  SourceRewriteError,
  SourceRewriteResult,
  applyEdits,
  findNormalizationSites,
  rewriteSource,
} from '../../src/engine/convert/source';
import { seededRandom } from '../../src/engine/data/random';

const FIXTURES = resolve(__dirname, '../../../test/fixtures/source');
const ROUNDS = 400;
const SLOW_MS = 2000;
const PYTHON = spawnSync('python3', ['--version']).status === 0;

/** Fixture inputs with the file name the rewriter should see (`.txt` dropped). */
const fixtures = readdirSync(FIXTURES)
  .filter((f) => /\.(py|txt)$/.test(f) && !f.includes('.expected.'))
  .sort()
  .map((f) => ({ name: f.replace(/\.txt$/, ''), text: readFileSync(join(FIXTURES, f), 'utf8') }));

const SNIPPETS = [
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '=',
  "'",
  '"',
  '"""',
  '`',
  '#',
  '//',
  '/*',
  '*/',
  '\\',
  '\n',
  '\r\n',
  ' ',
  '    ',
  ';',
  'momentum: 1',
  'epsilon=2',
  'axis=',
  '...x',
  '**kw',
  '*a',
  'tf.layers.batchNormalization(',
  'layers.BatchNormalization(',
  'BatchNormalization',
  'f"{',
  'import keras\n',
  "import * as tf from '@tensorflow/tfjs';\n",
  'def ',
  'batchlessNormalization',
];

/** Lines that are valid on their own in some fixture's language, to insert whole. */
const LINES = [
  'x = layers.BatchNormalization(momentum=0.9)(x)',
  '    # a comment',
  '  model.add(tf.layers.batchNormalization({ axis: 1, epsilon: 2 }));',
  'const y = { momentum: 1 };',
  '',
];

/**
 * One random edit. Character-level edits mostly break the syntax (exercising refusal);
 * line-level ones mostly keep it (exercising the rewrite on files it has never seen).
 */
function mutate(text: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  const at = pick(text.length + 1);
  const span = 1 + pick(12);
  const lines = text.split('\n');
  const line = pick(lines.length);
  switch (pick(8)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + text.slice(at + span);
    case 2:
      return text.slice(0, at) + SNIPPETS[pick(SNIPPETS.length)] + text.slice(at);
    case 3:
      return text.slice(0, at) + text.slice(Math.max(0, at - span), at) + text.slice(at);
    case 4:
      lines.splice(line, 1);
      return lines.join('\n');
    case 5:
      lines.splice(line, 0, lines[pick(lines.length)]);
      return lines.join('\n');
    case 6:
      lines.splice(line, 0, LINES[pick(LINES.length)]);
      return lines.join('\n');
    default:
      return lines.slice(0, line).join('\n');
  }
}

function scriptSyntaxErrors(text: string, fileName: string): string[] {
  const output = ts.transpileModule(text, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { allowJs: true, jsx: ts.JsxEmit.Preserve },
  });
  return (output.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

/** For each source, the SyntaxError python3's compile() raises, or null. */
function pythonCompileErrors(sources: string[]): (string | null)[] {
  const script = [
    'import json, sys, warnings',
    'warnings.simplefilter("ignore")',
    'out = []',
    'for s in json.load(sys.stdin):',
    '    try:',
    '        compile(s, "fuzz.py", "exec"); out.append(None)',
    '    except (SyntaxError, ValueError) as e:',
    '        out.append(str(e))',
    'print(json.dumps(out))',
  ].join('\n');
  const run = spawnSync('python3', ['-c', script], {
    input: JSON.stringify(sources),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as (string | null)[];
}

test(
  'mutated fixtures: a result or a SourceRewriteError, fast, and edits keep the file parsing',
  { timeout: 120000 },
  (t) => {
    const random = seededRandom(20240611);
    const python: { input: string; output: string; what: string }[] = [];
    const counts = { result: 0, edited: 0, refused: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const fixture = fixtures[round % fixtures.length];
      let text = fixture.text;
      for (let k = 1 + Math.floor(random() * 2); k > 0; k--) text = mutate(text, random);
      const what = `round ${round} (${fixture.name})`;

      const started = Date.now();
      let result: SourceRewriteResult | undefined;
      try {
        result = rewriteSource(text, fixture.name);
      } catch (error) {
        assert.ok(error instanceof SourceRewriteError, `${what}: threw ${String(error)}`);
        counts.refused++;
      }
      const sites = findNormalizationSites(text, fixture.name);
      assert.ok(Date.now() - started < SLOW_MS, `${what}: took ${Date.now() - started} ms`);
      assert.ok(
        sites.every((s) => s.range.start < s.range.end && s.range.end <= text.length),
        what,
      );
      if (!result) continue;
      counts.result++;
      const output = applyEdits(text, result.edits);
      if (result.edits.length === 0) continue;
      counts.edited++;
      if (fixture.name.endsWith('.py')) python.push({ input: text, output, what });
      else
        assert.deepEqual(
          scriptSyntaxErrors(output, fixture.name),
          [],
          `${what}: output parses\n${output}`,
        );
    }
    // The seed must exercise all three outcomes, or the test checks less than it claims.
    assert.ok(counts.refused > 20 && counts.edited > 100, JSON.stringify(counts));
    t.diagnostic(JSON.stringify(counts));
    if (!PYTHON) return;
    const errors = pythonCompileErrors(python.flatMap((p) => [p.input, p.output]));
    python.forEach((p, i) => {
      if (errors[2 * i] !== null) return;
      assert.equal(
        errors[2 * i + 1],
        null,
        `${p.what}: the input compiles, so the output must\n${p.output}`,
      );
    });
  },
);

/**
 * A random BN call: kept and dropped arguments in random order, laid out with random line breaks,
 * comments (trailing and on their own lines) and trailing commas.
 */
function randomCall(python: boolean, random: () => number): { text: string; kept: string[] } {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const kept = ['axis', 'center', 'scale', 'name'];
  const dropped = python
    ? ['momentum', 'epsilon', 'renorm', 'fused']
    : ['momentum', 'epsilon', 'betaInitializer'];
  const comment = python ? '# note' : pick(['// note', '/* note */']);
  const names = Array.from({ length: Math.floor(random() * 6) }, () =>
    pick(random() < 0.5 ? kept : dropped),
  );
  const unique = [...new Set(names)];
  const separators = [', ', ',\n  ', `, ${comment}\n  `, `,\n  ${comment}\n  `, ',', ' ,  '];
  let body = pick(['', ' ', '\n  ', `${comment}\n  `]);
  unique.forEach((name, i) => {
    body += python ? `${name}=${name.length}` : `${name}: ${name.length}`;
    if (i < unique.length - 1) body += pick(separators);
  });
  if (unique.length > 0)
    body += pick(['', ',', ', ', '\n', ',\n', ` ${comment}\n`, `, ${comment}\n`]);
  const text = python
    ? `from keras import layers\nx = layers.BatchNormalization(${body})\n`
    : `import * as tf from '@tensorflow/tfjs';\nexport const x = tf.layers.batchNormalization({${body}});\n`;
  return { text, kept: unique.filter((n) => kept.includes(n)) };
}

/** Argument names of the converted call, as TypeScript parses the output. */
function scriptArgumentNames(output: string): string[] | undefined {
  const file = ts.createSourceFile('out.ts', output, ts.ScriptTarget.Latest, true);
  let names: string[] | undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.getText(file) === 'batchlessNormalization') {
      const [arg] = node.arguments;
      names =
        arg && ts.isObjectLiteralExpression(arg)
          ? arg.properties.map((p) => p.name?.getText(file) ?? '?')
          : [];
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return names;
}

test(
  'random layouts of kept and dropped arguments: exactly the kept ones remain, in order',
  { timeout: 60000 },
  () => {
    const random = seededRandom(7);
    const python: { output: string; kept: string[] }[] = [];
    for (let round = 0; round < 600; round++) {
      const usePython = round % 2 === 1;
      const { text, kept } = randomCall(usePython, random);
      const output = applyEdits(text, rewriteSource(text, usePython ? 'm.py' : 'm.ts').edits);
      if (usePython) {
        python.push({ output, kept });
        continue;
      }
      assert.deepEqual(scriptSyntaxErrors(output, 'm.ts'), [], `${text}\n=>\n${output}`);
      assert.deepEqual(scriptArgumentNames(output), kept, `${text}\n=>\n${output}`);
    }
    if (!PYTHON) return;
    const script = [
      'import ast, json, sys',
      'out = []',
      'for s in json.load(sys.stdin):',
      '    try:',
      '        call = next(n for n in ast.walk(ast.parse(s)) if isinstance(n, ast.Call))',
      '        out.append([k.arg for k in call.keywords])',
      '    except SyntaxError as e:',
      '        out.append(str(e))',
      'print(json.dumps(out))',
    ].join('\n');
    const run = spawnSync('python3', ['-c', script], {
      input: JSON.stringify(python.map((p) => p.output)),
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const names = JSON.parse(run.stdout) as unknown[];
    python.forEach((p, i) => assert.deepEqual(names[i], p.kept, p.output));
  },
);

test('pathological inputs stay fast: deep nesting, long lines, many calls', () => {
  const inputs: [string, string][] = [
    ['deep.py', 'import keras\nx = ' + '('.repeat(5000) + ')'.repeat(5000) + '\n'],
    ['fstring.py', 'x = ' + 'f"{'.repeat(3000) + '\n'],
    ['many.py', 'import keras\n' + 'keras.layers.BatchNormalization(momentum=1)\n'.repeat(3000)],
    [
      'deep.ts',
      "import * as tf from '@tensorflow/tfjs';\nconst x = " +
        '['.repeat(3000) +
        ']'.repeat(3000) +
        ';\n',
    ],
    [
      'many.ts',
      "import * as tf from '@tensorflow/tfjs';\n" +
        'tf.layers.batchNormalization({ momentum: 1 });\n'.repeat(3000),
    ],
    [
      'spaces.py',
      'import keras\nkeras.layers.BatchNormalization(' + ' '.repeat(200000) + 'momentum=1)\n',
    ],
  ];
  for (const [name, text] of inputs) {
    const started = Date.now();
    try {
      const result = rewriteSource(text, name);
      applyEdits(text, result.edits);
    } catch (error) {
      assert.ok(error instanceof SourceRewriteError, `${name}: threw ${String(error)}`);
    }
    assert.ok(Date.now() - started < 5 * SLOW_MS, `${name}: took ${Date.now() - started} ms`);
  }
});
