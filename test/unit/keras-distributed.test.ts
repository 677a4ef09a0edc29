// A model the engine converted trains at scale on Keras' own distribution: the cnn fixture
// (test/fixtures/keras, a BN model saved by Keras 3.15.1), converted to a batchless `.keras` by the
// engine, is loaded by python/examples/train_distributed.py under MirroredStrategy on two logical
// CPUs, passes its checks (no cross-replica normalization traffic, exact accumulation, one
// distributed step = one single-device step), trains a few steps and is saved; a fresh Python
// process reloads the saved file and trains on. Skipped, saying why, without a Python with Keras.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { setBackend } from '../../src/engine/backend/select';
import { convertModel } from '../../src/engine/convert/convert-file';
import { KERAS_FIXTURES } from './helpers/keras-fixtures';
import { findKerasPython, noPythonMessage, REPO_ROOT, runPython, tail } from './helpers/python';

const STEPS = 3;
const trainScript = nodePath.join(REPO_ROOT, 'python', 'examples', 'train_distributed.py');
const parityScript = nodePath.join(REPO_ROOT, 'test', 'python', 'keras_parity.py');

interface DistributedResult {
  passed: boolean;
  source: string;
  replicas: number;
  losses: number[];
  first_step: { max_relative_difference: number };
  collectives_in_forward: Record<string, number>;
  accumulation: { max_relative_difference: number };
}

interface ReloadResult {
  batchless_layers: string[];
  moved: Record<string, number>;
  losses_after_reload: number[];
}

const lookup = findKerasPython();
const suite = 'an engine-converted .keras trains under MirroredStrategy, saves and reloads';

if (!lookup.python) {
  test(suite, (t) => t.skip(noPythonMessage(lookup)));
} else {
  const python = lookup.python;
  const dir = mkdtempSync(nodePath.join(os.tmpdir(), 'batchless-distributed-'));
  before(async () => {
    await setBackend('cpu');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test(suite, { timeout: 600_000 }, async (t) => {
    const converted = nodePath.join(dir, 'cnn.batchless.keras');
    const trained = nodePath.join(dir, 'cnn.trained.keras');
    await convertModel(nodePath.join(KERAS_FIXTURES, 'cnn.keras'), { out: converted });

    const args = [trainScript, '--model', converted, '--steps', String(STEPS), '--save', trained];
    const run = await runPython<DistributedResult>(python, args, 'RESULT ');
    const result = run.results[0];
    assert.ok(result, `train_distributed.py printed no RESULT\n${tail(run)}`);
    t.diagnostic(
      `${result.source}: ${result.replicas} replicas, losses ${result.losses.join(', ')}`,
    );
    t.diagnostic(
      `one distributed step vs one single-device step: ${result.first_step.max_relative_difference.toExponential(2)}; ` +
        `accumulation (float64): ${result.accumulation.max_relative_difference.toExponential(2)}`,
    );
    assert.equal(run.code, 0, tail(run));
    assert.ok(result.passed, tail(run));
    assert.equal(result.replicas, 2);
    assert.equal(result.losses.length, STEPS);
    assert.ok(result.losses.every(Number.isFinite), `losses ${result.losses.join(', ')}`);
    assert.deepEqual(result.collectives_in_forward, {});
    assert.ok(existsSync(trained), 'the trained model was saved');

    const reload = await runPython<ReloadResult>(
      python,
      [parityScript, 'reload', trained, converted],
      '@@batchless-parity ',
    );
    assert.equal(reload.code, 0, tail(reload));
    const reloaded = reload.results[0];
    t.diagnostic(
      `reloaded in a fresh process: ${reloaded.batchless_layers.join(', ')}; ` +
        `losses training on: ${reloaded.losses_after_reload.join(', ')}`,
    );
    assert.deepEqual(reloaded.batchless_layers, ['bn1', 'bn2']);
    for (const layer of ['bn1', 'bn2']) {
      assert.ok(reloaded.moved[`${layer}/mean`] > 0, `${layer}: μ saved as trained`);
    }
    assert.ok(reloaded.losses_after_reload.every(Number.isFinite));
  });
}
