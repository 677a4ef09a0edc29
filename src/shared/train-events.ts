/**
 * What a training session reports, as plain JSON-serialisable data: the engine emits these, the
 * CLI prints them (one JSON object per line with --json), the worker forwards them to the
 * extension, the webviews draw them.
 */

/** Learned statistics of one normalization layer, per channel. */
export interface LayerStatisticsSnapshot {
  layer: string;
  kind: 'batchless' | 'batch';
  /** Learned μ (batchless) or moving mean (batch). */
  mean: number[];
  /** Learned σ (batchless) or sqrt(moving variance + ε) (batch). */
  std: number[];
  gamma?: number[];
  beta?: number[];
}

export interface StartEvent {
  type: 'start';
  backend: string;
  model: string;
  dataset: string;
  trainCount: number;
  testCount: number;
  parameters: number;
  normLayers: { layer: string; kind: 'batchless' | 'batch'; channels: number }[];
  /** The resolved training configuration. */
  config: Record<string, unknown>;
  totalSteps: number;
  /** 'native': TensorFlow ops written out per layer; 'generic': tfjs autodiff (any model, any backend). */
  stepPath?: 'native' | 'generic';
  /** Why the generic step runs, when the native one was possible in principle. */
  stepPathReason?: string;
  /** Threads computing each step (each a share of the batch), and why that many. */
  stepThreads?: number;
  stepThreadsReason?: string;
  /** Whether each native step runs as one compiled TensorFlow graph, and why (or why not). */
  stepGraph?: boolean;
  stepGraphReason?: string;
}

/** μ/σ were initialized before the first step. */
export interface InitEvent {
  type: 'init';
  /** 'data': from a data sample by strata; 'keep': as loaded (e.g. converted from BN); 'default': μ=0, σ=1. */
  source: 'data' | 'keep' | 'default';
  samples: number;
  strata: string[][];
  layers: LayerStatisticsSnapshot[];
}

export interface StepEvent {
  type: 'step';
  step: number;
  epoch: number;
  /** Instances seen so far. */
  samples: number;
  /** Task loss + Σ layer NLL (ungauged terms are what is optimised; values here are as reported by each layer). */
  loss: number;
  taskLoss: number;
  /** Per batchless layer: its NLL (the distribution mismatch when gauged). */
  nll: Record<string, number>;
  samplesPerSecond: number;
  elapsedMs: number;
}

export interface StatsEvent {
  type: 'stats';
  step: number;
  layers: LayerStatisticsSnapshot[];
}

export interface MemoryEvent {
  type: 'memory';
  step: number;
  /** Peak tensor bytes allocated during the step beyond what was alive before it. */
  peakStepBytes: number;
  /** Tensor bytes alive before the step (weights, optimizer state, ...). */
  residentBytes: number;
  microBatchSize: number;
}

export interface EvalEvent {
  type: 'eval';
  step: number;
  testAccuracy: number;
  testLoss: number;
}

export interface TrainSummary {
  backend: string;
  steps: number;
  samples: number;
  trainLoss: number;
  testAccuracy: number;
  testLoss: number;
  samplesPerSecond: number;
  peakStepBytes: number;
  elapsedMs: number;
  stopped: 'completed' | 'cancelled' | 'diverged';
  message?: string;
  layers: LayerStatisticsSnapshot[];
}

export interface DoneEvent {
  type: 'done';
  summary: TrainSummary;
}

export type TrainEvent =
  StartEvent | InitEvent | StepEvent | StatsEvent | MemoryEvent | EvalEvent | DoneEvent;
