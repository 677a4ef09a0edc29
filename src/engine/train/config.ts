import type { NormKind } from '../models/builtin';

export type OptimizerName = 'adam' | 'sgd' | 'momentum' | 'rmsprop';
export const OPTIMIZERS: readonly OptimizerName[] = ['adam', 'sgd', 'momentum', 'rmsprop'];

/** 'auto': from data while μ/σ are fresh (0 and 1), kept when they came from BN or a trained file. */
export type InitMode = 'auto' | 'data' | 'keep' | 'default';
export const INIT_MODES: readonly InitMode[] = ['auto', 'data', 'keep', 'default'];

/**
 * 'auto': the native step (TensorFlow ops written out per layer, native-step.ts) when the backend
 * is tensorflow and every layer has one, else the generic step (tfjs autodiff); 'native' insists
 * (an error says why it cannot); 'generic' never takes the native step.
 */
export type StepPath = 'auto' | 'native' | 'generic';
export const STEP_PATHS: readonly StepPath[] = ['auto', 'native', 'generic'];

/** Every knob of a training session, in one place. */
export interface TrainConfig {
  /** Instances per optimizer step: the effective batch. */
  batchSize: number;
  /** Instances per forward/backward pass; gradients of micro-batches accumulate into one step. */
  microBatchSize: number;
  /** Passes over the training set. */
  epochs: number;
  /** Stop after this many optimizer steps (0: no limit). */
  maxSteps: number;
  optimizer: OptimizerName;
  learningRate: number;
  /** Learning rate for μ/σ (the NLL stream); 0 means the same as learningRate. */
  statsLearningRate: number;
  /** Seeds shuffling (and the built-in models' initializers, where the caller passes it on). */
  seed: number;
  /** How μ/σ start (see InitMode). */
  init: InitMode;
  /** Training instances used for data-driven initialization. */
  initSamples: number;
  /** A μ/σ snapshot event every this many steps (0: only at the end). */
  statsEvery: number;
  /** Measure a step's peak memory every this many steps (0: only the first step). */
  memoryEvery: number;
  /** Instances per inference chunk when evaluating on the test set. */
  evalChunk: number;
  /** Which implementation of the step runs (see StepPath). */
  stepPath: StepPath;
  /**
   * Threads that compute each native step, each a share of the batch (step-threads.ts): 1 runs
   * it on this thread alone, 0 lets the engine choose.
   */
  stepThreads: number;
  /**
   * Whether a native step (of up to 64 micro-batches) runs as one compiled TensorFlow graph
   * (traced from its ops and checked against them, step-graph.ts); false runs every op from JavaScript.
   */
  stepGraph: boolean;
  /** Why the model is being trained: for reports only. */
  norm?: NormKind;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  batchSize: 32,
  microBatchSize: 32,
  epochs: 1,
  maxSteps: 0,
  optimizer: 'adam',
  learningRate: 1e-3,
  statsLearningRate: 0,
  seed: 0,
  init: 'auto',
  initSamples: 512,
  statsEvery: 10,
  memoryEvery: 0,
  evalChunk: 256,
  stepPath: 'auto',
  stepThreads: 0,
  stepGraph: true,
};

/** Fills defaults (micro-batch defaults to the batch) and rejects impossible values with the value quoted. */
export function resolveTrainConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...stripUndefined(partial) };
  if (partial.microBatchSize === undefined) config.microBatchSize = config.batchSize;
  const positiveInt = (key: keyof TrainConfig) => {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`TrainConfig.${key} must be a positive integer, got ${String(v)}`);
  };
  const nonNegativeInt = (key: keyof TrainConfig) => {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`TrainConfig.${key} must be an integer >= 0, got ${String(v)}`);
  };
  positiveInt('batchSize');
  positiveInt('microBatchSize');
  positiveInt('epochs');
  positiveInt('evalChunk');
  nonNegativeInt('maxSteps');
  nonNegativeInt('initSamples');
  nonNegativeInt('statsEvery');
  nonNegativeInt('memoryEvery');
  nonNegativeInt('stepThreads');
  if (config.microBatchSize > config.batchSize) {
    throw new Error(`TrainConfig.microBatchSize (${config.microBatchSize}) must not exceed batchSize (${config.batchSize})`);
  }
  if (!(config.learningRate > 0)) throw new Error(`TrainConfig.learningRate must be > 0, got ${config.learningRate}`);
  if (!(config.statsLearningRate >= 0)) throw new Error(`TrainConfig.statsLearningRate must be >= 0, got ${config.statsLearningRate}`);
  if (!OPTIMIZERS.includes(config.optimizer)) throw new Error(`TrainConfig.optimizer must be one of ${OPTIMIZERS.join(', ')}, got '${config.optimizer}'`);
  if (typeof config.stepGraph !== 'boolean') throw new Error(`TrainConfig.stepGraph must be true or false, got ${JSON.stringify(config.stepGraph)}`);
  if (!STEP_PATHS.includes(config.stepPath)) throw new Error(`TrainConfig.stepPath must be one of ${STEP_PATHS.join(', ')}, got '${config.stepPath}'`);
  if (!INIT_MODES.includes(config.init)) throw new Error(`TrainConfig.init must be one of ${INIT_MODES.join(', ')}, got '${config.init}'`);
  return config;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
