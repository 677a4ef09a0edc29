// Whole-file conversions of hand-written fixtures (test/fixtures/source), compared byte for byte
// with hand-written expected outputs. TS/JS fixtures carry a `.txt` suffix so that the project's
// tsc and ESLint runs, which take every .ts/.js under test/, leave them alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ts from 'typescript';
import { applyEdits, findNormalizationSites, rewriteSource } from '../../src/engine/convert/source';

const FIXTURES = resolve(__dirname, '../../../test/fixtures/source');
const PYTHON = spawnSync('python3', ['--version']).status === 0;

interface Case {
  /** The file name the rewriter sees; the fixture on disk may add `.txt`. */
  name: string;
  converted: number;
  unsupported: number;
  importAdded?: string;
}

const CASES: Case[] = [
  {
    name: 'esm-namespace.ts',
    converted: 6,
    unsupported: 2,
    importAdded: "import { batchlessNormalization } from 'batchless';",
  },
  {
    name: 'aliased-layers.ts',
    converted: 2,
    unsupported: 1,
    importAdded: 'import { batchlessNormalization } from "batchless"',
  },
  {
    name: 'commonjs.js',
    converted: 2,
    unsupported: 0,
    importAdded: "const { batchlessNormalization } = require('batchless');",
  },
  { name: 'partly-converted.mjs', converted: 1, unsupported: 0 },
  { name: 'already-converted.ts', converted: 0, unsupported: 0 },
  {
    name: 'keras3_layers.py',
    converted: 6,
    unsupported: 3,
    importAdded: 'from batchless_keras import BatchlessNormalization',
  },
  {
    name: 'tf_keras_alias.py',
    converted: 6,
    unsupported: 0,
    importAdded: 'from batchless_keras import BatchlessNormalization',
  },
  {
    name: 'named_import.py',
    converted: 1,
    unsupported: 0,
    importAdded: 'from batchless_keras import BatchlessNormalization',
  },
  { name: 'partly_converted.py', converted: 1, unsupported: 0 },
  { name: 'already_converted.py', converted: 0, unsupported: 0 },
];

function fixturePath(name: string, expected: boolean): string {
  const dot = name.lastIndexOf('.');
  const file = expected ? `${name.slice(0, dot)}.expected${name.slice(dot)}` : name;
  return join(FIXTURES, name.endsWith('.py') ? file : `${file}.txt`);
}

function readFixture(name: string, expected = false): string {
  const path = fixturePath(name, expected);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // A fixture with nothing to convert is its own expected output.
    return readFileSync(fixturePath(name, false), 'utf8');
  }
}

/** Syntax errors TypeScript finds in a TS/JS text (no type checking). */
function scriptSyntaxErrors(text: string, name: string): string[] {
  const output = ts.transpileModule(text, {
    fileName: name,
    reportDiagnostics: true,
    compilerOptions: { allowJs: true, jsx: ts.JsxEmit.Preserve },
  });
  return (output.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

for (const c of CASES) {
  test(`${c.name}: the rewrite gives the expected file byte for byte`, () => {
    const input = readFixture(c.name);
    const result = rewriteSource(input, c.name);
    const output = applyEdits(input, result.edits);
    assert.equal(output, readFixture(c.name, true));
    assert.equal(result.converted.length, c.converted);
    assert.equal(result.unsupported.length, c.unsupported, JSON.stringify(result.unsupported));
    assert.equal(result.importAdded, c.importAdded);
    for (const call of result.converted) {
      assert.ok(output.includes(call.replacement), `${call.replacement} is in the output`);
      const lineStart = input
        .split('\n')
        .slice(0, call.line - 1)
        .join('\n').length;
      const at = call.line === 1 ? call.column - 1 : lineStart + call.column;
      assert.ok(input.startsWith(call.original, at), `line ${call.line}, column ${call.column}`);
      assert.equal(call.notes.length >= call.droppedArguments.length, true);
    }
    for (let i = 1; i < result.edits.length; i++) {
      assert.ok(result.edits[i - 1].end <= result.edits[i].start, 'edits are sorted and disjoint');
    }
  });

  test(`${c.name}: converting the converted file changes nothing`, () => {
    const expected = readFixture(c.name, true);
    const again = rewriteSource(expected, c.name);
    assert.deepEqual(again.edits, []);
    assert.equal(again.unsupported.length, c.unsupported);
    const sites = findNormalizationSites(expected, c.name);
    assert.equal(sites.filter((s) => s.kind === 'batch').length, c.unsupported - unCalled(c.name));
  });

  if (!c.name.endsWith('.py')) {
    test(`${c.name}: input and output parse without syntax errors`, () => {
      assert.deepEqual(scriptSyntaxErrors(readFixture(c.name), c.name), []);
      assert.deepEqual(scriptSyntaxErrors(readFixture(c.name, true), c.name), []);
    });
  }
}

test(
  'TS fixtures: the output type-checks against the real batchlessNormalization as well as the input did against TF.js',
  { timeout: 120000 },
  () => {
    // Virtual files next to the fixtures, so @tensorflow/* resolve from node_modules; `batchless`
    // is mapped to the layer's source, the module the npm package's entry re-exports.
    const root = resolve(__dirname, '../../..');
    const names = CASES.map((c) => c.name).filter((n) => n.endsWith('.ts'));
    const files = new Map<string, string>();
    for (const name of names) {
      const input = readFixture(name);
      files.set(join(FIXTURES, `__input_${name}`), input);
      files.set(
        join(FIXTURES, `__output_${name}`),
        applyEdits(input, rewriteSource(input, name).edits),
      );
    }
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: true,
      types: [],
      baseUrl: root,
      paths: { batchless: ['src/engine/layers/batchless-normalization.ts'] },
    };
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists } = host;
    host.getSourceFile = (file, version, ...rest) => {
      const text = files.get(file);
      if (text !== undefined) return ts.createSourceFile(file, text, version, true);
      return getSourceFile.call(host, file, version, ...rest);
    };
    host.fileExists = (file) => files.has(file) || fileExists.call(host, file);
    const program = ts.createProgram([...files.keys()], options, host);
    const errors = (file: string) =>
      ts
        .getPreEmitDiagnostics(program, program.getSourceFile(file))
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '))
        .sort();
    for (const name of names) {
      const before = errors(join(FIXTURES, `__input_${name}`));
      assert.deepEqual(errors(join(FIXTURES, `__output_${name}`)), before, name);
    }
    // The fixture with most conversions starts clean, so this is not vacuous.
    assert.deepEqual(errors(join(FIXTURES, '__output_esm-namespace.ts')), []);
  },
);

/** Uses of BN that are references, not calls (so not CodeLens sites). */
function unCalled(name: string): number {
  return name === 'esm-namespace.ts' || name === 'keras3_layers.py' ? 1 : 0;
}

test(
  'Python fixtures and their conversions compile with python3 -m py_compile',
  { skip: PYTHON ? false : 'python3 is not on PATH, so Python output cannot be compiled here' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'batchless-source-'));
    const files = CASES.filter((c) => c.name.endsWith('.py')).flatMap((c) => {
      const input = readFixture(c.name);
      const output = applyEdits(input, rewriteSource(input, c.name).edits);
      const written = [join(dir, `in_${c.name}`), join(dir, `out_${c.name}`)];
      writeFileSync(written[0], input);
      writeFileSync(written[1], output);
      return written;
    });
    const run = spawnSync('python3', ['-m', 'py_compile', ...files], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPYCACHEPREFIX: join(dir, 'cache') },
    });
    assert.equal(run.status, 0, run.stderr);
  },
);
