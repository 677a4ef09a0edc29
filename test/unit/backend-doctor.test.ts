import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  doctorHints,
  doctorReport,
  DoctorReport,
  formatDoctorReport,
  nativeAddonStatus,
} from '../../src/engine/backend/doctor';
import { BackendReport, DISABLE_NATIVE_ENV, setBackend } from '../../src/engine/backend/select';

function wasmAfterFailure(reason: string): BackendReport {
  return {
    name: 'wasm',
    requested: 'auto',
    requestedBy: 'default',
    fallbacks: [{ name: 'tensorflow', reason }],
    tfjsVersion: '4.22.0',
    threads: 1,
    threadsDetail: 'tfjs-backend-wasm runs single-threaded in Node',
  };
}

test('an empty tfjs-node folder shows as not built, and the hint says how to build it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchless-doctor-'));
  try {
    const addon = nativeAddonStatus(dir);
    assert.deepEqual(addon, { packageDir: dir, addonFiles: [] });
    const [hint, ...rest] = doctorHints(wasmAfterFailure('failed to load: no addon'), addon);
    assert.deepEqual(rest, []);
    assert.match(hint, /not built: run `node scripts\/provision-tfjs-node\.js`/);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('hints name the cause: disabled, another backend asked for, or a built addon that fails', () => {
  const built = {
    packageDir: '/x',
    addonFiles: ['/x/lib/napi-v8/tfjs_binding.node'],
    libtensorflow: '/x/deps/lib/libtensorflow_cc.so.2',
  };
  const failed = wasmAfterFailure('failed to load: undefined symbol TF_Foo');
  assert.match(
    doctorHints(failed, built)[0],
    /built but did not load \(failed to load: undefined symbol TF_Foo\)/,
  );
  assert.match(
    doctorHints({ ...failed, requested: 'cpu', fallbacks: [] }, built)[0],
    /cpu was requested/,
  );
  const saved = process.env[DISABLE_NATIVE_ENV];
  process.env[DISABLE_NATIVE_ENV] = '1';
  try {
    assert.match(doctorHints(failed, built)[0], /unset BATCHLESS_DISABLE_NATIVE/);
  } finally {
    if (saved === undefined) delete process.env[DISABLE_NATIVE_ENV];
    else process.env[DISABLE_NATIVE_ENV] = saved;
  }
  assert.deepEqual(doctorHints({ ...failed, name: 'tensorflow', fallbacks: [] }, built), []);
});

test('formatDoctorReport aligns values in one column and ends with the hints', () => {
  const report: DoctorReport = {
    node: 'v20.20.2',
    platform: 'linux x64 (6.1)',
    cpus: { count: 2, model: 'Test CPU' },
    memory: { totalBytes: 8 * 2 ** 30, freeBytes: 2 ** 30 },
    backend: wasmAfterFailure('failed to load: no addon'),
    nativeAddon: { packageDir: '/x', addonFiles: [] },
    hints: ['do this'],
  };
  const lines = formatDoctorReport(report).split('\n');
  assert.deepEqual(lines, [
    'node           v20.20.2 on linux x64 (6.1)',
    'cpus           2 × Test CPU',
    'memory         8.0 GiB total, 1.0 GiB free',
    'backend        wasm (requested auto, by default)',
    'not used       tensorflow: failed to load: no addon',
    'threads        1 (tfjs-backend-wasm runs single-threaded in Node)',
    'tfjs           4.22.0',
    'native addon   not built',
    'libtensorflow  not staged',
    'hint: do this',
  ]);
});

test('doctorReport on this machine: native backend in use, addon and library present, no hints', async (t) => {
  if (process.env.BATCHLESS_SKIP_NATIVE === '1') {
    t.skip('BATCHLESS_SKIP_NATIVE=1: tfjs-node was deliberately not provisioned');
    return;
  }
  await setBackend();
  const report = await doctorReport();
  assert.equal(report.backend?.name, 'tensorflow');
  assert.equal(report.nativeAddon.addonFiles.length, 1);
  assert.ok(fs.existsSync(report.nativeAddon.libtensorflow ?? ''));
  assert.deepEqual(report.hints, []);
  assert.equal(report.node, process.version);
  assert.equal(report.cpus.count, os.cpus().length);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  assert.match(formatDoctorReport(report), /^backend +tensorflow \(requested auto, by default\)$/m);
});
