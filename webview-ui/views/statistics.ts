/**
 * Learned statistics: pick a normalization layer and compare what it normalizes with (learned
 * μ/σ, or BN's moving statistics) against what its input really does, per channel; follow μ/σ
 * over training; see one channel's distribution under the layer's Gaussian.
 */
import type { StatisticsViewState, ToWebview } from '../../src/shared/protocol';
import type { LayerStatisticsSnapshot } from '../../src/shared/train-events';
import { chartFigure, describe, UpdateScheduler, type Chart } from '../charts';
import { COMMAND_TITLES } from '../commands';
import { el, emptyState, errorState, replaceContent } from '../dom';
import { formatCount, formatNumber } from '../format';
import {
  histogramChart,
  layerTrajectory,
  perChannelChart,
  statLabels,
  trajectoryChannels,
  trajectoryChart,
} from './statistics-charts';
import { commandButton, setStatus, statusLine, toolbar, viewHeader } from './layout';
import {
  comparison,
  kindName,
  layerEntries,
  selectedLayer,
  statusText,
  type LayerEntry,
} from './statistics-model';
import type { NamedChart, View, ViewContext } from './view';

type Point = { x: number; y: number };

export function createStatisticsView(ctx: ViewContext): View<StatisticsViewState> {
  let named: NamedChart[] = [];
  let layerSection: HTMLElement | undefined;
  let picker: HTMLSelectElement | undefined;
  let badge: HTMLElement | undefined;
  let trajectory: { chart: Chart<'line', Point[]>; layer: string; channels: number[] } | undefined;
  let trajectoryCanvas: HTMLCanvasElement | undefined;
  let current: StatisticsViewState | undefined;
  const scheduler = new UpdateScheduler(() => ctx.updated());

  function destroyCharts(): void {
    scheduler.cancel();
    for (const { chart } of named) chart.destroy();
    named = [];
    trajectory = undefined;
  }

  function render(state: StatisticsViewState): void {
    destroyCharts();
    current = state;
    const { root } = ctx;
    const layers = layerEntries(state);
    const status = statusLine();
    setStatus(status, ...statusText(state));
    if (layers.length === 0) {
      replaceContent(
        root,
        viewHeader('Learned statistics'),
        state.status === 'idle' ? null : status,
        state.status === 'failed'
          ? errorState('Inspection failed.', state.message)
          : state.status === 'running'
            ? null
            : emptyState(
                `No statistics yet. Run “${COMMAND_TITLES.inspect}” from the Command Palette to ` +
                  `compare each normalization layer’s learned μ/σ with its observed input, or ` +
                  `“${COMMAND_TITLES.train}” to follow μ/σ over training steps.`,
                commandButton(ctx, 'inspect', 'primary'),
              ),
      );
      return;
    }

    const selected = selectedLayer(state, layers);
    picker = el('select', { id: 'layer-picker', attrs: { 'aria-label': 'Normalization layer' } });
    for (const layer of layers) {
      const option = el('option', { text: `${layer.name} (${kindName(layer.kind)})` });
      option.value = layer.name;
      picker.append(option);
    }
    picker.value = selected.name;
    picker.addEventListener('change', () => {
      const layer = picker?.value;
      if (!layer) return;
      ctx.post({ type: 'selectLayer', layer });
      ctx.dispatch({ type: 'selectLayer', layer });
    });
    badge = el('span', { className: 'badge' });
    layerSection = el('section', { className: 'layer', attrs: { 'aria-live': 'polite' } });

    replaceContent(
      root,
      viewHeader('Learned statistics'),
      status,
      state.status === 'failed' ? errorState('Inspection failed.', state.message) : null,
      toolbar(
        el('label', { text: 'Layer', attrs: { for: 'layer-picker' } }),
        picker,
        badge,
        commandButton(ctx, 'inspect'),
        commandButton(ctx, 'export'),
      ),
      layerSection,
    );
    renderLayer(state, selected);
  }

  function renderLayer(state: StatisticsViewState, layer: LayerEntry): void {
    if (!layerSection || !badge) return;
    destroyCharts();
    const palette = ctx.palette();
    const labels = statLabels(layer.kind);
    const inspection = layer.inspection;
    badge.textContent =
      layer.kind === 'batch'
        ? 'batch normalization: “learned” values are the moving statistics'
        : 'batchless: learned μ/σ';
    badge.className = `badge badge-${layer.kind}`;

    const meanFigure = chartFigure(
      'statistics-mean',
      `Mean per channel: ${labels.mean} vs observed`,
    );
    const stdFigure = chartFigure('statistics-std', `Std per channel: ${labels.std} vs observed`);
    const observed = inspection?.observed;
    const figures: HTMLElement[] = [meanFigure.figure, stdFigure.figure];

    const points = layerTrajectory(state.trajectories, layer.name);
    const channels = trajectoryChannels(layer.learned.mean.length, inspection?.histogram?.channel);
    const trajectoryFigure =
      points.length > 0
        ? chartFigure(
            'statistics-trajectory',
            `${labels.mu} and ${labels.sigma} over training steps (channels ${channels.join(', ')})`,
            `Solid: ${labels.mu}; dashed: ${labels.sigma}.`,
          )
        : undefined;
    if (trajectoryFigure) figures.push(trajectoryFigure.figure);

    const histogram = inspection?.histogram;
    const histogramFigure = histogram
      ? chartFigure(
          'statistics-histogram',
          `Channel ${histogram.channel}: observed distribution and the layer’s Gaussian`,
          `${formatCount(histogram.total)} values in ${histogram.counts.length} bins, as a ` +
            `density; the curve is ${labels.gaussian} of channel ${histogram.channel}.`,
        )
      : undefined;
    if (histogramFigure) figures.push(histogramFigure.figure);

    const hints: (HTMLElement | null)[] = [
      inspection?.note ? el('p', { className: 'note', text: inspection.note }) : null,
      observed
        ? null
        : el('p', {
            className: 'muted',
            text:
              `No observed statistics for ${layer.name} yet: run “${COMMAND_TITLES.inspect}” to ` +
              `measure its input on data.`,
          }),
      points.length > 0
        ? null
        : el('p', {
            className: 'muted',
            text: `No μ/σ snapshots over steps: run “${COMMAND_TITLES.train}” to record them.`,
          }),
    ];
    replaceContent(layerSection, ...hints, el('div', { className: 'charts' }, ...figures));

    named.push({
      id: 'statistics-mean',
      chart: perChannelChart(
        meanFigure.canvas,
        palette,
        'mean',
        labels.mean,
        layer.learned.mean,
        observed?.mean,
      ),
    });
    describe(meanFigure.canvas, comparison(labels.mean, layer.learned.mean, observed?.mean, layer));
    named.push({
      id: 'statistics-std',
      chart: perChannelChart(
        stdFigure.canvas,
        palette,
        'std',
        labels.std,
        layer.learned.std,
        observed?.std,
      ),
    });
    describe(stdFigure.canvas, comparison(labels.std, layer.learned.std, observed?.std, layer));

    if (trajectoryFigure) {
      const chart = trajectoryChart(trajectoryFigure.canvas, palette, labels, points, channels);
      trajectory = { chart, layer: layer.name, channels };
      trajectoryCanvas = trajectoryFigure.canvas;
      named.push({ id: 'statistics-trajectory', chart: chart as unknown as Chart });
      describeTrajectory(points.length, points[0].step, points[points.length - 1].step);
    }
    if (histogramFigure && histogram) {
      const c = histogram.channel;
      const mean = layer.learned.mean[c];
      const std = layer.learned.std[c];
      named.push({
        id: 'statistics-histogram',
        chart: histogramChart(histogramFigure.canvas, palette, labels, histogram, mean, std),
      });
      describe(
        histogramFigure.canvas,
        `Channel ${c} of ${layer.name}: ${formatCount(histogram.total)} values from ` +
          `${formatNumber(histogram.binStart)} to ` +
          `${formatNumber(histogram.binStart + histogram.binWidth * histogram.counts.length)}; ` +
          `${labels.gaussian} with mean ${formatNumber(mean)} and std ${formatNumber(std)}` +
          (observed
            ? `; observed mean ${formatNumber(observed.mean[c])}, std ${formatNumber(observed.std[c])}.`
            : '.'),
      );
    }
  }

  function describeTrajectory(count: number, first: number, last: number): void {
    if (!trajectoryCanvas || !trajectory) return;
    describe(
      trajectoryCanvas,
      `μ and σ of channels ${trajectory.channels.join(', ')} of ${trajectory.layer} at ${count} ` +
        `snapshots from step ${first} to step ${last}.`,
    );
  }

  /** Appends a snapshot to the trajectory chart; false when the page must be rebuilt. */
  function appendSnapshot(step: number, layers: LayerStatisticsSnapshot[]): boolean {
    if (!trajectory || !current || !picker) return false;
    const known = new Set([...picker.options].map((o) => o.value));
    if (layers.some((l) => !known.has(l.layer))) return false;
    const snapshot = layers.find((l) => l.layer === trajectory?.layer);
    if (!snapshot) return true;
    const { datasets } = trajectory.chart.data;
    trajectory.channels.forEach((channel, i) => {
      datasets[2 * i]?.data.push({ x: step, y: snapshot.mean[channel] });
      datasets[2 * i + 1]?.data.push({ x: step, y: snapshot.std[channel] });
    });
    scheduler.schedule(trajectory.chart as unknown as Chart);
    const points = layerTrajectory(current.trajectories, trajectory.layer);
    if (points.length > 0) {
      describeTrajectory(points.length, points[0].step, points[points.length - 1].step);
    }
    return true;
  }

  return {
    render,
    destroy: destroyCharts,
    apply(message: ToWebview, state: StatisticsViewState): boolean {
      const before = current;
      current = state;
      switch (message.type) {
        case 'selectLayer': {
          const layers = layerEntries(state);
          const layer = layers.find((l) => l.name === message.layer);
          if (!layer || !picker) return false;
          if (picker.value !== layer.name) picker.value = layer.name;
          renderLayer(state, layer);
          ctx.updated();
          return true;
        }
        case 'trainEvent': {
          const { event } = message;
          if (event.type === 'stats' || event.type === 'init') {
            return appendSnapshot(event.type === 'init' ? 0 : event.step, event.layers);
          }
          if (event.type === 'done') {
            const grew = before && state.trajectories.length > before.trajectories.length;
            return grew ? appendSnapshot(event.summary.steps, event.summary.layers) : true;
          }
          return event.type !== 'start';
        }
        case 'state':
          return false;
        default:
          return true;
      }
    },
    charts: () => named,
  };
}
