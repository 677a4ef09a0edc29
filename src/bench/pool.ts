import { ChildProcess, fork } from 'child_process';
import * as path from 'path';
import type { BenchJob, BenchJobResult } from './jobs';

/**
 * Runs jobs in `workers` child processes, each taking the next job when it finishes one; results
 * come back in the order of `jobs`. A worker that crashes fails the jobs it had. `env` adds to
 * the children's environment (TF_NUM_INTRAOP_THREADS, read when TensorFlow loads).
 */
export async function runInWorkers<R extends BenchJobResult>(
  jobs: BenchJob[],
  workers: number,
  onResult?: (result: R, index: number) => void,
  env: NodeJS.ProcessEnv = {},
): Promise<R[]> {
  const results: R[] = new Array(jobs.length);
  let next = 0;
  const childPath = path.join(__dirname, 'child.js');
  const runWorker = async () => {
    let child: ChildProcess | undefined;
    try {
      while (next < jobs.length) {
        const index = next++;
        child ??= fork(childPath, [], {
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
          env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', ...env },
        });
        results[index] = await ask<R>(child, index, jobs[index]);
        onResult?.(results[index], index);
      }
    } finally {
      child?.disconnect();
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, runWorker));
  return results;
}

function ask<R>(child: ChildProcess, id: number, job: BenchJob): Promise<R> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const onData = (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000));
    const onMessage = (message: { id: number; result?: R; error?: string }) => {
      if (message.id !== id) return;
      cleanup();
      if (message.error !== undefined)
        reject(new Error(`bench job ${JSON.stringify(job)} failed: ${message.error}`));
      else resolve(message.result as R);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(
        new Error(`bench worker exited (code ${code}) during ${JSON.stringify(job)}:\n${stderr}`),
      );
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.stderr?.off('data', onData);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.stderr?.on('data', onData);
    child.send({ id, job });
  });
}
