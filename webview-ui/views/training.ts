/**
 * Training: the run's settings, its status, the task loss with each batchless layer's NLL (the
 * distribution mismatch) over steps, and the test accuracy at each evaluation. Steps stream in
 * while training runs; they are appended to the existing charts.
 */
import type { ToWebview, TrainingViewState } from '../../src/shared/protocol';
import type { EvalEvent, StepEvent } from '../../src/shared/train-events';
import { axis, chartFigure, createChart, describe, UpdateScheduler, type Chart } from '../charts';
import { COMMAND_TITLES } from '../commands';
import { el, emptyState, errorState, replaceContent, facts } from '../dom';
import { formatBytes, formatCount, formatDuration, formatNumber, formatPercent } from '../format';
import { withAlpha } from '../theme';
import { commandButton, setStatus, statusLine, toolbar, viewHeader } from './layout';
import type { NamedChart, View, ViewContext } from './view';

type Point = { x: number; y: number };
type LineChart = Chart<'line', Point[]>;

export const TASK_LOSS_LABEL = 'task loss';
export const TEST_ACCURACY_LABEL = 'test accuracy';
export const nllLabel = (layer: string): string => `NLL (${layer})`;

export function createTrainingView(ctx: ViewContext): View<TrainingViewState> {
  let lossChart: LineChart | undefined;
  let accuracyChart: LineChart | undefined;
  let lossCanvas: HTMLCanvasElement | undefined;
  let accuracyCanvas: HTMLCanvasElement | undefined;
  let status: HTMLElement | undefined;
  let summary: HTMLElement | undefined;
  let current: TrainingViewState | undefined;
  // Loss spans orders of magnitude early in training; the log axis is the default where valid.
  let logScale = true;
  const scheduler = new UpdateScheduler(() => {
    describeCharts();
    ctx.updated();
  });

  function destroy(): void {
    scheduler.cancel();
    lossChart?.destroy();
    accuracyChart?.destroy();
    lossChart = accuracyChart = undefined;
  }

  function render(state: TrainingViewState): void {
    destroy();
    current = state;
    const { root } = ctx;
    if (state.status === 'idle' && state.steps.length === 0) {
      replaceContent(
        root,
        viewHeader('Training'),
        emptyState(
          `No training run yet. Run “${COMMAND_TITLES.train}” from the Command Palette.`,
          commandButton(ctx, 'train', 'primary'),
        ),
      );
      return;
    }

    status = statusLine();
    summary = el('section', { className: 'summary' });
    const logToggle = el('input', {
      id: 'log-scale',
      attrs: { type: 'checkbox', 'aria-describedby': 'log-scale-hint' },
    });
    const canUseLog = state.steps.every((s) => s.taskLoss > 0);
    logToggle.checked = logScale && canUseLog;
    logToggle.disabled = !canUseLog;
    logToggle.addEventListener('change', () => {
      logScale = logToggle.checked;
      if (!lossChart) return;
      const scales = lossChart.options.scales as Record<string, { type?: string }>;
      scales.loss.type = logScale ? 'logarithmic' : 'linear';
      lossChart.update('none');
      ctx.updated();
    });

    const loss = chartFigure(
      'training-loss',
      'Loss over steps',
      'Task loss on the left axis; each batchless layer’s negative log-likelihood of its input ' +
        'under the learned Gaussian (the distribution mismatch) on the right axis.',
    );
    const accuracy = chartFigure('training-accuracy', 'Test accuracy');
    lossCanvas = loss.canvas;
    accuracyCanvas = accuracy.canvas;

    replaceContent(
      root,
      viewHeader('Training'),
      status,
      state.status === 'failed' ? errorState('Training failed.', state.message) : null,
      facts(settingsRows(state), 'Run settings'),
      summary,
      toolbar(
        el(
          'label',
          { className: 'checkbox', attrs: { for: 'log-scale' } },
          logToggle,
          'Logarithmic task-loss axis',
        ),
        el('span', {
          id: 'log-scale-hint',
          className: 'muted',
          text: canUseLog ? '' : '(needs positive losses)',
        }),
        commandButton(ctx, 'train'),
        commandButton(ctx, 'export'),
      ),
      el('div', { className: 'charts' }, loss.figure, accuracy.figure),
    );
    renderStatus(state);

    const palette = ctx.palette();
    const layers = nllLayers(state.steps);
    lossChart = createChart<'line', Point[]>(
      loss.canvas,
      {
        type: 'line',
        data: {
          datasets: [
            {
              label: TASK_LOSS_LABEL,
              data: state.steps.map((s) => ({ x: s.step, y: s.taskLoss })),
              yAxisID: 'loss',
              borderColor: palette.blue,
              backgroundColor: palette.blue,
              borderWidth: 2,
              pointRadius: 0,
              pointStyle: 'line',
            },
            ...layers.map((layer, i) => nllDataset(layer, i, state.steps)),
          ],
        },
        options: {
          interaction: { mode: 'nearest', axis: 'x', intersect: false },
          scales: {
            x: { type: 'linear', ...axis(palette, 'step'), min: 0 },
            loss: {
              type: logScale && canUseLog ? 'logarithmic' : 'linear',
              position: 'left',
              ...axis(palette, 'task loss', formatNumber),
            },
            nll: {
              type: 'linear',
              position: 'right',
              display: 'auto',
              ...axis(palette, 'NLL (nats)', formatNumber),
              grid: { drawOnChartArea: false, color: palette.border },
            },
          },
          plugins: {
            // Line samples in the legend, so dashed NLL series read as dashed.
            legend: { labels: { usePointStyle: true, pointStyleWidth: 28 } },
            tooltip: {
              callbacks: {
                title: (items) => (items[0] ? `step ${items[0].parsed.x}` : ''),
                label: (item) => `${item.dataset.label}: ${formatNumber(item.parsed.y ?? NaN)}`,
              },
            },
          },
        },
      },
      palette,
    );
    accuracyChart = createChart<'line', Point[]>(
      accuracy.canvas,
      {
        type: 'line',
        data: {
          datasets: [
            {
              label: TEST_ACCURACY_LABEL,
              data: state.evals.map((e) => ({ x: e.step, y: e.testAccuracy })),
              borderColor: palette.green,
              backgroundColor: palette.green,
              borderWidth: 2,
              pointRadius: 4,
              pointHoverRadius: 6,
            },
          ],
        },
        options: {
          interaction: { mode: 'nearest', axis: 'x', intersect: false },
          scales: {
            x: { type: 'linear', ...axis(palette, 'step'), min: 0 },
            y: {
              type: 'linear',
              ...axis(palette, 'accuracy', (v) => `${Math.round(v * 100)} %`),
              min: 0,
              max: 1,
            },
          },
          plugins: {
            tooltip: {
              callbacks: {
                title: (items) => (items[0] ? `step ${items[0].parsed.x}` : ''),
                label: (item) => `${item.dataset.label}: ${formatPercent(item.parsed.y ?? NaN)}`,
              },
            },
          },
        },
      },
      palette,
    );
    describeCharts();
  }

  function nllDataset(layer: string, index: number, steps: StepEvent[]) {
    const palette = ctx.palette();
    // Blue is the task loss; layers take the remaining series colours, dashed.
    const color = palette.series[(index + 1) % palette.series.length];
    return {
      label: nllLabel(layer),
      data: steps.filter((s) => layer in s.nll).map((s) => ({ x: s.step, y: s.nll[layer] })),
      yAxisID: 'nll',
      borderColor: color,
      backgroundColor: withAlpha(color, 0.6),
      borderWidth: 1.5,
      borderDash: [6, 3],
      pointRadius: 0,
      pointStyle: 'line' as const,
    };
  }

  function appendStep(step: StepEvent): void {
    if (!lossChart) return;
    const { datasets } = lossChart.data;
    datasets[0].data.push({ x: step.step, y: step.taskLoss });
    for (const [layer, value] of Object.entries(step.nll)) {
      const label = nllLabel(layer);
      let dataset = datasets.find((d) => d.label === label);
      if (!dataset) {
        dataset = nllDataset(layer, datasets.length - 1, []);
        datasets.push(dataset);
      }
      dataset.data.push({ x: step.step, y: value });
    }
    scheduler.schedule(lossChart);
  }

  function appendEval(evaluation: EvalEvent): void {
    if (!accuracyChart) return;
    accuracyChart.data.datasets[0].data.push({ x: evaluation.step, y: evaluation.testAccuracy });
    scheduler.schedule(accuracyChart);
  }

  function renderStatus(state: TrainingViewState): void {
    if (status) {
      const [tone, text] = statusText(state);
      setStatus(status, tone, text);
    }
    if (summary) {
      summary.replaceChildren();
      if (state.summary) summary.append(facts(summaryRows(state), 'Run summary'));
    }
  }

  function describeCharts(): void {
    if (!current) return;
    if (lossCanvas) describe(lossCanvas, lossSummary(current.steps));
    if (accuracyCanvas) describe(accuracyCanvas, accuracySummary(current.evals));
  }

  return {
    render,
    destroy,
    apply(message: ToWebview, state: TrainingViewState): boolean {
      current = state;
      if (message.type !== 'trainEvent') return message.type !== 'state';
      const { event } = message;
      switch (event.type) {
        case 'start':
          return false;
        case 'step':
          if (!lossChart) return false;
          // The log axis cannot show a non-positive loss: rebuild on linear.
          if (event.taskLoss <= 0 && logScale) return false;
          appendStep(event);
          renderStatus(state);
          return true;
        case 'eval':
          if (!accuracyChart) return false;
          appendEval(event);
          return true;
        case 'done':
          if (!lossChart) return false;
          scheduler.flush();
          renderStatus(state);
          return true;
        default:
          return true;
      }
    },
    charts(): NamedChart[] {
      const named: NamedChart[] = [];
      if (lossChart) named.push({ id: 'training-loss', chart: lossChart as unknown as Chart });
      if (accuracyChart) {
        named.push({ id: 'training-accuracy', chart: accuracyChart as unknown as Chart });
      }
      return named;
    },
  };
}

function nllLayers(steps: StepEvent[]): string[] {
  const layers = new Set<string>();
  for (const step of steps) for (const layer of Object.keys(step.nll)) layers.add(layer);
  return [...layers];
}

function settingsRows(state: TrainingViewState): [string, string | undefined][] {
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
  ];
}

function summaryRows(state: TrainingViewState): [string, string | undefined][] {
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

function statusText(
  state: TrainingViewState,
): ['info' | 'running' | 'ok' | 'warning' | 'error', string] {
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

function lossSummary(steps: StepEvent[]): string {
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

function accuracySummary(evals: EvalEvent[]): string {
  if (evals.length === 0) return 'Test accuracy: no evaluation yet.';
  const last = evals[evals.length - 1];
  return (
    `Test accuracy at ${evals.length} evaluation${evals.length === 1 ? '' : 's'}: ` +
    `${formatPercent(last.testAccuracy)} at step ${last.step}.`
  );
}
