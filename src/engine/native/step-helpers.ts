import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import type { HostShare, ShareHelpers, ShareRequest } from './step-shares';
import { prepareForThreads } from './process-kernels';
import { NativeOps } from './tf-native';

// Helper threads for the native step: each runs its own TensorFlow context on a copy of the
// model (rebuilt from its JSON) and computes a share of every batch from the weights the step
// sends. Batchless normalization is what makes this exact: no layer needs the other instances.

/** What a helper thread is started with (its workerData). */
export interface HelperInit {
  topology: unknown;
  inputShape: number[];
  numClasses: number;
}

/** Thread → step. */
export type HelperReply =
  | { type: 'ready'; shapes: number[][] }
  | { type: 'share'; id: number; share: HostShare }
  | { type: 'error'; id?: number; message: string };

/** Step → thread. */
export type HelperRequest = { type: 'share'; id: number; request: ShareRequest };

interface Pending {
  resolve: (share: HostShare) => void;
  reject: (error: Error) => void;
}

/** The thread's script: beside this file in tsc's output, beside the bundle in dist/. */
function helperScript(): string {
  const script = path.join(__dirname, 'step-helper-thread.js');
  if (!fs.existsSync(script)) throw new Error(`the step's helper thread script is missing: ${script}`);
  return script;
}

class HelperThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure?: Error;

  private constructor(private readonly worker: Worker) {
    // Never what keeps a process alive: the step that owns the thread terminates it.
    worker.unref();
    worker.on('message', (reply: HelperReply) => {
      if (reply.type === 'ready') return;
      const waiting = reply.id === undefined ? undefined : this.pending.get(reply.id);
      if (!waiting) {
        if (reply.type === 'error') this.fail(new Error(`the step's helper thread failed: ${reply.message}`));
        return;
      }
      this.pending.delete(reply.id!);
      if (reply.type === 'share') waiting.resolve(reply.share);
      else waiting.reject(new Error(`the step's helper thread failed: ${reply.message}`));
    });
    worker.on('error', (error) => this.fail(new Error(`the step's helper thread crashed: ${error.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`the step's helper thread exited (code ${code})`)));
  }

  /** Starts a thread and waits until it has rebuilt the model; rejects with why it could not. */
  static start(init: HelperInit, shapes: number[][]): Promise<HelperThread> {
    return new Promise((resolve, reject) => {
      let worker: Worker;
      try {
        worker = new Worker(helperScript(), { workerData: init });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const onMessage = (reply: HelperReply) => {
        if (reply.type === 'error') {
          cleanup();
          void worker.terminate();
          reject(new Error(reply.message));
        } else if (reply.type === 'ready') {
          cleanup();
          if (JSON.stringify(reply.shapes) !== JSON.stringify(shapes)) {
            void worker.terminate();
            reject(new Error(`the helper thread rebuilt the model with other variables (${JSON.stringify(reply.shapes)})`));
            return;
          }
          resolve(new HelperThread(worker));
        }
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`the helper thread exited while starting (code ${code})`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  compute(request: ShareRequest): Promise<HostShare> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'share', id, request } satisfies HelperRequest);
    });
  }

  async terminate(): Promise<void> {
    this.failure ??= new Error('the step has ended');
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
  }
}

/** `count` helper threads computing shares of each step next to the thread that owns the step. */
export class StepHelpers implements ShareHelpers {
  private constructor(private readonly threads: HelperThread[]) {}

  get count(): number {
    return this.threads.length;
  }

  /**
   * Starts the threads for `model` (they check they rebuilt variables of the same `shapes`);
   * rejects, with every started thread stopped, when any cannot start.
   */
  static async start(model: tf.LayersModel, inputShape: number[], numClasses: number, count: number, shapes: number[][]): Promise<StepHelpers> {
    const ops = NativeOps.forActiveBackend();
    if (!ops) throw new Error('helper threads need the tensorflow backend');
    prepareForThreads(ops);
    const init: HelperInit = { topology: model.toJSON(undefined, false), inputShape, numClasses };
    const started = await Promise.allSettled(Array.from({ length: count }, () => HelperThread.start(init, shapes)));
    const threads = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(threads.map((t) => t.terminate()));
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return new StepHelpers(threads);
  }

  compute(requests: ShareRequest[]): Promise<HostShare[]> {
    if (requests.length !== this.threads.length) return Promise.reject(new Error(`StepHelpers: ${requests.length} shares for ${this.threads.length} threads`));
    return Promise.all(requests.map((request, i) => this.threads[i].compute(request)));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}
