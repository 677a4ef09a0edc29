// The `batchless` CLI as users run it: a real child process on the default backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli as run } from './helpers/cli';

test('train --json prints one event per line and a final summary with the promised fields', () => {
  const { code, stdout, stderr } = run([
    'train',
    '--model',
    'builtin:cnn',
    '--data',
    'mnist',
    '--norm',
    'batchless',
    '--batch',
    '16',
    '--micro',
    '4',
    '--steps',
    '3',
    '--limit',
    '400',
    '--seed',
    '1',
    '--json',
  ]);
  assert.equal(code, 0, stderr);
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; [k: string]: unknown });
  assert.deepEqual(
    lines.filter((l) => l.type === 'step').map((l) => l.step),
    [1, 2, 3],
  );
  const summary = lines[lines.length - 1];
  assert.equal(summary.type, 'summary');
  for (const key of ['backend', 'testAccuracy', 'trainLoss', 'samplesPerSecond', 'peakStepBytes'])
    assert.ok(key in summary, key);
  assert.equal(summary.steps, 3);
  assert.equal(summary.samples, 48);
});

test('check-accumulation shows batchless is exact and explains why BN is not', () => {
  const exact = run([
    'check-accumulation',
    '--model',
    'builtin:mlp',
    '--norm',
    'batchless',
    '--batch',
    '8',
    '--micro',
    '1',
    '--json',
  ]);
  assert.equal(exact.code, 0, exact.stderr);
  const report = JSON.parse(exact.stdout) as { maxRelDiff: number; variables: unknown[] };
  assert.ok(report.maxRelDiff <= 1e-5, String(report.maxRelDiff));
  const bn = run([
    'check-accumulation',
    '--model',
    'builtin:mlp',
    '--norm',
    'batch',
    '--batch',
    '8',
    '--micro',
    '2',
  ]);
  assert.equal(bn.code, 0, bn.stderr);
  assert.match(bn.stdout, /batch normalization \(norm1, norm2\)/);
  assert.match(bn.stdout, /cannot reproduce the large-batch update/);
});

test('usage mistakes exit 2 with a message that names the option and the bad value', () => {
  const bad = run(['train', '--model', 'builtin:mlp', '--batch', 'many']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--batch must be an integer >= 1, got 'many'/);
  const unknown = run(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
});

test('a missing data file is reported by name and nothing crashes', () => {
  const { code, stderr } = run([
    'train',
    '--model',
    'builtin:mlp',
    '--data',
    'nowhere/digits.csv',
    '--steps',
    '1',
  ]);
  assert.equal(code, 1);
  assert.match(stderr, /nowhere\/digits\.csv/);
});

test('doctor reports the backend in use', () => {
  const { code, stdout } = run(['doctor', '--json']);
  assert.equal(code, 0);
  const report = JSON.parse(stdout) as { backend: { name: string; tfjsVersion: string } };
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(report.backend.name));
  assert.equal(report.backend.tfjsVersion, '4.22.0');
});

test('--threads sets TensorFlow intra-op threads for any command; a bad count exits 2', () => {
  const { code, stdout, stderr } = run(['--threads', '1', 'doctor', '--json']);
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout) as { backend: { name: string; threads: number; threadsDetail: string } };
  assert.equal(report.backend.name, 'tensorflow', 'the native backend is installed where the unit tests run');
  assert.equal(report.backend.threads, 1);
  assert.match(report.backend.threadsDetail, /TF_NUM_INTRAOP_THREADS/);
  const bad = run(['doctor', '--threads', 'none']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--threads must be an integer >= 1, got 'none'/);
});

test('train --step-threads 2 spreads a batchless CNN over two threads and says so', () => {
  const { code, stdout, stderr } = run(['train', '--model', 'builtin:cnn', '--batch', '16', '--steps', '2', '--limit', '300', '--step-threads', '2', '--json']);
  assert.equal(code, 0, stderr);
  const start = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; stepPath?: string; stepThreads?: number; stepThreadsReason?: string })
    .find((l) => l.type === 'start')!;
  assert.equal(start.stepPath, 'native');
  assert.equal(start.stepThreads, 2);
  assert.equal(start.stepThreadsReason, 'as asked');
});

test('train says whether each step ran as one compiled graph; --step-graph off runs it op by op; a bad value exits 2', () => {
  const human = run(['train', '--model', 'builtin:mlp', '--batch', '16', '--micro', '4', '--steps', '2', '--limit', '300']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^graph: compiled \(\d+ nodes, traced from the step's own ops and checked against them\)$/m);
  const off = run(['train', '--model', 'builtin:mlp', '--batch', '16', '--steps', '2', '--limit', '300', '--step-graph', 'off', '--json']);
  assert.equal(off.code, 0, off.stderr);
  const start = off.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; stepGraph?: boolean; stepGraphReason?: string })
    .find((l) => l.type === 'start')!;
  assert.equal(start.stepGraph, false);
  assert.match(start.stepGraphReason ?? '', /turned off/);
  const bad = run(['train', '--model', 'builtin:mlp', '--step-graph', 'maybe']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--step-graph must be one of on, off, got 'maybe'/);
});
