/**
 * Memory: the peak tensor bytes of each training step of the last run, and the sweep that is
 * the point of batchless normalization: peak step memory against effective batch size for BN
 * (statistics need the whole batch at once) and for batchless at each micro-batch size.
 */
import type { MemoryViewState, SweepPointData, ToWebview } from '../../src/shared/protocol';
import type { MemoryEvent } from '../../src/shared/train-events';
import { chartFigure, describe, UpdateScheduler, type Chart } from '../charts';
import { COMMAND_TITLES } from '../commands';
import { el, emptyState, errorState, replaceContent } from '../dom';
import { formatBytes } from '../format';
import {
  BN_SWEEP_LABEL,
  batchlessSweepLabel,
  buildPerStepChart,
  buildSweepChart,
  sweepDatasets,
  updateSweepTicks,
  type LineChart,
} from './memory-charts';
import { commandButton, setStatus, statusLine, toolbar, viewHeader } from './layout';
import type { NamedChart, View, ViewContext } from './view';

const MEASURED =
  'Measured: tf.profile peak during one training step minus bytes alive before it ' +
  '(weights, optimizer state), so only what the step itself allocates.';

export function createMemoryView(ctx: ViewContext): View<MemoryViewState> {
  let perStepChart: LineChart | undefined;
  let sweepChart: LineChart | undefined;
  let perStepCanvas: HTMLCanvasElement | undefined;
  let sweepCanvas: HTMLCanvasElement | undefined;
  let status: HTMLElement | undefined;
  let current: MemoryViewState | undefined;
  const scheduler = new UpdateScheduler(() => {
    describeCharts();
    ctx.updated();
  });

  function destroy(): void {
    scheduler.cancel();
    perStepChart?.destroy();
    sweepChart?.destroy();
    perStepChart = sweepChart = undefined;
    perStepCanvas = sweepCanvas = undefined;
  }

  function render(state: MemoryViewState): void {
    destroy();
    current = state;
    const { root } = ctx;
    const hasData = state.perStep.length > 0 || state.sweep.length > 0;
    if (!hasData && state.status !== 'running' && state.status !== 'failed') {
      replaceContent(
        root,
        viewHeader('Memory'),
        emptyState(
          `No memory measurements yet. Run “${COMMAND_TITLES.memory}” from the Command Palette ` +
            `to compare BN with batchless across batch sizes, or “${COMMAND_TITLES.train}” to ` +
            `see each step’s peak.`,
          commandButton(ctx, 'memory', 'primary'),
        ),
      );
      return;
    }

    status = statusLine();
    const figures: HTMLElement[] = [];
    const sweep = chartFigure(
      'memory-sweep',
      'Peak step memory vs effective batch size',
      'BN normalizes with the statistics of the whole batch, so the whole batch’s activations ' +
        'are alive at once; batchless accumulates gradients over micro-batches, so its peak ' +
        'follows the micro-batch size.',
    );
    const perStep = chartFigure('memory-per-step', 'Peak memory per training step (last run)');
    if (state.sweep.length > 0 || state.status === 'running') figures.push(sweep.figure);
    if (state.perStep.length > 0) figures.push(perStep.figure);

    replaceContent(
      root,
      viewHeader('Memory'),
      status,
      state.status === 'failed' ? errorState('Memory measurement failed.', state.message) : null,
      el('p', { className: 'caption', text: MEASURED }),
      toolbar(commandButton(ctx, 'memory'), commandButton(ctx, 'export')),
      el('div', { className: 'charts' }, ...figures),
    );
    renderStatus(state);

    const palette = ctx.palette();
    if (figures.includes(sweep.figure)) {
      sweepCanvas = sweep.canvas;
      sweepChart = buildSweepChart(sweep.canvas, palette, state.sweep);
    }
    if (figures.includes(perStep.figure)) {
      perStepCanvas = perStep.canvas;
      perStepChart = buildPerStepChart(perStep.canvas, palette, state.perStep);
    }
    describeCharts();
  }

  function renderStatus(state: MemoryViewState): void {
    if (!status) return;
    const model = state.model ? ` for ${state.model}` : '';
    switch (state.status) {
      case 'idle':
        setStatus(status, 'info', `Peak memory of the last training run${model}.`);
        break;
      case 'running':
        setStatus(
          status,
          'running',
          `Measuring${model}: ${state.sweep.length} point${state.sweep.length === 1 ? '' : 's'} so far…`,
        );
        break;
      case 'ready':
        setStatus(status, 'ok', `Measured ${state.sweep.length} points${model}.`);
        break;
      case 'failed':
        setStatus(status, 'error', `Failed${state.message ? `: ${state.message}` : '.'}`);
        break;
    }
  }

  function describeCharts(): void {
    if (!current) return;
    if (sweepCanvas) describe(sweepCanvas, sweepSummary(current.sweep));
    if (perStepCanvas) describe(perStepCanvas, perStepSummary(current.perStep));
  }

  return {
    render,
    destroy,
    apply(message: ToWebview, state: MemoryViewState): boolean {
      current = state;
      switch (message.type) {
        case 'sweepPoint': {
          if (!sweepChart) return false;
          // Points may arrive in any order or be re-measured: rebuild the series in place.
          const palette = ctx.palette();
          sweepChart.data.datasets = sweepDatasets(palette, state.sweep);
          updateSweepTicks(sweepChart, state.sweep);
          renderStatus(state);
          scheduler.schedule(sweepChart as unknown as Chart);
          return true;
        }
        case 'trainEvent': {
          const { event } = message;
          if (event.type === 'start') return false;
          if (event.type !== 'memory') return true;
          if (!perStepChart) return false;
          const [peak, resident] = perStepChart.data.datasets;
          peak.data.push({ x: event.step, y: event.peakStepBytes });
          resident.data.push({ x: event.step, y: event.residentBytes });
          scheduler.schedule(perStepChart as unknown as Chart);
          return true;
        }
        case 'state':
          return false;
        default:
          return true;
      }
    },
    charts(): NamedChart[] {
      const named: NamedChart[] = [];
      if (sweepChart) named.push({ id: 'memory-sweep', chart: sweepChart as unknown as Chart });
      if (perStepChart) {
        named.push({ id: 'memory-per-step', chart: perStepChart as unknown as Chart });
      }
      return named;
    },
  };
}

