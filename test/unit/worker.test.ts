// The engine worker as the extension runs it: a forked process speaking the typed protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { FromWorker, ToWorker, TrainRequest } from '../../src/shared/protocol';

const workerPath = path.join(__dirname, '..', '..', 'src', 'worker', 'main.js');

function startWorker(): {
  child: ChildProcess;
  messages: FromWorker[];
  next: (pred: (m: FromWorker) => boolean) => Promise<FromWorker>;
} {
  const child = fork(workerPath, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const messages: FromWorker[] = [];
  const waiters: { pred: (m: FromWorker) => boolean; resolve: (m: FromWorker) => void }[] = [];
  child.on('message', (m: FromWorker) => {
    messages.push(m);
    for (const w of [...waiters]) {
      if (!w.pred(m)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const next = (pred: (m: FromWorker) => boolean) =>
    new Promise<FromWorker>((resolve, reject) => {
      const found = messages.find(pred);
      if (found) return resolve(found);
      waiters.push({ pred, resolve });
      child.once('exit', (code) => reject(new Error(`worker exited (${code}) while waiting`)));
    });
  return { child, messages, next };
}

const request: TrainRequest = {
  model: 'builtin:mlp',
  data: 'mnist',
  norm: 'batchless',
  batchSize: 16,
  microBatchSize: 4,
  epochs: 1,
  maxSteps: 50,
  learningRate: 1e-3,
  seed: 0,
  statsEvery: 5,
};

test('the worker reports ready, streams training events, and stops on cancel', async () => {
  const { child, messages, next } = startWorker();
  try {
    const ready = await next((m) => m.type === 'ready');
    assert.ok(ready.type === 'ready' && ['tensorflow', 'wasm', 'cpu'].includes(ready.backend.name));
    child.send({ type: 'train', id: 'a', request } satisfies ToWorker);
    await next((m) => m.type === 'trainEvent' && m.event.type === 'step' && m.event.step === 3);
    child.send({ type: 'cancel', id: 'a' } satisfies ToWorker);
    const result = await next((m) => m.type === 'result' && m.id === 'a');
    assert.ok(result.type === 'result' && result.result.kind === 'train');
    if (result.type === 'result' && result.result.kind === 'train') {
      assert.equal(result.result.summary.stopped, 'cancelled');
      assert.ok(result.result.summary.steps >= 3 && result.result.summary.steps < 50);
    }
    assert.ok(messages.some((m) => m.type === 'trainEvent' && m.event.type === 'start'));
  } finally {
    child.kill();
  }
});

test('a bad request fails that job with a readable message and the worker keeps serving', async () => {
  const { child, next } = startWorker();
  try {
    await next((m) => m.type === 'ready');
    child.send({
      type: 'inspect',
      id: 'bad',
      request: { model: '/nonexistent/model.json', data: 'mnist', samples: 10, channel: 0 },
    } satisfies ToWorker);
    const failed = await next(
      (m) => (m.type === 'failed' || m.type === 'result') && m.id === 'bad',
    );
    assert.ok(failed.type === 'failed' && /\/nonexistent\/model\.json/.test(failed.message));
    child.send({
      type: 'memory',
      id: 'mem',
      request: { model: 'builtin:mlp', data: 'mnist', batchSizes: [4], microBatchSizes: [1] },
    } satisfies ToWorker);
    const memory = await next((m) => m.type === 'result' && m.id === 'mem');
    assert.ok(
      memory.type === 'result' &&
        memory.result.kind === 'memory' &&
        memory.result.points.length === 2,
    );
  } finally {
    child.kill();
  }
});
