/**
 * The engine as a library (dist/engine.js, CommonJS): everything the CLI, the worker and the
 * extension use, for Node users and tools. Editor-free.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
export { setBackend, currentBackendReport } from './backend/select';
export type { BackendName, BackendReport } from './backend/select';
export { BatchlessNormalization, batchlessNormalization, isBatchlessLayer } from './layers/batchless-normalization';
export type { BatchlessNormalizationLayerArgs, ChannelStatistics } from './layers/batchless-normalization';
export type { StdParametrization } from './layers/std-parametrization';
export { train, modelInputShape } from './train/trainer';
export type { TrainData, TrainOptions } from './train/trainer';
export { resolveTrainConfig, DEFAULT_TRAIN_CONFIG } from './train/config';
export type { TrainConfig } from './train/config';
export { checkAccumulation } from './train/accumulation-check';
export { initializeFromData } from './train/data-init';
export { buildBuiltinModel } from './models/builtin';
export { resolveModel } from './models/resolve';
export { findNormLayers } from './models/norm-layers';
export { loadModel } from './convert/load-model';
export { convertLayersModel } from './convert/bn-to-batchless';
export { checkParity } from './convert/parity';
export { writeTfjsModel } from './convert/write-tfjs';
export { loadDataset, loadMnist, loadCsv, loadNpyPair, syntheticGaussian, shuffleDataset, splitDataset } from './data';
export { loadSessionData } from './data/session-split';
export type { Dataset } from './data';
export type { TrainEvent, TrainSummary } from '../shared/train-events';