function sweepSummary(sweep: SweepPointData[]): string {
  if (sweep.length === 0) return 'Peak step memory vs effective batch size: no points yet.';
  const series = new Map<string, SweepPointData[]>();
  for (const p of sweep) {
    const label = p.norm === 'batch' ? BN_SWEEP_LABEL : batchlessSweepLabel(p.microBatchSize);
    series.set(label, [...(series.get(label) ?? []), p]);
  }
  const parts = [...series].map(([label, points]) => {
    const sorted = [...points].sort((a, b) => a.batchSize - b.batchSize);
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    return (
      `${label}: ${formatBytes(first.peakStepBytes)} at batch ${first.batchSize}` +
      (sorted.length > 1 ? ` to ${formatBytes(last.peakStepBytes)} at batch ${last.batchSize}` : '')
    );
  });
  return `Peak step memory vs effective batch size. ${parts.join('; ')}.`;
}

function perStepSummary(perStep: MemoryEvent[]): string {
  if (perStep.length === 0) return 'Peak memory per step: no steps yet.';
  const highest = perStep.reduce((max, m) => Math.max(max, m.peakStepBytes), 0);
  const last = perStep[perStep.length - 1];
  return (
    `Peak memory per step over ${perStep.length} steps (micro-batch ${last.microBatchSize}): ` +
    `highest ${formatBytes(highest)}, last ${formatBytes(last.peakStepBytes)} with ` +
    `${formatBytes(last.residentBytes)} resident before the step.`
  );
}
