// Converting real Keras files (.keras, legacy .h5, to_json() + .weights.h5, Keras 2 style JSON)
// written back in their own format: in place with a byte-identical backup, read back by our
// readers, and compared with Keras's own predictions of the ORIGINAL model (the probes written by
// test/fixtures/make_keras_fixtures.py). Keras loading the written files is checked by
// convert-keras-python.test.ts.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { before, test } from 'node:test';
import { convertModel } from '../../src/engine/convert/convert-file';
import { loadModel } from '../../src/engine/convert/load-model';
import { ModelFormatError } from '../../src/engine/convert/model-errors';
import { findNormLayers } from '../../src/engine/models/norm-layers';
import {
  copyFixture,
  filesOfFixture,
  fixtureCases,
  KERAS_FIXTURES,
  probeDiff,
  snapshot,
} from './helpers/keras-fixtures';

/** The brief's bound on converted outputs against Keras's own. */
const TOLERANCE = 1e-4;

before(async () => {
  await tf.setBackend('cpu');
});

for (const { probe, format, file } of fixtureCases()) {
  test(`${file} (${format}) converts in place, backs up the original, reproduces Keras`, async (t) => {
    const path = copyFixture(file);
    const dir = nodePath.dirname(path);
    const original = snapshot(dir);
    const summary = await convertModel(path, { inPlace: true });
    assert.equal(summary.format, format);
    assert.equal(summary.output, path);
    assert.ok(summary.parity?.passed, JSON.stringify(summary.parity));

    // The backup holds exactly the original files, byte for byte; nothing else is left behind.
    assert.ok(summary.backup !== undefined);
    const backup = snapshot(summary.backup);
    assert.deepEqual(backup, Object.fromEntries(filesOfFixture(file).map((f) => [f, original[f]])));
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['.batchless-backup', ...filesOfFixture(file)].sort(),
      'only the model files and the backup folder',
    );

    const reread = await loadModel(path);
    try {
      const kinds = findNormLayers(reread.model).map((r) => r.kind);
      assert.ok(kinds.length > 0 && kinds.every((k) => k === 'batchless'), kinds.join(', '));
      const diff = probeDiff(reread.model, probe);
      t.diagnostic(
        `parity ${summary.parity?.maxRelDiff.toExponential(2)} (rel, tfjs BN vs batchless); ` +
          `|converted − Keras original| = ${diff.toExponential(2)} on the probe`,
      );
      assert.ok(diff <= TOLERANCE, `${file}: ${diff} off Keras's own predictions`);
    } finally {
      reread.model.dispose();
    }

    const again = await convertModel(path, { inPlace: true });
    assert.ok(again.noop && again.output === undefined, again.message);
    assert.match(again.message, /already uses batchless normalization: nothing to convert/);
    rmSync(dir, { recursive: true, force: true });
  });
}

for (const file of ['residual.keras', 'residual.h5', 'residual.json', 'residual_keras2.json']) {
  test(`--out writes ${file} under another name and leaves the original alone`, async () => {
    const path = copyFixture(file);
    const before = snapshot(nodePath.dirname(path));
    const outDir = mkdtempSync(nodePath.join(os.tmpdir(), 'batchless-keras-out-'));
    const target = nodePath.join(outDir, 'nested', `converted${nodePath.extname(file)}`);
    const summary = await convertModel(path, { out: target });
    assert.equal(summary.output, target);
    assert.equal(summary.backup, undefined);
    assert.deepEqual(snapshot(nodePath.dirname(path)), before);
    const written = readdirSync(nodePath.dirname(target)).sort();
    assert.deepEqual(
      written,
      file.endsWith('.json')
        ? ['converted.json', 'converted.weights.h5']
        : [`converted${nodePath.extname(file)}`],
    );
    const reread = await loadModel(target);
    try {
      const probe = fixtureCases().find((c) => c.file === file)!.probe;
      assert.ok(probeDiff(reread.model, probe) <= TOLERANCE);
    } finally {
      reread.model.dispose();
    }
  });
}

