import * as tf from '@tensorflow/tfjs';
import type { TrainEvent, TrainSummary } from '../../shared/train-events';
import {
  Batch,
  Dataset,
  reshapeDataset,
  seededPermutation,
  sliceBatch,
  takeDataset,
  shuffleDataset,
} from '../data/dataset';
import { measurePeakStep } from '../memory/peak-step';
import { findBatchlessLayers, findNormLayers } from '../models/norm-layers';
import { channelCount, snapshotLayers } from '../stats/layer-snapshot';
import { BatchGradients, StepModel, batchGradients, stepModelOf } from './batch-gradients';
import { TrainConfig, resolveTrainConfig } from './config';
import { initializeFromData } from './data-init';
import { evaluate } from './evaluate';
import { StepOptimizer } from './optimizers';
import { describeNonFinite } from './divergence';
import { GraphPlan, NativeStep } from '../native/native-step';
import { StepHelpers } from '../native/step-helpers';
import { chooseStepThreads } from '../native/step-threads';

export interface TrainData {
  train: Dataset;
  test?: Dataset;
}

export interface TrainOptions {
  /** Checked between steps; an aborted session stops cleanly and reports 'cancelled'. */
  signal?: AbortSignal;
  onEvent?: (event: TrainEvent) => void;
  /** Shown in reports, e.g. 'builtin:mlp' or a file path. */
  modelName?: string;
  /** The batchless statistics came from a converted BN model: 'auto' init keeps them. */
  fromConversion?: boolean;
}

/**
 * The helper threads of the native step (step-threads.ts chooses how many). When they cannot
 * start, the step runs on this thread and the reason says why.
 */
