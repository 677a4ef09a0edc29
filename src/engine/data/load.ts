import { CsvOptions, loadCsv } from './csv';
import { Dataset, DataError, quoteValue, takeDataset } from './dataset';
import { loadMnist } from './mnist';
import { loadNpyPair } from './npy';
import { SyntheticOptions, syntheticGaussian } from './synthetic';

export interface LoadOptions extends CsvOptions {
  /** Keep only the first `limit` examples (before any shuffle the caller does). */
  limit?: number;
  /** Overrides for 'synthetic'; keys given in the spec itself win over these. */
  synthetic?: Partial<SyntheticOptions>;
}

/** What 'synthetic' means when nothing else is said: a small four-class problem. */
export const SYNTHETIC_DEFAULTS: SyntheticOptions = {
  count: 2000,
  features: 20,
  numClasses: 4,
  seed: 1,
  separation: 3,
};

export const DATASET_SPEC_HELP =
  "'mnist', 'synthetic[:count=N,features=N,classes=N,seed=N,separation=X]', " +
  "'<file>.csv' or '<x>.npy,<y>.npy'";

/**
 * Loads a dataset from a spec as typed on the command line or in a setting:
 *   mnist                          the 10,000 digits of the `mnist` package
 *   synthetic[:count=…,features=…,classes=…,seed=…,separation=…]
 *   path/to/file.csv               numeric features + label column (see loadCsv)
 *   path/x.npy,path/y.npy          features and labels as NumPy arrays
 */
export function loadDataset(spec: string, options: LoadOptions = {}): Dataset {
  const text = spec.trim();
  const lower = text.toLowerCase();
  let dataset: Dataset;
  if (lower === 'mnist') {
    dataset = loadMnist();
  } else if (lower === 'synthetic' || lower.startsWith('synthetic:')) {
    dataset = syntheticGaussian({
      ...SYNTHETIC_DEFAULTS,
      ...options.synthetic,
      ...parseSyntheticParams(text.slice('synthetic'.length + 1), spec),
    });
  } else if (lower.endsWith('.csv')) {
    dataset = loadCsv(text, {
      labelColumn: options.labelColumn,
      header: options.header,
    });
  } else if (lower.endsWith('.npy')) {
    const parts = text.split(',').map((part) => part.trim());
    if (parts.length !== 2 || !parts.every((part) => part.toLowerCase().endsWith('.npy'))) {
      throw new DataError({
        file: spec,
        expected: "two .npy files as '<x>.npy,<y>.npy'",
      });
    }
    dataset = loadNpyPair(parts[0], parts[1]);
  } else {
    throw new DataError({
      file: spec || "''",
      expected: `a dataset spec: ${DATASET_SPEC_HELP}`,
    });
  }
  return takeDataset(dataset, options.limit);
}

const SYNTHETIC_KEYS: Record<string, keyof SyntheticOptions> = {
  count: 'count',
  features: 'features',
  classes: 'numClasses',
  numclasses: 'numClasses',
  seed: 'seed',
  separation: 'separation',
};

function parseSyntheticParams(text: string, spec: string): Partial<SyntheticOptions> {
  const params: Partial<SyntheticOptions> = {};
  if (text.trim() === '') return params;
  for (const pair of text.split(',')) {
    const [rawKey, rawValue, ...rest] = pair.split('=');
    const key = SYNTHETIC_KEYS[rawKey.trim().toLowerCase()];
    const value = Number(rawValue?.trim());
    if (!key || rest.length > 0 || rawValue === undefined || !Number.isFinite(value)) {
      throw new DataError({
        file: spec,
        expected: `key=number pairs with keys ${Object.keys(SYNTHETIC_KEYS).join(', ')}`,
        got: quoteValue(pair),
      });
    }
    params[key] = value;
  }
  return params;
}
