// The proof with real Keras: every fixture model, converted in place by the CLI's convert command
// in each Keras format, is loaded by Keras 3 (after `import batchless_keras`) and reproduces the
// ORIGINAL model's predictions that Keras recorded in the probe. test/python/check_converted.py
// also checks that the converted topology and HDF5 differ from the original only at the
// BatchNormalization layers. Python: BATCHLESS_PYTHON, else the venv of
// `node scripts/provision-python.js`; skipped, saying so, when there is none.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { convertCommand } from '../../src/cli/commands/convert';
import { copyFixture, fixtureCases, KERAS_FIXTURES } from './helpers/keras-fixtures';
import { findKerasPython, noPythonMessage, REPO_ROOT, runPython, tail } from './helpers/python';

const checker = nodePath.join(REPO_ROOT, 'test', 'python', 'check_converted.py');
const PREFIX = '@@batchless-converted ';
const TOLERANCE = 1e-4;

interface CheckResult {
  converted: string;
  format: string;
  error?: string;
  skipped?: string;
  bn_layers?: string[];
  now_batchless?: string[];
  topology_unchanged_elsewhere?: boolean;
  unexpected_hdf5_changes?: string[];
  load_notes?: string[];
  max_abs_diff?: number;
}

/** Runs the CLI command in this process, returning what it printed with --json. */
async function cliConvert(
  path: string,
): Promise<{ code: number; summary: { noop: boolean; message: string } }> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.join(' '));
  try {
    const code = await convertCommand([path, '--in-place', '--json', '--backend', 'cpu']);
    return { code, summary: JSON.parse(printed.join('\n')) as { noop: boolean; message: string } };
  } finally {
    console.log = log;
  }
}

const lookup = findKerasPython();
const suite = 'Keras loads every converted fixture and reproduces the original predictions';

if (!lookup.python) {
  test(suite, (t) => {
    t.skip(noPythonMessage(lookup));
  });
} else {
  const python = lookup.python;
  test(suite, { timeout: 600_000 }, async (t) => {
    const cases = [];
    for (const { probe, format, file } of fixtureCases()) {
      const converted = copyFixture(file, 'batchless-keras-check-');
      const { code, summary } = await cliConvert(converted);
      assert.equal(code, 0, summary.message);
      assert.ok(!summary.noop, summary.message);
      const original = nodePath.join(KERAS_FIXTURES, file);
      cases.push({
        format,
        original,
        converted,
        probe: nodePath.join(KERAS_FIXTURES, `${probe.model}.probe.json`),
      });
    }
    const casesFile = nodePath.join(nodePath.dirname(cases[0].converted), 'cases.json');
    writeFileSync(casesFile, JSON.stringify(cases));
    t.diagnostic(`python: ${python}`);
    const run = await runPython<CheckResult>(python, [checker, casesFile], PREFIX);
    assert.equal(
      run.results.length,
      cases.length,
      `the checker reported ${run.results.length} of ${cases.length} cases:\n${tail(run)}`,
    );
    for (const r of run.results) {
      const name = nodePath.basename(r.converted);
      await t.test(`${name} (${r.format})`, (s) => {
        assert.equal(r.error, undefined, r.error);
        assert.deepEqual(r.now_batchless, r.bn_layers, 'every BatchNormalization became batchless');
        assert.ok(r.topology_unchanged_elsewhere, 'the topology differs only at the BN layers');
        assert.deepEqual(r.unexpected_hdf5_changes, [], 'the HDF5 differs only at the BN layers');
        for (const note of r.load_notes ?? []) s.diagnostic(`Keras: ${note}`);
        if (r.skipped !== undefined) {
          // Only the Keras 2 style Sequential, which Keras 3 cannot load in the original either.
          assert.match(name, /_keras2\.json$/);
          s.skip(r.skipped);
          return;
        }
        s.diagnostic(`|Keras(converted) − Keras(original)| = ${r.max_abs_diff?.toExponential(2)}`);
        assert.ok((r.max_abs_diff ?? Infinity) <= TOLERANCE, `${name}: ${r.max_abs_diff}`);
      });
    }
  });
}
