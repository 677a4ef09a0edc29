import { BackendName, setBackend } from '../../engine/backend/select';
import { loadSessionData } from '../../engine/data/session-split';
import { sliceBatch } from '../../engine/data/dataset';
import { NORM_KINDS } from '../../engine/models/builtin';
import { findBatchlessLayers } from '../../engine/models/norm-layers';
import { resolveModel } from '../../engine/models/resolve';
import { checkAccumulation } from '../../engine/train/accumulation-check';
import { initializeFromData } from '../../engine/train/data-init';
import { modelInputShape } from '../../engine/train/trainer';
import { choiceOption, intOption, parseOptions, UsageError } from '../args';
import { table } from '../format';

export const CHECK_USAGE = 'batchless check-accumulation --model builtin:mlp|builtin:cnn|<model file> --batch B [--micro m] [--norm batchless|batch|none] [--data mnist|…] [--seed S] [--backend …] [--json]';

const OPTIONS = {
  model: { type: 'string' },
  batch: { type: 'string' },
  micro: { type: 'string' },
  norm: { type: 'string' },
  data: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Shows, on the user's own model, how accumulated micro-batch gradients compare with the full batch. */
export async function checkAccumulationCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required');
  if (!values.batch) throw new UsageError('--batch is required');
  const batchSize = intOption(values.batch, 'batch', 32);
  const micro = intOption(values.micro, 'micro', 1);
  if (micro > batchSize) throw new UsageError(`--micro (${micro}) must not exceed --batch (${batchSize})`);
  const seed = intOption(values.seed, 'seed', 0, 0);
  const backend = await setBackend(values.backend as BackendName | undefined);
  const norm = values.norm === undefined ? undefined : choiceOption(values.norm, 'norm', NORM_KINDS, 'batchless');
  const resolved = await resolveModel(values.model, { norm, seed });
  const inputShape = modelInputShape(resolved.model);
  const { train } = loadSessionData(values.data ?? 'mnist', seed, inputShape);
  if (train.count < batchSize) throw new UsageError(`--batch ${batchSize} is larger than the training data (${train.count} instances)`);
  const batchless = findBatchlessLayers(resolved.model);
  // Fresh batchless statistics start at μ=0, σ=1; measure where training would really start.
  if (batchless.length > 0 && !resolved.conversion) initializeFromData(resolved.model, batchless, sliceBatch(train, 0, Math.min(512, train.count)), inputShape);
  const report = checkAccumulation(resolved.model, sliceBatch(train, 0, batchSize), micro, inputShape, train.numClasses);
  if (values.json) {
    console.log(JSON.stringify({ backend: backend.name, model: resolved.name, ...report }));
    return 0;
  }
  console.log(`${resolved.name} on ${backend.name}: gradient of one batch of ${batchSize}, whole vs accumulated from micro-batches of ${micro}\n`);
  console.log(
    table(
      ['variable', 'max abs diff', 'max rel diff'],
      report.variables.map((v) => [v.variable, v.maxAbsDiff.toExponential(2), v.maxRelDiff.toExponential(2)]),
    ),
  );
  console.log(`\noverall: max abs diff ${report.maxAbsDiff.toExponential(2)}, max rel diff ${report.maxRelDiff.toExponential(2)} (relative to each gradient's largest |value|)`);
  console.log(report.explanation);
  return 0;
}
