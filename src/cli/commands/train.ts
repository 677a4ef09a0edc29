import type { TrainEvent, TrainSummary } from '../../shared/train-events';
import { setBackend, BackendName } from '../../engine/backend/select';
import { loadSessionData } from '../../engine/data/session-split';
import { NORM_KINDS } from '../../engine/models/builtin';
import { resolveModel } from '../../engine/models/resolve';
import { INIT_MODES, OPTIMIZERS, STEP_PATHS } from '../../engine/train/config';
import { modelInputShape, train } from '../../engine/train/trainer';
import { pickMicroBatchSize } from '../../engine/memory/budget';
import { budgetOption, describeChoice } from './memory';
import { choiceOption, intOption, numberOption, parseOptions, UsageError } from '../args';
import { formatBytes, formatNumber, formatPercent, summarize, table } from '../format';

export const TRAIN_USAGE = `batchless train --model builtin:mlp|builtin:cnn|<model file> --data mnist|<file.csv>|<x.npy,y.npy>|synthetic
                [--norm batchless|batch|none] [--batch B] [--micro m] [--epochs E] [--steps N] [--seed S]
                [--optimizer adam|sgd|momentum|rmsprop] [--lr X] [--stats-lr X] [--init auto|data|keep|default]
                [--limit N] [--memory-budget 64MB] [--backend tensorflow|wasm|cpu] [--step-path auto|native|generic] [--step-threads N] [--step-graph on|off] [--json]`;

const OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  norm: { type: 'string' },
  batch: { type: 'string' },
  micro: { type: 'string' },
  epochs: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  'stats-lr': { type: 'string' },
  init: { type: 'string' },
  limit: { type: 'string' },
  backend: { type: 'string' },
  'memory-budget': { type: 'string' },
  'step-path': { type: 'string' },
  'step-threads': { type: 'string' },
  'step-graph': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function trainCommand(argv: string[], signal: AbortSignal): Promise<number> {
  const { values } = parseOptions(argv, OPTIONS);
  if (!values.model) throw new UsageError('--model is required');
  const json = values.json === true;
  const seed = intOption(values.seed, 'seed', 0, 0);
  const batchSize = intOption(values.batch, 'batch', 32);
  const config = {
    batchSize,
    microBatchSize: intOption(values.micro, 'micro', batchSize),
    epochs: intOption(values.epochs, 'epochs', 1),
    maxSteps: intOption(values.steps, 'steps', 0, 0),
    seed,
    optimizer: choiceOption(values.optimizer, 'optimizer', OPTIMIZERS, 'adam'),
    learningRate: numberOption(values.lr, 'lr', 1e-3),
    statsLearningRate: values['stats-lr'] === undefined ? 0 : numberOption(values['stats-lr'], 'stats-lr', 1e-3),
    init: choiceOption(values.init, 'init', INIT_MODES, 'auto'),
    stepPath: choiceOption(values['step-path'], 'step-path', STEP_PATHS, 'auto'),
    stepThreads: intOption(values['step-threads'], 'step-threads', 0, 0),
    stepGraph: choiceOption(values['step-graph'], 'step-graph', ['on', 'off'] as const, 'on') === 'on',
  };
  const norm = values.norm === undefined ? undefined : choiceOption(values.norm, 'norm', NORM_KINDS, 'batchless');
  const backend = await setBackend(values.backend as BackendName | undefined);
  const resolved = await resolveModel(values.model, { norm, seed });
  const data = loadSessionData(values.data ?? 'mnist', seed, modelInputShape(resolved.model), { limit: values.limit === undefined ? undefined : intOption(values.limit, 'limit', 0) });
  if (values['memory-budget'] !== undefined) {
    if (values.micro !== undefined) throw new UsageError('--memory-budget picks the micro-batch size; do not also give --micro');
    const choice = await pickMicroBatchSize(resolved.model, data.train, batchSize, budgetOption(values['memory-budget']), { inputShape: modelInputShape(resolved.model), optimizer: config.optimizer });
    config.microBatchSize = choice.microBatchSize;
    if (json) console.log(JSON.stringify({ type: 'budget', ...choice }));
    else console.log(describeChoice(choice));
  }
  const print = json ? (event: object) => console.log(JSON.stringify(event)) : humanPrinter(config.batchSize, config.microBatchSize);
  if (!json) {
    console.log(`backend ${backend.name}${backend.fallbacks.length ? ` (not ${backend.fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ')})` : ''}`);
    for (const note of resolved.notes) console.log(`note: ${note}`);
  }
  const summary = await train(resolved.model, data, config, { signal, onEvent: print, modelName: resolved.name, fromConversion: resolved.conversion !== undefined });
  if (json) console.log(JSON.stringify({ type: 'summary', ...summary }));
  else printSummary(summary);
  return summary.stopped === 'diverged' ? 1 : summary.stopped === 'cancelled' ? 130 : 0;
}

/** Progress about ten times per run, plus the lines that matter. */
export function humanPrinter(batchSize: number, microBatchSize: number): (event: TrainEvent) => void {
  let totalSteps = 0;
  return (event) => {
    switch (event.type) {
      case 'start':
        totalSteps = event.totalSteps;
        console.log(
          `training ${event.model} on ${event.dataset}: ${event.trainCount} train / ${event.testCount} test, ${event.parameters.toLocaleString('en-US')} parameters, ` +
            `${totalSteps} steps of batch ${batchSize}` + (microBatchSize < batchSize ? ` as micro-batches of ${microBatchSize} with gradient accumulation` : ''),
        );
        if (event.stepPath === 'native') {
          console.log(`step: native (TensorFlow ops written out per layer) on ${event.stepThreads ?? 1} thread${(event.stepThreads ?? 1) > 1 ? 's, each a share of the batch' : ''}${event.stepThreadsReason ? `: ${event.stepThreadsReason}` : ''}`);
          console.log(`graph: ${event.stepGraph ? 'compiled' : 'none'}${event.stepGraphReason ? ` (${event.stepGraphReason})` : ''}`);
        } else if (event.stepPath === 'generic') console.log(`step: generic (tfjs autodiff)${event.stepPathReason ? `: ${event.stepPathReason}` : ''}`);
        break;
      case 'init':
        if (event.source === 'data') console.log(`μ/σ initialized from ${event.samples} training instances, strata: ${event.strata.map((s) => s.join('+')).join(' → ')}`);
        else if (event.source === 'keep') console.log('μ/σ kept as loaded (converted from BN moving statistics, or trained before)');
        break;
      case 'step':
        if (event.step === 1 || event.step === totalSteps || event.step % Math.max(1, Math.round(totalSteps / 10)) === 0) {
          const nll = Object.entries(event.nll).map(([layer, v]) => `${layer} ${formatNumber(v, 3)}`).join(' ');
          console.log(`  step ${String(event.step).padStart(String(totalSteps).length)}/${totalSteps}  task loss ${formatNumber(event.taskLoss, 4)}${nll ? `  mismatch ${nll}` : ''}  ${Math.round(event.samplesPerSecond)} samples/s`);
        }
        break;
      case 'memory':
        if (event.step === 1) console.log(`  peak step memory ${formatBytes(event.peakStepBytes)} (tensors; ${formatBytes(event.residentBytes)} resident before the step)`);
        break;
      default:
        break;
    }
  };
}

export function printSummary(summary: TrainSummary): void {
  if (summary.message) console.log(summary.message);
  console.log(
    `\n${summary.stopped}: ${summary.steps} steps, ${summary.samples} samples in ${(summary.elapsedMs / 1000).toFixed(1)} s on ${summary.backend}` +
      ` — test accuracy ${formatPercent(summary.testAccuracy)}, train loss ${formatNumber(summary.trainLoss)}, ${Math.round(summary.samplesPerSecond)} samples/s, peak step memory ${formatBytes(summary.peakStepBytes)}`,
  );
  if (summary.layers.length === 0) return;
  console.log('\nlearned statistics per layer (over channels: min / mean / max)');
  console.log(
    table(
      ['layer', 'kind', 'channels', 'μ', 'σ', 'γ mean', 'β mean'],
      summary.layers.map((l) => {
        const mu = summarize(l.mean);
        const sigma = summarize(l.std);
        return [
          l.layer,
          l.kind,
          String(l.mean.length),
          `${formatNumber(mu.min, 3)} / ${formatNumber(mu.mean, 3)} / ${formatNumber(mu.max, 3)}`,
          `${formatNumber(sigma.min, 3)} / ${formatNumber(sigma.mean, 3)} / ${formatNumber(sigma.max, 3)}`,
          l.gamma ? formatNumber(summarize(l.gamma).mean, 3) : '—',
          l.beta ? formatNumber(summarize(l.beta).mean, 3) : '—',
        ];
      }),
    ),
  );
}
