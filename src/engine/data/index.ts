export {
  type Batch,
  type Dataset,
  type SplitOptions,
  MAX_CLASSES,
  reshapeDataset,
  shapeSize,
  shuffleDataset,
  sliceBatch,
  splitDataset,
  subsetDataset,
  takeDataset,
  validateDataset,
} from './dataset';
export { DataError, type DataErrorDetails, quoteValue } from './errors';
export { gaussianSampler, seededPermutation, seededRandom } from './random';
export { type MnistOptions, loadMnist } from './mnist';
export { type CsvOptions, loadCsv, parseCsv } from './csv';
export { type NpyArray, type NpyDtype, encodeNpy, loadNpyPair, parseNpy, writeNpy } from './npy';
export { type SyntheticOptions, syntheticGaussian } from './synthetic';
export { DATASET_SPEC_HELP, type LoadOptions, SYNTHETIC_DEFAULTS, loadDataset } from './load';
