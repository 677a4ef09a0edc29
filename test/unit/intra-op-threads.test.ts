// The engine's choice of TensorFlow threads per op (src/engine/backend/intra-op-threads.ts): what
// the user set wins; else one thread on a machine of 2 CPUs or fewer (measured faster there,
// docs/benchmarks.md), else TensorFlow's default. The CLI test below checks it reaches TensorFlow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { ONE_THREAD_MAX_CPUS, intraOpThreadsFor } from '../../src/engine/backend/intra-op-threads';
import { setBackend } from '../../src/engine/backend/select';
import { runCli } from './helpers/cli';

test('a count the user set wins, on any machine', () => {
  for (const cpus of [1, 2, 16]) {
    const choice = intraOpThreadsFor({ TF_NUM_INTRAOP_THREADS: '3' }, cpus);
    assert.deepEqual([choice.threads, choice.env], [3, undefined]);
    assert.match(choice.detail, /from TF_NUM_INTRAOP_THREADS/);
  }
});

test('unset (or not a positive integer): one thread on 2 CPUs or fewer, TensorFlow default above', () => {
  assert.equal(ONE_THREAD_MAX_CPUS, 2);
  for (const env of [{}, { TF_NUM_INTRAOP_THREADS: '0' }, { TF_NUM_INTRAOP_THREADS: 'many' }, { TF_NUM_INTRAOP_THREADS: '1.5' }]) {
    for (const cpus of [1, 2]) {
      const small = intraOpThreadsFor(env, cpus);
      assert.deepEqual([small.threads, small.env], [1, '1'], JSON.stringify({ env, cpus }));
      assert.match(small.detail, /engine's default on 2 CPUs or fewer/);
    }
    const large = intraOpThreadsFor(env, 8);
    assert.deepEqual([large.threads, large.env], [8, undefined]);
    assert.match(large.detail, /TensorFlow intra-op default/);
  }
});

test('doctor reports the default TensorFlow got when no count was given', (t) => {
  if (process.env.BATCHLESS_SKIP_NATIVE === '1') {
    t.skip('BATCHLESS_SKIP_NATIVE=1: tfjs-node was deliberately not provisioned');
    return;
  }
  const env = { ...process.env };
  delete env.TF_NUM_INTRAOP_THREADS;
  const { code, stdout } = runCli(['doctor', '--json'], env);
  assert.equal(code, 0);
  const report = JSON.parse(stdout) as { backend: { name: string; threads: number; threadsDetail: string } };
  assert.equal(report.backend.name, 'tensorflow');
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  assert.equal(report.backend.threads, cpus <= ONE_THREAD_MAX_CPUS ? 1 : cpus, report.backend.threadsDetail);
});

test("a second backend setup in the same process still reports the engine's choice, not the variable it set", async (t) => {
  if (process.env.BATCHLESS_SKIP_NATIVE === '1' || process.env.TF_NUM_INTRAOP_THREADS) {
    t.skip('needs tfjs-node and TF_NUM_INTRAOP_THREADS unset, as in CI');
    return;
  }
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const first = await setBackend('tensorflow');
  const second = await setBackend('tensorflow');
  assert.equal(first.threads, cpus <= ONE_THREAD_MAX_CPUS ? 1 : cpus);
  assert.deepEqual([second.threads, second.threadsDetail], [first.threads, first.threadsDetail]);
});
