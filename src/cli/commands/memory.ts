import { BackendName, setBackend } from '../../engine/backend/select';
import { loadSessionData } from '../../engine/data/session-split';
import { CATEGORY_LABELS, MemoryCategories, StepBreakdown } from '../../engine/memory/breakdown';
import { MicroBatchChoice, parseBytes } from '../../engine/memory/budget';
import { MemoryPoint, memoryReport } from '../../engine/memory/report';
import { findNormLayers } from '../../engine/models/norm-layers';
import { resolveModel } from '../../engine/models/resolve';
import { OPTIMIZERS } from '../../engine/train/config';
import { modelInputShape } from '../../engine/train/trainer';
import { choiceOption, intOption, parseOptions, UsageError } from '../args';
import { formatBytes, table } from '../format';

export const MEMORY_USAGE = `batchless memory --model builtin:mlp|builtin:cnn|<model file> [--batches 1,8,64,256,1024] [--micro 1,8]
                [--data mnist|…] [--optimizer adam|sgd|momentum|rmsprop] [--seed S] [--backend …] [--json]`;

const OPTIONS = {
  model: { type: 'string' },
  batches: { type: 'string' },
  micro: { type: 'string' },
  data: { type: 'string' },
  optimizer: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function intList(value: string | undefined, name: string, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const list = value.split(',').map((part) => intOption(part.trim(), name, 1));
  return [...new Set(list)].sort((a, b) => a - b);
}

/** Peak step memory vs effective batch size, BN (whole batch) against batchless (micro-batches), measured. */
export async function memoryCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required');
  const batchSizes = intList(values.batches, 'batches', [1, 8, 64, 256, 1024]);
  const microBatchSizes = intList(values.micro, 'micro', [1, 8]);
  const optimizer = choiceOption(values.optimizer, 'optimizer', OPTIMIZERS, 'adam');
  const seed = intOption(values.seed, 'seed', 0, 0);
  const backend = await setBackend(values.backend as BackendName | undefined);
  const batchless = await resolveModel(values.model, { norm: 'batchless', seed });
  const original = batchless.builtin
    ? await resolveModel(values.model, { norm: 'batch', seed })
    : await resolveModel(values.model, { seed });
  const bnModel = findNormLayers(original.model).some((ref) => ref.kind === 'batch')
    ? original.model
    : undefined;
  const inputShape = modelInputShape(batchless.model);
  const { train } = loadSessionData(values.data ?? 'mnist', seed, inputShape);
  const json = values.json === true;
  if (!json) {
    console.log(
      `${batchless.name} on ${backend.name}: peak tensor memory of one training step (${optimizer}), measured step by step`,
    );
    for (const note of batchless.notes) console.log(`note: ${note}`);
    if (!bnModel)
      console.log('note: the model has no batch normalization, so there is no BN column');
  }
  const report = await memoryReport(bnModel, batchless.model, train, {
    batchSizes,
    microBatchSizes,
    inputShape,
    optimizer,
    onPoint: json
      ? undefined
      : (p) =>
          process.stderr.write(
            `  measured ${p.norm === 'batch' ? 'BN' : 'batchless'} batch ${p.batchSize} micro ${p.microBatchSize}\n`,
          ),
  });
  if (json) {
    console.log(
      JSON.stringify({
        type: 'memory',
        backend: backend.name,
        model: batchless.name,
        optimizer,
        points: report.points,
        largest: report.largest,
      }),
    );
    return 0;
  }
  printSweep(report.points, batchSizes, microBatchSizes, bnModel !== undefined);
  printBreakdown(report.largest.batch, report.largest.batchless);
  return 0;
}

function printSweep(
  points: MemoryPoint[],
  batchSizes: number[],
  micros: number[],
  withBn: boolean,
): void {
  const find = (norm: MemoryPoint['norm'], batch: number, micro: number) =>
    points.find((p) => p.norm === norm && p.batchSize === batch && p.microBatchSize === micro);
  const cell = (p: MemoryPoint | undefined) => (p ? formatBytes(p.peakStepBytes) : 'n/a');
  const header = [
    'effective batch',
    ...(withBn ? ['BN (whole batch)'] : []),
    ...micros.map((m) => `batchless micro ${m}`),
  ];
  const rows = batchSizes.map((b) => [
    String(b),
    ...(withBn ? [cell(find('batch', b, b))] : []),
    ...micros.map((m) => cell(find('batchless', b, m))),
  ]);
  console.log(
    "\npeak tensor memory of computing one effective batch's gradients, beyond the weights and optimizer state alive before it",
  );
  console.log(table(header, rows));
  const update = Math.max(...points.map((p) => p.updatePeakStepBytes));
  console.log(
    `  the optimizer update that follows peaks at ${formatBytes(update)} beyond them, whatever the batch (tfjs keeps every variable's update temporaries until it ends)`,
  );
}