test('a .keras archive keeps its other entries, their order and compression, and its metadata', async () => {
  const path = copyFixture('mlp.keras');
  await convertModel(path, { inPlace: true });
  const { unzipSync } = await import('fflate');
  const names: string[] = [];
  const methods: number[] = [];
  const entries = (bytes: Uint8Array) => {
    names.length = 0;
    methods.length = 0;
    const files = unzipSync(bytes, {
      filter: (f) => (names.push(f.name), methods.push(f.compression), true),
    });
    return { files, names: [...names], methods: [...methods] };
  };
  const before = entries(readFileSync(nodePath.join(KERAS_FIXTURES, 'mlp.keras')));
  const after = entries(readFileSync(path));
  assert.deepEqual(after.names, before.names);
  assert.deepEqual(after.methods, before.methods);
  assert.deepEqual(after.files['metadata.json'], before.files['metadata.json']);
});

/** `text` with every layer entry of class `cls` (its whole `{...}`) cut out. */
function withoutEntries(text: string, cls: string): { rest: string; cut: string[] } {
  const cut: string[] = [];
  let rest = text;
  for (;;) {
    const start = rest.indexOf(
      `{"module": "${cls === 'BatchNormalization' ? 'keras.layers' : 'batchless_keras'}", "class_name": "${cls}"`,
    );
    if (start < 0) return { rest, cut };
    // Matching brace, skipping strings (layer names could hold braces).
    let depth = 0;
    let end = start;
    for (let inString = false; end < rest.length; end++) {
      const c = rest[end];
      if (inString) {
        if (c === '\\') end++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) break;
    }
    cut.push(rest.slice(start, end + 1));
    rest = rest.slice(0, start) + rest.slice(end + 1);
  }
}

test('the rewritten topology is byte-identical to the original outside the BatchNormalization entries', async () => {
  const path = copyFixture('residual.json');
  await convertModel(path, { inPlace: true });
  const before = withoutEntries(
    readFileSync(nodePath.join(KERAS_FIXTURES, 'residual.json'), 'utf8'),
    'BatchNormalization',
  );
  const after = withoutEntries(readFileSync(path, 'utf8'), 'BatchlessNormalization');
  assert.equal(before.cut.length, 3);
  assert.equal(after.cut.length, 3);
  assert.equal(after.rest, before.rest);
  // Written as Python's json.dumps writes (Keras's own style), e.g. epsilon 1e-05 and 0.0.
  assert.match(
    after.cut[0],
    /"epsilon": 1e-05, "std_parametrization": "log", "gauge": true, .*"initial_mean": 0\.0, "initial_std": 1\.0\}/,
  );
});

test('--out in another format than the input is refused before anything is written', async () => {
  const path = copyFixture('mlp.h5');
  const outDir = mkdtempSync(nodePath.join(os.tmpdir(), 'batchless-keras-out-'));
  await assert.rejects(
    convertModel(path, { out: nodePath.join(outDir, 'mlp.keras') }),
    /must end in \.h5 or \.hdf5/,
  );
  assert.deepEqual(readdirSync(outDir), []);
});

test('a dataset declaring far more than the file holds is refused by the writer, not allocated', async () => {
  // test/fixtures/keras-hostile/lazy-dataset.h5: mlp.h5 plus, by h5py,
  // f['optimizer_weights'].create_dataset('unallocated', shape=(2**15, 2**15), dtype='f4'):
  // 4 GiB declared, nothing stored. The reader never reads optimizer state, so it loads.
  const source = nodePath.resolve(KERAS_FIXTURES, '..', 'keras-hostile', 'lazy-dataset.h5');
  const outDir = mkdtempSync(nodePath.join(os.tmpdir(), 'batchless-keras-out-'));
  await assert.rejects(convertModel(source, { out: `${outDir}/` }), (e: unknown) => {
    assert.ok(e instanceof ModelFormatError, String(e));
    assert.equal(e.field, 'optimizer_weights/unallocated');
    assert.match(e.message, /declares 4294967296 bytes/);
    return true;
  });
  assert.deepEqual(readdirSync(outDir), []);
});
