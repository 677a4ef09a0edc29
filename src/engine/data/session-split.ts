import { Dataset, reshapeDataset, shuffleDataset, splitDataset } from './dataset';
import { loadDataset, LoadOptions } from './load';

export interface SessionData {
  train: Dataset;
  test: Dataset;
}

/** The share of a dataset held out for testing (MNIST: the last 2,000 of 10,000 after shuffling). */
export const TEST_FRACTION = 0.2;

/**
 * The data of a training session: loaded from a spec, shuffled with the seed, the first 80% for
 * training and the rest for testing (the benchmark protocol), reshaped to the model's input.
 */
export function loadSessionData(
  spec: string,
  seed: number,
  inputShape: number[],
  options: LoadOptions = {},
): SessionData {
  const all = shuffleDataset(loadDataset(spec, options), seed);
  const { train, test } = splitDataset(all, { trainFraction: 1 - TEST_FRACTION });
  return { train: reshapeDataset(train, inputShape), test: reshapeDataset(test, inputShape) };
}