function printBreakdown(bn: StepBreakdown | undefined, batchless: StepBreakdown): void {
  const columns = [
    ...(bn ? [{ title: `BN, batch ${bn.batchSize}`, b: bn }] : []),
    {
      title: `batchless, batch ${batchless.batchSize} as micro ${batchless.microBatchSize}`,
      b: batchless,
    },
  ];
  const keys = Object.keys(CATEGORY_LABELS) as (keyof MemoryCategories)[];
  const rows = [
    ...keys.map((k) => [
      CATEGORY_LABELS[k],
      ...columns.map(({ b }) => formatBytes(b.backprop.categories[k])),
    ]),
    [
      '  other: backward temporaries',
      ...columns.map(({ b }) => formatBytes(b.backprop.otherDetail.backward)),
    ],
    [
      '  other: resident, not this model',
      ...columns.map(({ b }) => formatBytes(b.backprop.otherDetail.resident)),
    ],
    [
      '= peak while computing gradients',
      ...columns.map(({ b }) => formatBytes(b.backprop.peakBytes)),
    ],
    [
      '  same peak, tfjs accounting',
      ...columns.map(({ b }) => formatBytes(b.backprop.tfjsPeakBytes)),
    ],
    ['peak of the optimizer update', ...columns.map(({ b }) => formatBytes(b.update.peakBytes))],
    [
      'most activations alive at once',
      ...columns.map(({ b }) => formatBytes(b.activationsPeakBytes)),
    ],
    [
      'lower bound for the whole step',
      ...columns.map(({ b }) => formatBytes(b.lowerBound.totalBytes)),
    ],
    [
      '  of which activations',
      ...columns.map(({ b }) => formatBytes(b.lowerBound.activationsBytes)),
    ],
    [
      'process: resident set before',
      ...columns.map(({ b }) => formatBytes(b.process.rssBeforeBytes ?? NaN)),
    ],
    [
      'process: resident set peak',
      ...columns.map(({ b }) => formatBytes(b.process.rssPeakBytes ?? NaN)),
    ],
    ...(columns.some(({ b }) => b.process.wasmHeapBytes !== null)
      ? [
          [
            'process: wasm heap',
            ...columns.map(({ b }) => formatBytes(b.process.wasmHeapBytes ?? NaN)),
          ],
        ]
      : []),
  ];
  const largest = Math.max(...columns.map(({ b }) => b.batchSize));
  console.log(
    `\nbreakdown at effective batch ${largest} (tensor level, unique buffers, weights and optimizer state included)`,
  );
  console.log(table(['', ...columns.map((c) => c.title)], rows));
  console.log(
    '  Backward temporaries are mostly gradients with respect to activations, which tfjs keeps until the backward pass ends.',
  );
  console.log(
    '  With small micro-batches the peak can fall between micro-batches, when their activations are already freed; "most activations alive at once" is their own maximum.',
  );
  console.log(
    '  The lower bound counts weights, one set of gradients, the optimizer state and the activations backprop must keep for one micro-batch.',
  );
  console.log(
    '  Tensor level: tfjs tensors only. Process level: the whole process as the OS sees it (libraries, JS heap, allocator caches).',
  );
  if (!batchless.process.available) console.log(`  process level: ${batchless.process.note}`);
}

/** `--memory-budget 64MB` → bytes (KB/MB/GB are powers of 1024), or a usage error quoting the value. */
export function budgetOption(value: string): number {
  try {
    return parseBytes(value);
  } catch (err) {
    throw new UsageError(`--memory-budget: ${(err as Error).message}`);
  }
}

/** One line for `batchless train --memory-budget`: what was picked and the measurements behind it. */
export function describeChoice(choice: MicroBatchChoice): string {
  const split =
    choice.microBatchSize < choice.batchSize
      ? `micro-batches of ${choice.microBatchSize}`
      : `the whole batch of ${choice.batchSize} at once`;
  return (
    `memory budget ${formatBytes(choice.budgetBytes)}: ${split}, predicted step peak ${formatBytes(choice.predictedPeakBytes)} ` +
    `(measured: ${formatBytes(choice.fixedBytes)} fixed + ${formatBytes(choice.perInstanceBytes)} per instance; optimizer update ${formatBytes(choice.updatePeakBytes)})`
  );
}
