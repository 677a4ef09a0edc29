// The host side of the worker, in plain Node: job routing, cancel, and what a crash looks like.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { EngineClient } from '../../src/session/engine-client';
import type { TrainRequest } from '../../src/shared/protocol';

const workerPath = path.join(__dirname, '..', '..', 'src', 'worker', 'main.js');
const request: TrainRequest = {
  model: 'builtin:mlp',
  data: 'mnist',
  norm: 'batchless',
  batchSize: 8,
  microBatchSize: 2,
  epochs: 1,
  maxSteps: 200,
  learningRate: 1e-3,
  seed: 0,
  statsEvery: 0,
};

test('cancel through an AbortSignal resolves the job as cancelled', async () => {
  const client = new EngineClient({ workerPath });
  try {
    const abort = new AbortController();
    const steps: number[] = [];
    const result = await client.run(
      { type: 'train', request },
      {
        signal: abort.signal,
        onTrainEvent: (e) =>
          e.type === 'step' && (steps.push(e.step), e.step === 2 && abort.abort()),
      },
    );
    assert.ok(result.kind === 'train' && result.summary.stopped === 'cancelled');
    assert.ok(steps.length >= 2 && steps.length < 200);
    assert.equal(client.busy, false);
  } finally {
    client.dispose();
  }
});

test('a worker that dies mid-job rejects the job saying so, and the next job starts a fresh worker', async () => {
  const client = new EngineClient({ workerPath });
  try {
    await client.start();
    const running = client.run(
      { type: 'train', request },
      {
        onTrainEvent: (e) => {
          if (e.type === 'step' && e.step === 1)
            process.kill((client as unknown as { child: { pid: number } }).child.pid, 'SIGKILL');
        },
      },
    );
    await assert.rejects(
      running,
      /The engine process was killed \(SIGKILL\)\. It may have run out of memory/,
    );
    const again = await client.run({ type: 'train', request: { ...request, maxSteps: 2 } });
    assert.ok(again.kind === 'train' && again.summary.steps === 2);
  } finally {
    client.dispose();
  }
});

test('the threads option reaches the worker as TensorFlow intra-op threads', async () => {
  const client = new EngineClient({ workerPath, threads: 1 });
  try {
    // The native backend is installed wherever the unit tests run (native-step.test.ts needs it too).
    const backend = await client.start();
    assert.equal(backend.name, 'tensorflow');
    assert.equal(backend.threads, 1);
  } finally {
    client.dispose();
  }
});
