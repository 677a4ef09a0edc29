import { setBackend } from '../engine/backend/select';
import { sliceBatch } from '../engine/data/dataset';
import { loadSessionData } from '../engine/data/session-split';
import { memorySweep } from '../engine/memory/sweep';
import { buildBuiltinModel } from '../engine/models/builtin';
import { findNormLayers } from '../engine/models/norm-layers';
import { resolveModel } from '../engine/models/resolve';
import { inspectLayers } from '../engine/stats/inspect';
import { modelInputShape, train } from '../engine/train/trainer';
import { convertLayersModel } from '../engine/convert/bn-to-batchless';
import { convertModel, ParityRefusedError } from '../engine/convert/convert-file';
import { exportToKeras } from '../engine/convert/export-keras';
import { findNormalizationSites, rewriteSource } from '../engine/convert/source';
import type {
  BackendInfo,
  ConvertRequest,
  ExportKerasRequest,
  InspectRequest,
  JobResult,
  MemoryRequest,
  SourceRequest,
  SweepPointData,
  TrainRequest,
} from '../shared/protocol';
import type { TrainEvent } from '../shared/train-events';

/** Loads the engine's backend (the environment's BATCHLESS_BACKEND, else the fastest). */
export async function startEngine(): Promise<BackendInfo> {
  // setBackend reads BATCHLESS_BACKEND itself ('auto' or unset: the fastest that works).
  const report = await setBackend();
  return {
    name: report.name,
    fallbacks: report.fallbacks,
    tfjsVersion: report.tfjsVersion,
    threads: report.threads,
  };
}

export async function runTrain(
  request: TrainRequest,
  signal: AbortSignal,
  onEvent: (event: TrainEvent) => void,
): Promise<JobResult> {
  const resolved = await resolveModel(request.model, { norm: request.norm, seed: request.seed });
  const data = loadSessionData(request.data, request.seed, modelInputShape(resolved.model));
  const summary = await train(
    resolved.model,
    data,
    {
      batchSize: request.batchSize,
      microBatchSize: request.microBatchSize,
      epochs: request.epochs,
      maxSteps: request.maxSteps,
      learningRate: request.learningRate,
      seed: request.seed,
      statsEvery: request.statsEvery,
      memoryEvery: request.memoryEvery ?? 0,
    },
    {
      signal,
      onEvent,
      modelName: request.model,
      fromConversion: resolved.conversion !== undefined,
    },
  );
  return { kind: 'train', summary };
}

export async function runInspect(request: InspectRequest): Promise<JobResult> {
  const resolved = await resolveModel(request.model, {});
  const inputShape = modelInputShape(resolved.model);
  if (findNormLayers(resolved.model).length === 0)
    throw new Error(`${request.model} has no normalization layers to inspect`);
  const { test } = loadSessionData(request.data, 0, inputShape);
  const sample = sliceBatch(test, 0, Math.min(request.samples, test.count));
  return {
    kind: 'inspect',
    layers: inspectLayers(resolved.model, sample, inputShape, request.channel),
    samples: sample.size,
  };
}

/** BN vs batchless on the same architecture: built-ins are built both ways, BN files converted. */
export async function runMemory(
  request: MemoryRequest,
  onPoint: (point: SweepPointData) => void,
): Promise<JobResult> {
  let bn;
  let batchless;
  if (request.model.startsWith('builtin:')) {
    const name = request.model.slice('builtin:'.length) as 'mlp' | 'cnn';
    bn = buildBuiltinModel(name, { norm: 'batch' });
    batchless = buildBuiltinModel(name, { norm: 'batchless' });
  } else {
    const loaded = await resolveModel(request.model, {});
    const kinds = new Set(findNormLayers(loaded.model).map((r) => r.kind));
    if (kinds.has('batch')) {
      bn = loaded.model;
      batchless = (await convertLayersModel(loaded.model)).model;
    } else {
      batchless = loaded.model;
    }
  }
  const inputShape = modelInputShape(batchless);
  const { train: data } = loadSessionData(request.data, 0, inputShape);
  const points = await memorySweep(bn, batchless, data, inputShape, {
    batchSizes: request.batchSizes,
    microBatchSizes: request.microBatchSizes,
    onPoint,
  });
  return { kind: 'memory', points };
}

export async function runConvert(request: ConvertRequest): Promise<JobResult> {
  try {
    const summary = await convertModel(request.path, {
      inPlace: !request.dryRun && request.inPlace,
      force: request.force,
    });
    return { kind: 'convert', summary, refused: false };
  } catch (err) {
    if (err instanceof ParityRefusedError)
      return { kind: 'convert', summary: err.summary, refused: true };
    throw err;
  }
}

/** Export to Keras; a parity refusal is a result (the host offers to force), not a failure. */
export async function runExportKeras(request: ExportKerasRequest): Promise<JobResult> {
  try {
    const summary = await exportToKeras(request.path, { out: request.out, force: request.force });
    return { kind: 'exportKeras', summary, refused: false };
  } catch (err) {
    if (err instanceof ParityRefusedError)
      return { kind: 'exportKeras', summary: err.summary, refused: true };
    throw err;
  }
}

export function runRewrite(request: SourceRequest): JobResult {
  return { kind: 'rewrite', result: rewriteSource(request.text, request.fileName) };
}

export function runFindSites(request: SourceRequest): JobResult {
  return { kind: 'sites', sites: findNormalizationSites(request.text, request.fileName) };
}
