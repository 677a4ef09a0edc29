/**
 * Training: the run's settings, its status, the task loss with each batchless layer's NLL (the
 * distribution mismatch) over steps, and the test accuracy at each evaluation. Steps stream in
 * while training runs; they are appended to the existing charts.
 */
import type { ToWebview, TrainingViewState } from '../../src/shared/protocol';
import type { EvalEvent, StepEvent } from '../../src/shared/train-events';
import { chartFigure, describe, UpdateScheduler, type Chart } from '../charts';
import { COMMAND_TITLES } from '../commands';
import { el, emptyState, errorState, replaceContent, facts } from '../dom';
import { commandButton, setStatus, statusLine, toolbar, viewHeader } from './layout';
import {
  accuracySummary,
  lossSummary,
  settingsRows,
  statusText,
  summaryRows,
} from './training-text';
import {
  accuracyChart as accuracyChartOf,
  lossChart as lossChartOf,
  nllDataset,
  nllLabel,
  setLossScale,
  type LineChart,
} from './training-charts';
import type { NamedChart, View, ViewContext } from './view';

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
      setLossScale(lossChart, logScale);
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
    lossChart = lossChartOf(loss.canvas, palette, state.steps, logScale && canUseLog);
    accuracyChart = accuracyChartOf(accuracy.canvas, palette, state.evals);
    describeCharts();
  }

  function appendStep(step: StepEvent): void {
    if (!lossChart) return;
    const { datasets } = lossChart.data;
    datasets[0].data.push({ x: step.step, y: step.taskLoss });
    for (const [layer, value] of Object.entries(step.nll)) {
      const label = nllLabel(layer);
      let dataset = datasets.find((d) => d.label === label);
      if (!dataset) {
        dataset = nllDataset(ctx.palette(), layer, datasets.length - 1, []);
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
