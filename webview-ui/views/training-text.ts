/** The training view's words: run settings, summary, status line, chart descriptions. */
import type { TrainingViewState } from '../../src/shared/protocol';
import type { EvalEvent, StepEvent } from '../../src/shared/train-events';
import { formatBytes, formatCount, formatDuration, formatNumber, formatPercent } from '../format';
import type { StatusTone } from './layout';
import { nllLabel } from './training-charts';

export function settingsRows(state: TrainingViewState): [string, string | undefined][] {
  const r = state.request;
  const backend = state.backend ?? state.summary?.backend;
  if (!r) return [['Backend', backend]];
  return [
    ['Model', r.model],
    ['Data', r.data],
    ['Normalization', r.norm],
    ['Batch', `${r.batchSize}`],
    [
      'Micro-batch',
      r.microBatchSize < r.batchSize
        ? `${r.microBatchSize} (${Math.ceil(r.batchSize / r.microBatchSize)} accumulated)`
        : `${r.microBatchSize}`,
    ],
    ['Epochs', `${r.epochs}`],
    ['Max steps', r.maxSteps > 0 ? `${r.maxSteps}` : undefined],
    ['Learning rate', formatNumber(r.learningRate)],
    ['Seed', `${r.seed}`],
    ['Backend', backend],
    ['Training step', stepPathText(state)],
    ['Compiled graph', state.stepPath === 'native' ? `${state.stepGraph ? 'yes' : 'no'}${state.stepGraphReason ? `: ${state.stepGraphReason}` : ''}` : undefined],
  ];
}

/** 'native' or 'generic' in words, with the reason the native step did not run. */
function stepPathText(state: TrainingViewState): string | undefined {
  if (state.stepPath === 'native') {
    const threads = state.stepThreads ?? 1;
    const spread = threads > 1 ? `each batch spread over ${threads} threads` : 'on one thread';
    return `native (TensorFlow ops per layer), ${spread}${state.stepThreadsReason ? ` (${state.stepThreadsReason})` : ''}`;
  }
  if (state.stepPath === 'generic') return `generic (tfjs autodiff)${state.stepPathReason ? `: ${state.stepPathReason}` : ''}`;
  return undefined;
}

export function summaryRows(state: TrainingViewState): [string, string | undefined][] {
  const s = state.summary;
  if (!s) return [];
  return [
    ['Test accuracy', formatPercent(s.testAccuracy)],
    ['Test loss', formatNumber(s.testLoss)],
    ['Train loss (last epoch)', formatNumber(s.trainLoss)],
    ['Samples', formatCount(s.samples)],
    ['Throughput', `${formatNumber(s.samplesPerSecond, 3)} samples/s`],
    ['Peak step memory', formatBytes(s.peakStepBytes)],
    ['Elapsed', formatDuration(s.elapsedMs)],
  ];
}

export function statusText(state: TrainingViewState): [StatusTone, string] {
  const last = state.steps[state.steps.length - 1];
  const steps = state.summary?.steps ?? last?.step ?? 0;
  const reason = state.message ? `: ${state.message}` : '.';
  switch (state.status) {
    case 'idle':
      return ['info', 'Not started.'];
    case 'running':
      return [
        'running',
        last
          ? `Running: step ${last.step}, epoch ${last.epoch}, ${formatCount(last.samples)} samples, ` +
            `${formatNumber(last.samplesPerSecond, 3)} samples/s, ${formatDuration(last.elapsedMs)}.`
          : 'Starting…',
      ];
    case 'completed':
      return [
        'ok',
        `Completed ${steps} steps` +
          (state.summary
            ? ` in ${formatDuration(state.summary.elapsedMs)}; test accuracy ` +
              `${formatPercent(state.summary.testAccuracy)}.`
            : '.'),
      ];
    case 'cancelled':
      return ['warning', `Cancelled after ${steps} steps${reason}`];
    case 'diverged':
      return ['error', `Diverged at step ${steps}${reason}`];
    case 'failed':
      return ['error', `Failed${reason}`];
  }
}

export function lossSummary(steps: StepEvent[]): string {
  if (steps.length === 0) return 'Loss over steps: no steps yet.';
  const first = steps[0];
  const last = steps[steps.length - 1];
  const lowest = steps.reduce((min, s) => Math.min(min, s.taskLoss), Infinity);
  const nll = Object.entries(last.nll)
    .map(([layer, value]) => `${nllLabel(layer)} ${formatNumber(value)}`)
    .join(', ');
  return (
    `Loss over ${steps.length} steps: task loss from ${formatNumber(first.taskLoss)} at step ` +
    `${first.step} to ${formatNumber(last.taskLoss)} at step ${last.step}, lowest ` +
    `${formatNumber(lowest)}.` +
    (nll ? ` Latest ${nll}.` : '')
  );
}

export function accuracySummary(evals: EvalEvent[]): string {
  if (evals.length === 0) return 'Test accuracy: no evaluation yet.';
  const last = evals[evals.length - 1];
  return (
    `Test accuracy at ${evals.length} evaluation${evals.length === 1 ? '' : 's'}: ` +
    `${formatPercent(last.testAccuracy)} at step ${last.step}.`
  );
}
