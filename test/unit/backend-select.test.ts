import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import Module from 'node:module';
import * as tf from '@tensorflow/tfjs';
import {
  BACKEND_ENV,
  BackendReport,
  currentBackendReport,
  DISABLE_NATIVE_ENV,
  setBackend,
} from '../../src/engine/backend/select';
import { missingWasmTrainingKernels } from '../../src/engine/backend/wasm-kernels';

// Runs in one process, in order: the load-failure case must come before anything loads
// tfjs-node, because a native module cannot be unloaded.

const savedEnv = { backend: process.env[BACKEND_ENV], disable: process.env[DISABLE_NATIVE_ENV] };
afterEach(() => {
  for (const [name, value] of [
    [BACKEND_ENV, savedEnv.backend],
    [DISABLE_NATIVE_ENV, savedEnv.disable],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function assertPlainData(report: BackendReport): void {
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, 'JSON round trip');
}

test('a tfjs-node that fails to load gives wasm, with the loader error as the reason', async () => {
  delete process.env[BACKEND_ENV];
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    if (request === '@tensorflow/tfjs-node') {
      throw new Error('libtensorflow.so.2: cannot open shared object file (simulated)');
    }
    return load.call(this, request, ...rest);
  };
  try {
    const report = await setBackend();
    assert.equal(report.name, 'wasm');
    assert.equal(report.requested, 'auto');
    assert.equal(report.fallbacks.length, 1);
    assert.equal(report.fallbacks[0].name, 'tensorflow');
    assert.match(report.fallbacks[0].reason, /failed to load: libtensorflow\.so\.2: cannot open/);
  } finally {
    loader._load = load;
  }
});

test('setBackend("cpu") reports cpu, chosen by the argument, with nothing skipped', async () => {
  const report = await setBackend('cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(report.name, 'cpu');
  assert.equal(report.requested, 'cpu');
  assert.equal(report.requestedBy, 'argument');
  assert.deepEqual(report.fallbacks, []);
  assert.equal(report.tfjsVersion, tf.version.tfjs);
  assert.equal(report.nativeLibrary, undefined);
  assertPlainData(report);
  assert.equal(currentBackendReport(), report);
});

test('setBackend("wasm") reports wasm, single-threaded, with the training kernels in place', async () => {
  const report = await setBackend('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(report.name, 'wasm');
  assert.equal(report.threads, 1);
  assert.deepEqual(missingWasmTrainingKernels(), []);
  assertPlainData(report);
  // A real computation, to show the backend is initialized and not just named.
  const sum = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]);
  assert.equal(sum, 6);
});

test('the default order picks native tensorflow on this machine', async (t) => {
  if (process.env.BATCHLESS_SKIP_NATIVE === '1') {
    t.skip('BATCHLESS_SKIP_NATIVE=1: tfjs-node was deliberately not provisioned');
    return;
  }
  delete process.env[BACKEND_ENV];
  const report = await setBackend();
  assert.deepEqual(report.fallbacks, [], 'run `node scripts/provision-tfjs-node.js` if this fails');
  assert.equal(report.name, 'tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.equal(report.requested, 'auto');
  assert.equal(report.requestedBy, 'default');
  assert.equal(report.tfjsNodeVersion, '4.22.0');
  assert.ok(report.threads >= 1);
  assert.match(report.nativeLibrary ?? '', /libtensorflow/);
  assert.ok(fs.existsSync(report.nativeLibrary ?? ''), `${report.nativeLibrary} exists`);
  assertPlainData(report);
});

test(`${DISABLE_NATIVE_ENV}=1 falls back to wasm and says why, even when tensorflow is asked for`, async () => {
  process.env[DISABLE_NATIVE_ENV] = '1';
  for (const requested of [undefined, 'tensorflow'] as const) {
    const report = await setBackend(requested);
    assert.equal(report.name, 'wasm');
    assert.equal(report.requested, requested ?? 'auto');
    assert.deepEqual(report.fallbacks, [
      { name: 'tensorflow', reason: `disabled by ${DISABLE_NATIVE_ENV}=1` },
    ]);
  }
});

test(`${BACKEND_ENV} chooses the backend when no argument does, and a bad value is refused`, async () => {
  process.env[BACKEND_ENV] = 'cpu';
  const report = await setBackend();
  assert.equal(report.name, 'cpu');
  assert.equal(report.requestedBy, BACKEND_ENV);
  assert.equal((await setBackend('wasm')).requestedBy, 'argument', 'the argument wins');
  process.env[BACKEND_ENV] = 'gpu';
  await assert.rejects(setBackend(), /BATCHLESS_BACKEND='gpu' is not a backend/);
});

test('currentBackendReport forgets a backend that someone else switched away from', async () => {
  await setBackend('cpu');
  assert.equal(currentBackendReport()?.name, 'cpu');
  await tf.setBackend('wasm');
  assert.equal(currentBackendReport(), undefined);
});