async function startStepHelpers(native: NativeStep, step: StepModel, config: TrainConfig, graph: GraphPlan): Promise<{ threads: number; reason: string; helpers?: StepHelpers }> {
  const choice = chooseStepThreads(config.stepThreads, native, graph.compiled);
  if (choice.threads <= 1) return choice;
  try {
    const helpers = await StepHelpers.start(step.model, step.inputShape, step.numClasses, choice.threads - 1, native.slotShapes());
    return { ...choice, helpers };
  } catch (error) {
    if (config.stepThreads > 1) throw new Error(`The step's helper threads did not start: ${error instanceof Error ? error.message : String(error)}`);
    return { threads: 1, reason: `helper threads did not start: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * A short training session: micro-batches with exact gradient accumulation, one optimizer step
 * per effective batch, events streamed as it goes. The loop is the product's central promise, so
 * it stays in one visible place.
 */
export async function train(
  model: tf.LayersModel,
  data: TrainData,
  partial: Partial<TrainConfig> = {},
  options: TrainOptions = {},
): Promise<TrainSummary> {
  const config = resolveTrainConfig(partial);
  const emit = options.onEvent ?? (() => undefined);
  const inputShape = modelInputShape(model);
  const trainSet = reshapeDataset(data.train, inputShape);
  const testSet = data.test ? reshapeDataset(data.test, inputShape) : undefined;
  const normRefs = findNormLayers(model);
  const step = stepModelOf(model, inputShape, trainSet.numClasses);
  const batchless = step.batchless;
  const native =
    config.stepPath === 'generic'
      ? { reason: "asked for with stepPath 'generic'" }
      : NativeStep.compile(step, config);
  if (config.stepPath === 'native' && 'reason' in native)
    throw new Error(`The native training step cannot run this session: ${native.reason}`);
  const nativeStep = native instanceof NativeStep ? native : undefined;
  let graph: GraphPlan | undefined;
  const threads = nativeStep
    ? await (async () => {
        // Traced and compiled before the start event, so that it says what will run.
        graph = nativeStep.prepareGraph(config.batchSize, config.microBatchSize);
        const started = await startStepHelpers(nativeStep, step, config, graph);
        // Shares of a step are computed op by op on each thread: a compiled graph sits unused.
        if (started.helpers && graph.compiled) graph = { compiled: false, reason: `each step is spread over ${started.threads} threads, which run op by op` };
        return started;
      })().catch((error: unknown) => {
        nativeStep.dispose();
        throw error;
      })
    : undefined;
  const helpers = threads?.helpers;
  const stepsPerEpoch = Math.ceil(trainSet.count / config.batchSize);
  const totalSteps =
    config.maxSteps > 0
      ? Math.min(config.maxSteps, stepsPerEpoch * config.epochs)
      : stepsPerEpoch * config.epochs;
  emit({
    type: 'start',
    backend: tf.getBackend(),
    model: options.modelName ?? model.name,
    dataset: trainSet.name,
    trainCount: trainSet.count,
    testCount: testSet?.count ?? 0,
    parameters: model.countParams(),
    normLayers: normRefs.map((ref) => ({
      layer: ref.path,
      kind: ref.kind,
      channels: channelCount(ref),
    })),
    config: { ...config },
    totalSteps,
    stepPath: nativeStep ? 'native' : 'generic',
    stepPathReason: 'reason' in native ? native.reason : undefined,
    stepThreads: threads?.threads ?? 1,
    stepThreadsReason: threads?.reason ?? 'the generic step runs on one thread',
    stepGraph: graph?.compiled ?? false,
    stepGraphReason: graph?.reason ?? 'the generic step runs tfjs kernels one by one',
  });

  try {
    initializeStatistics(model, batchless, trainSet, config, options, emit, normRefs);
    nativeStep?.loadFromModel();
  } catch (error) {
    await helpers?.dispose();
    nativeStep?.dispose();
    throw error;
  }

  const statsNames = new Set(
    batchless.flatMap((layer) => layer.statisticsVariables().map((v) => v.name)),
  );
  // The native step brings its own optimizer (TensorFlow's fused updates).
  const optimizer = nativeStep
    ? undefined
    : new StepOptimizer(
        config.optimizer,
        config.learningRate,
        config.statsLearningRate,
        statsNames,
      );

  interface StepOutcome {
    /** [task loss, NLL per batchless layer, Σ gradients]. */
    values: Float32Array;
    /** Set when a value was not finite: the update was not applied. */
    diverged?: string;
    memory: { peakStepBytes: number; residentBytes: number };
  }
  const runGenericStep = async (
    batch: Batch,
    measure: boolean,
    stepNumber: number,
  ): Promise<StepOutcome> => {
    let computed: BatchGradients;
    let memory = { peakStepBytes: 0, residentBytes: 0 };
    if (measure) {
      const measured = await measurePeakStep(() =>
        batchGradients(step, batch, config.microBatchSize),
      );
      computed = measured.result;
      memory = { peakStepBytes: measured.peakStepBytes, residentBytes: measured.residentBytes };
    } else {
      computed = batchGradients(step, batch, config.microBatchSize);
    }
    const { grads, lossParts } = computed;
    // One read per step: the loss parts and the sum of every gradient, non-finite when any element is.
    const health = tf.tidy(() =>
      tf.concat([lossParts, tf.reshape(tf.addN(Object.values(grads).map((g) => tf.sum(g))), [1])]),
    );
    const values = (await health.data()) as Float32Array;
    health.dispose();
    try {
      if (!values.every(Number.isFinite))
        return {
          values,
          memory,
          diverged: describeNonFinite(stepNumber, values, batchless, grads),
        };
      optimizer!.apply(grads);
      return { values, memory };
    } finally {
      tf.dispose([grads, lossParts]);
    }
  };
  // The native step measures its own tensors every step (it owns them all); one read per step too.
  const runNativeStep = async (native: NativeStep, batch: Batch, stepNumber: number): Promise<StepOutcome> => {
    const result = helpers ? await native.runShared(batch, config.microBatchSize, helpers) : native.run(batch, config.microBatchSize);
    const memory = {
      peakStepBytes: result.peakStepBytes,
      residentBytes: tf.memory().numBytes + native.residentBytes(),
    };
    if (result.applied) return { values: result.values, memory };
    const { grads, lossParts } = native.gradientsAsTfjs(batch, config.microBatchSize);
    try {
      return {
        values: result.values,
        memory,
        diverged: describeNonFinite(stepNumber, result.values, batchless, grads),
      };
    } finally {
      tf.dispose([grads, lossParts]);
    }
  };
  let stepIndex = 0;
  let samples = 0;
  let peakStepBytes = 0;
  let trainingMs = 0;
  let epochLossSum = 0;
  let epochSteps = 0;
  let stopped: TrainSummary['stopped'] = 'completed';
  let message: string | undefined;
  const started = performance.now();

  try {
    training: for (let epoch = 0; epoch < config.epochs; epoch++) {
      const order = seededPermutation(trainSet.count, config.seed * 7919 + epoch);
      epochLossSum = 0;
      epochSteps = 0;
      for (let start = 0; start < trainSet.count; start += config.batchSize) {
        if (config.maxSteps > 0 && stepIndex >= config.maxSteps) break training;
        // Let queued messages (a cancel from the editor) run before the next step.
        await new Promise((resolve) => setImmediate(resolve));
        if (options.signal?.aborted) {
          stopped = 'cancelled';
          message = `Cancelled before step ${stepIndex + 1} of ${totalSteps}.`;
          break training;
        }
        const batch = sliceBatch(
          trainSet,
          order.subarray(start, Math.min(start + config.batchSize, trainSet.count)),
        );
        const stepStarted = performance.now();
        const measure =
          stepIndex === 0 || (config.memoryEvery > 0 && stepIndex % config.memoryEvery === 0);
        const outcome = nativeStep
          ? await runNativeStep(nativeStep, batch, stepIndex + 1)
          : await runGenericStep(batch, measure, stepIndex + 1);
        if (measure) {
          peakStepBytes = Math.max(peakStepBytes, outcome.memory.peakStepBytes);
          emit({
            type: 'memory',
            step: stepIndex + 1,
            ...outcome.memory,
            microBatchSize: config.microBatchSize,
          });
        }
        if (outcome.diverged) {
          message = outcome.diverged;
          stopped = 'diverged';
          break training;
        }
        const values = outcome.values;
        stepIndex++;
        samples += batch.size;
        trainingMs += performance.now() - stepStarted;
        const taskLoss = values[0];
        epochLossSum += taskLoss;
        epochSteps++;
        const nll: Record<string, number> = {};
        batchless.forEach((layer, i) => (nll[layer.name] = values[i + 1]));
        emit({
          type: 'step',
          step: stepIndex,
          epoch: epoch + 1,
          samples,
          loss: Array.from(values.subarray(0, batchless.length + 1)).reduce((a, b) => a + b, 0),
          taskLoss,
          nll,
          samplesPerSecond: samples / (trainingMs / 1000),
          elapsedMs: performance.now() - started,
        });
        if (config.statsEvery > 0 && stepIndex % config.statsEvery === 0) {
          nativeStep?.syncToModel();
          emit({ type: 'stats', step: stepIndex, layers: snapshotLayers(normRefs) });
        }
      }
    }
  } finally {
    optimizer?.dispose();
    await helpers?.dispose();
    // Whatever ended the loop, the model keeps what the native step trained so far.
    if (nativeStep) {
      try {
        nativeStep.syncToModel();
      } finally {
        nativeStep.dispose();
      }
    }
  }

  const evaluation = testSet
    ? await evaluate(model, testSet, config.evalChunk, step.fromProbabilities)
    : { accuracy: NaN, loss: NaN, count: 0 };
  if (testSet)
    emit({
      type: 'eval',
      step: stepIndex,
      testAccuracy: evaluation.accuracy,
      testLoss: evaluation.loss,
    });
  const layers = snapshotLayers(normRefs);
  if (config.statsEvery === 0 || stepIndex % config.statsEvery !== 0)
    emit({ type: 'stats', step: stepIndex, layers });
  const summary: TrainSummary = {
    backend: tf.getBackend(),
    steps: stepIndex,
    samples,
    trainLoss: epochSteps > 0 ? epochLossSum / epochSteps : NaN,
    testAccuracy: evaluation.accuracy,
    testLoss: evaluation.loss,
    samplesPerSecond: trainingMs > 0 ? samples / (trainingMs / 1000) : 0,
    peakStepBytes,
    elapsedMs: performance.now() - started,
    stopped,
    message,
    layers,
  };
  emit({ type: 'done', summary });
  return summary;
}

function initializeStatistics(
  model: tf.LayersModel,
  batchless: ReturnType<typeof findBatchlessLayers>,
  trainSet: Dataset,
  config: TrainConfig,
  options: TrainOptions,
  emit: (event: TrainEvent) => void,
  normRefs: ReturnType<typeof findNormLayers>,
): void {
  if (batchless.length === 0) return;
  // 'auto': statistics that came from somewhere (a converted BN layer, a trained file) are kept;
  // fresh layers (μ=0, σ=1) start from the data, since short runs cannot catch up from there.
  const fresh = batchless.every((layer) => layer.hasInitialStatistics());
  const mode =
    config.init === 'auto' ? (options.fromConversion || !fresh ? 'keep' : 'data') : config.init;
  if (mode === 'data' && config.initSamples > 0) {
    const sample = takeDataset(shuffleDataset(trainSet, config.seed + 1), config.initSamples);
    const result = initializeFromData(
      model,
      batchless,
      sliceBatch(sample, 0, sample.count),
      trainSet.inputShape,
    );
    emit({
      type: 'init',
      source: 'data',
      samples: result.samples,
      strata: result.strata,
      layers: snapshotLayers(normRefs),
    });
    return;
  }
  emit({
    type: 'init',
    source: mode === 'keep' ? 'keep' : 'default',
    samples: 0,
    strata: [],
    layers: snapshotLayers(normRefs),
  });
}

/** The per-example input shape of a single-input model. */
export function modelInputShape(model: tf.LayersModel): number[] {
  if (model.inputs.length !== 1)
    throw new Error(
      `Training needs a model with one input; '${model.name}' has ${model.inputs.length}`,
    );
  const shape = model.inputs[0].shape.slice(1);
  if (shape.some((d) => d === null))
    throw new Error(
      `Model '${model.name}' has an input with unknown dimensions ${JSON.stringify(model.inputs[0].shape)}`,
    );
  return shape as number[];
}
