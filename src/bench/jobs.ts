import * as tf from '@tensorflow/tfjs';
import { BackendName, setBackend } from '../engine/backend/select';
import { loadSessionData } from '../engine/data/session-split';
import {
  BuiltinModelName,
  NormKind,
  buildBuiltinModel,
  builtinInputShape,
} from '../engine/models/builtin';
import { batchGradients, stepModelOf } from '../engine/train/batch-gradients';
import { train } from '../engine/train/trainer';
import type { StepEvent } from '../shared/train-events';
import { median } from './types';

// Work the benchmark runs in child processes: one backend per process (tfjs keeps a model's
// tensors on the backend it was made on), and independent accuracy runs two at a time.

/** Samples per second of the real trainer on one configuration. */
export interface ThroughputJob {
  kind: 'throughput';
  backend: BackendName;
  model: BuiltinModelName;
  norm: NormKind;
  batchSize: number;
  microBatchSize: number;
  /** Timed steps, after the warm-up steps (0: a single step, timed, first-step costs included). */
  steps: number;
  /** Untimed steps first. Default 1. */
  warmupSteps?: number;
}

export interface ThroughputResult {
  backend: string;
  model: BuiltinModelName;
  norm: NormKind;
  batchSize: number;
  microBatchSize: number;
  steps: number;
  samplesPerSecond: number;
  /** The median of the timed steps' wall times: robust to a shared machine's bursts of load. */
  medianStepMs: number;
  /** Wall time per micro-batch (a step divided by its micro-batches). */
  msPerMicroBatch: number;
  /** True when the only step measured was the first (it includes one-off costs). */
  includesFirstStep: boolean;
  /** tfjs kernels dispatched per micro-batch (forward, backward, accumulation), from tf.profile; generic step only. */
  kernelsPerMicroBatch?: number;
  /** Which training step ran: 'native graph' (compiled), 'native' (TensorFlow ops per layer) or 'generic' (tfjs autodiff). */
  stepPath?: string;
  /** Threads the native step spread each batch over (step-threads.ts). */
  stepThreads?: number;
}

/** One session of the accuracy protocol (MNIST, 8,000 train / 2,000 test after a seeded shuffle). */
export interface AccuracyJob {
  kind: 'accuracy';
  backend?: BackendName;
  model: BuiltinModelName;
  norm: NormKind;
  batchSize: number;
  seed: number;
  epochs: number;
  /** 0: the whole epoch (the protocol); a smoke run stops early. */
  maxSteps: number;
  /** Only the first `limit` digits (smoke runs); undefined: all 10,000. */
  limit?: number;
}

export interface AccuracyResult {
  backend: string;
  model: BuiltinModelName;
  norm: NormKind;
  batchSize: number;
  seed: number;
  steps: number;
  testAccuracy: number;
  trainLoss: number;
  stopped: string;
  seconds: number;
  samplesPerSecond: number;
}

export type BenchJob = ThroughputJob | AccuracyJob;
export type BenchJobResult = ThroughputResult | AccuracyResult;

const backendReady = new Map<string, Promise<unknown>>();

async function useBackend(name?: BackendName): Promise<string> {
  const key = name ?? 'default';
  if (!backendReady.has(key)) backendReady.set(key, setBackend(name));
  await backendReady.get(key);
  return tf.getBackend();
}

export async function runJob(job: BenchJob): Promise<BenchJobResult> {
  return job.kind === 'throughput' ? runThroughput(job) : runAccuracy(job);
}

