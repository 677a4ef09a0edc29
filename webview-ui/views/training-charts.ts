/**
 * The training view's two charts: task loss (left axis, log or linear) with each batchless
 * layer's NLL (right axis, dashed), and test accuracy at each evaluation.
 */
import type { EvalEvent, StepEvent } from '../../src/shared/train-events';
import { axis, createChart, type Chart } from '../charts';
import { formatNumber, formatPercent } from '../format';
import { withAlpha, type Palette } from '../theme';

export type Point = { x: number; y: number };
export type LineChart = Chart<'line', Point[]>;

export const TASK_LOSS_LABEL = 'task loss';
export const TEST_ACCURACY_LABEL = 'test accuracy';
export const nllLabel = (layer: string): string => `NLL (${layer})`;

/** The layers that reported an NLL, in order of first appearance. */
export function nllLayers(steps: StepEvent[]): string[] {
  const layers = new Set<string>();
  for (const step of steps) for (const layer of Object.keys(step.nll)) layers.add(layer);
  return [...layers];
}

/** One layer's NLL series; `index` is its position among the NLL series (colour). */
export function nllDataset(palette: Palette, layer: string, index: number, steps: StepEvent[]) {
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

export function lossChart(
  canvas: HTMLCanvasElement,
  palette: Palette,
  steps: StepEvent[],
  logarithmic: boolean,
): LineChart {
  return createChart<'line', Point[]>(
    canvas,
    {
      type: 'line',
      data: {
        datasets: [
          {
            label: TASK_LOSS_LABEL,
            data: steps.map((s) => ({ x: s.step, y: s.taskLoss })),
            yAxisID: 'loss',
            borderColor: palette.blue,
            backgroundColor: palette.blue,
            borderWidth: 2,
            pointRadius: 0,
            pointStyle: 'line',
          },
          ...nllLayers(steps).map((layer, i) => nllDataset(palette, layer, i, steps)),
        ],
      },
      options: {
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', ...axis(palette, 'step'), min: 0 },
          loss: {
            type: logarithmic ? 'logarithmic' : 'linear',
            position: 'left',
            ...axis(palette, 'task loss', formatNumber),
          },
          nll: {
            type: 'linear',
            position: 'right',
            // Hidden when no layer reports an NLL (BN or no normalization).
            display: 'auto',
            ...axis(palette, 'NLL (nats)', formatNumber),
            grid: { drawOnChartArea: false, color: palette.border },
          },
        },
        plugins: {
          // Line samples in the legend rather than filled boxes.
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
}

/** Switches the task-loss axis between logarithmic and linear in place. */
export function setLossScale(chart: LineChart, logarithmic: boolean): void {
  const scales = chart.options.scales as Record<string, { type?: string }>;
  scales.loss.type = logarithmic ? 'logarithmic' : 'linear';
  chart.update('none');
}

export function accuracyChart(
  canvas: HTMLCanvasElement,
  palette: Palette,
  evals: EvalEvent[],
): LineChart {
  return createChart<'line', Point[]>(
    canvas,
    {
      type: 'line',
      data: {
        datasets: [
          {
            label: TEST_ACCURACY_LABEL,
            data: evals.map((e) => ({ x: e.step, y: e.testAccuracy })),
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
}
