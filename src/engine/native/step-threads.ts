import * as os from 'node:os';
import type { NativeStep } from './native-step';

/** How many threads compute each native step, and why: the start event shows the reason. */
export interface StepThreadsChoice {
  threads: number;
  reason: string;
}

/** TensorFlow's threads per op in this process (TF_NUM_INTRAOP_THREADS, which the engine sets on small machines, else every CPU). */
export function intraOpThreads(cpus = cpuCount()): number {
  const fromEnv = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : cpus;
}

function cpuCount(): number {
  return os.availableParallelism?.() ?? os.cpus().length;
}

/**
 * The threads for a session's native step. Asked for explicitly (`requested` > 0) it is that
 * many, unless a layer keeps batch statistics (batch normalization cannot be spread exactly).
 * Chosen (0): one when each step runs as one compiled graph (`compiledGraph`, faster than
 * spreading it); otherwise, for a convolutional model, as many as the CPUs TensorFlow's per-op pool leaves
 * free (CPUs ÷ intra-op threads, at most 4), else one. Measured on 2 CPUs (docs/benchmarks.md):
 * with one intra-op thread, two step threads make the CNN's step 1.2–1.5× faster; with TensorFlow's
 * default pool on every CPU they compete and it is slower; a dense model's step gets slower
 * (each thread multiplies its rows by all the weights, and weights and gradients cross threads).
 */
export function chooseStepThreads(requested: number, native: NativeStep, compiledGraph = false, cpus = cpuCount(), intraOp = intraOpThreads(cpus)): StepThreadsChoice {
  if (!native.splittable) {
    if (requested > 1) throw new Error('stepThreads > 1 needs a model without batch normalization: it normalizes each micro-batch with its own statistics, so its instances cannot be spread over threads');
    return { threads: 1, reason: 'batch normalization needs each micro-batch in one place' };
  }
  if (requested > 0) return { threads: requested, reason: 'as asked' };
  // builtin:cnn at batch 64, one intra-op thread, 2 CPUs: 8.7–9.2 ms per step on its graph
  // against 9.5–11.9 ms with two threads each running half the batch op by op.
  if (compiledGraph) return { threads: 1, reason: 'a compiled graph runs independent ops on the other CPUs itself' };
  if (!native.convolutional) return { threads: 1, reason: 'a dense model: spread over threads, its step measured slower' };
  const spare = Math.min(4, Math.floor(cpus / Math.max(1, intraOp)));
  if (spare < 2) return { threads: 1, reason: `TensorFlow computes each op on ${intraOp} of ${cpus} CPUs (set threads to 1 to spread instances instead)` };
  return { threads: spare, reason: `a convolutional model, ${cpus} CPUs, ${intraOp} per op` };
}