async function runThroughput(job: ThroughputJob): Promise<ThroughputResult> {
  const backend = await useBackend(job.backend);
  const inputShape = builtinInputShape(job.model);
  const { train: trainSet } = loadSessionData('mnist', 0, inputShape);
  const model = buildBuiltinModel(job.model, { norm: job.norm, seed: 1 });
  const steps: StepEvent[] = [];
  let stepPath: string | undefined;
  let stepThreads: number | undefined;
  const warmup = job.steps > 0 ? Math.max(1, job.warmupSteps ?? 1) : 0;
  const total = job.steps + Math.max(1, warmup);
  // No test set (evaluation is not training speed) and default μ/σ (initialization is a one-off).
  await train(
    model,
    { train: trainSet },
    {
      batchSize: job.batchSize,
      microBatchSize: job.microBatchSize,
      maxSteps: total,
      statsEvery: 0,
      init: 'default',
      seed: 0,
    },
    {
      onEvent: (e) => {
        if (e.type === 'step') steps.push(e);
        // 'native graph': the native step compiled into one TensorFlow graph (step-graph.ts).
        if (e.type === 'start') [stepPath, stepThreads] = [e.stepPath === 'native' && e.stepGraph ? 'native graph' : e.stepPath, e.stepThreads];
      },
    },
  );
  const timed = warmup > 0 && steps.length > warmup;
  const first = timed ? steps[warmup - 1] : undefined;
  const last = steps[steps.length - 1];
  const ms = first ? last.elapsedMs - first.elapsedMs : last.elapsedMs;
  const samples = first ? last.samples - first.samples : last.samples;
  const timedSteps = first ? steps.length - warmup : steps.length;
  const microBatches = timedSteps * Math.ceil(job.batchSize / job.microBatchSize);
  const timedEvents = first ? steps.slice(warmup - 1) : [{ elapsedMs: 0 }, ...steps];
  const stepMs = timedEvents.slice(1).map((e, i) => e.elapsedMs - timedEvents[i].elapsedMs);
  const result: ThroughputResult = {
    backend,
    model: job.model,
    norm: job.norm,
    batchSize: job.batchSize,
    microBatchSize: job.microBatchSize,
    steps: timedSteps,
    samplesPerSecond: samples / (ms / 1000),
    medianStepMs: median(stepMs),
    msPerMicroBatch: ms / microBatches,
    includesFirstStep: !timed,
    stepPath,
    stepThreads,
  };
  if (job.microBatchSize === 1 && stepPath === 'generic')
    result.kernelsPerMicroBatch = await kernelsPerMicroBatch(
      model,
      trainSet.x,
      trainSet.y,
      inputShape,
    );
  model.dispose();
  return result;
}

/** Kernels of two micro-batches of one instance (so accumulation is included), halved. */
async function kernelsPerMicroBatch(
  model: tf.LayersModel,
  x: Float32Array,
  y: Int32Array,
  inputShape: number[],
): Promise<number> {
  const step = stepModelOf(model, inputShape, 10);
  const per = inputShape.reduce((a, b) => a * b, 1);
  const batch = { x: x.slice(0, 2 * per), y: y.slice(0, 2), size: 2 };
  const info = await tf.profile(() => {
    const r = batchGradients(step, batch, 1);
    tf.dispose([r.grads, r.lossParts]);
  });
  return info.kernels.length / 2;
}

async function runAccuracy(job: AccuracyJob): Promise<AccuracyResult> {
  const backend = await useBackend(job.backend);
  const inputShape = builtinInputShape(job.model);
  const data = loadSessionData('mnist', job.seed, inputShape, { limit: job.limit });
  const model = buildBuiltinModel(job.model, { norm: job.norm, seed: job.seed });
  const started = performance.now();
  const summary = await train(model, data, {
    batchSize: job.batchSize,
    microBatchSize: job.batchSize,
    epochs: job.epochs,
    maxSteps: job.maxSteps,
    optimizer: 'adam',
    learningRate: 1e-3,
    seed: job.seed,
    init: 'data',
    statsEvery: 0,
  });
  model.dispose();
  return {
    backend,
    model: job.model,
    norm: job.norm,
    batchSize: job.batchSize,
    seed: job.seed,
    steps: summary.steps,
    testAccuracy: summary.testAccuracy,
    trainLoss: summary.trainLoss,
    stopped: summary.stopped,
    seconds: (performance.now() - started) / 1000,
    samplesPerSecond: summary.samplesPerSecond,
  };
}
