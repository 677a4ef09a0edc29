/**
 * The learned-statistics charts of one layer: learned vs observed per channel (mean, std), μ/σ
 * over training steps for a few channels, and one channel's histogram under the learned Gaussian.
 * For BN layers the "learned" values are the moving statistics, and the labels say so.
 */
import type { LayerStatisticsSnapshot } from '../../src/shared/train-events';
import { axis, createChart, type Chart } from '../charts';
import { formatNumber } from '../format';
import { gaussianAtBins, histogramDensity, type Histogram } from '../gaussian';
import { withAlpha, type Palette } from '../theme';

type Point = { x: number; y: number };
type Kind = LayerStatisticsSnapshot['kind'];

/** More channels than this are drawn as points rather than bars. */
const MAX_BAR_CHANNELS = 64;
/** How many channels the trajectory chart follows. */
export const TRAJECTORY_CHANNELS = 4;

export interface StatLabels {
  mean: string;
  std: string;
  mu: string;
  sigma: string;
  gaussian: string;
}

export const OBSERVED_MEAN_LABEL = 'observed mean';
export const OBSERVED_STD_LABEL = 'observed std';
export const OBSERVED_DENSITY_LABEL = 'observed density';

export function statLabels(kind: Kind): StatLabels {
  return kind === 'batch'
    ? {
        mean: 'moving mean (BN)',
        std: 'moving std (BN)',
        mu: 'moving mean',
        sigma: 'moving std',
        gaussian: 'N(moving mean, moving var) (BN)',
      }
    : {
        mean: 'learned μ',
        std: 'learned σ',
        mu: 'μ',
        sigma: 'σ',
        gaussian: 'learned N(μ, σ²)',
      };
}

export const trajectoryLabel = (symbol: string, channel: number): string =>
  `${symbol} ch ${channel}`;

/** Learned (or moving) vs observed, one value per channel, as grouped bars or points. */
export function perChannelChart(
  canvas: HTMLCanvasElement,
  palette: Palette,
  what: 'mean' | 'std',
  learnedLabel: string,
  learned: number[],
  observed: number[] | undefined,
): Chart {
  const asPoints = learned.length > MAX_BAR_CHANNELS;
  const series = (label: string, values: number[], color: string) => ({
    label,
    data: values,
    ...(asPoints
      ? { type: 'line' as const, showLine: false, pointRadius: 2 }
      : { type: 'bar' as const }),
    borderColor: color,
    backgroundColor: withAlpha(color, asPoints ? 1 : 0.7),
    borderWidth: 1,
  });
  const datasets = [series(learnedLabel, learned, palette.blue)];
  if (observed) {
    datasets.push(
      series(what === 'mean' ? OBSERVED_MEAN_LABEL : OBSERVED_STD_LABEL, observed, palette.orange),
    );
  }
  return createChart<'bar' | 'line', number[]>(
    canvas,
    {
      type: 'bar',
      data: { labels: learned.map((_, c) => String(c)), datasets },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { type: 'category', ...axis(palette, 'channel') },
          y: {
            type: 'linear',
            ...axis(palette, what === 'mean' ? 'mean' : 'std', formatNumber),
            ...(what === 'std' ? { min: 0 } : {}),
          },
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: (items) => (items[0] ? `channel ${items[0].label}` : ''),
              label: (item) => `${item.dataset.label}: ${formatNumber(item.parsed.y ?? NaN)}`,
            },
          },
        },
      },
    },
    palette,
  ) as unknown as Chart;
}

/** The channels the trajectory chart follows: the histogram's channel first, then 0, 1, 2, … */
export function trajectoryChannels(channels: number, histogramChannel?: number): number[] {
  const picked: number[] = [];
  if (histogramChannel !== undefined && histogramChannel < channels) picked.push(histogramChannel);
  for (let c = 0; c < channels && picked.length < TRAJECTORY_CHANNELS; c++) {
    if (!picked.includes(c)) picked.push(c);
  }
  return picked;
}

/** The layer's snapshot at each recorded step, in step order. */
export function layerTrajectory(
  trajectories: { step: number; layers: LayerStatisticsSnapshot[] }[],
  layer: string,
): { step: number; snapshot: LayerStatisticsSnapshot }[] {
  const points: { step: number; snapshot: LayerStatisticsSnapshot }[] = [];
  for (const t of trajectories) {
    const snapshot = t.layers.find((l) => l.layer === layer);
    if (snapshot) points.push({ step: t.step, snapshot });
  }
  return points;
}

/** μ (solid) and σ (dashed) of a few channels over training steps, a colour per channel. */
export function trajectoryChart(
  canvas: HTMLCanvasElement,
  palette: Palette,
  labels: StatLabels,
  trajectory: { step: number; snapshot: LayerStatisticsSnapshot }[],
  channels: number[],
): Chart<'line', Point[]> {
  const datasets = channels.flatMap((channel, i) => {
    const color = palette.series[i % palette.series.length];
    const pointRadius = trajectory.length > 30 ? 0 : 2;
    return [
      {
        label: trajectoryLabel(labels.mu, channel),
        data: trajectory.map((t) => ({ x: t.step, y: t.snapshot.mean[channel] })),
        borderColor: color,
        backgroundColor: color,
        borderWidth: 2,
        pointRadius,
      },
      {
        label: trajectoryLabel(labels.sigma, channel),
        data: trajectory.map((t) => ({ x: t.step, y: t.snapshot.std[channel] })),
        borderColor: color,
        backgroundColor: withAlpha(color, 0.5),
        borderWidth: 2,
        borderDash: [6, 3],
        pointRadius,
        pointStyle: 'rect' as const,
      },
    ];
  });
  return createChart<'line', Point[]>(
    canvas,
    {
      type: 'line',
      data: { datasets },
      options: {
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: { type: 'linear', ...axis(palette, 'step'), min: 0 },
          y: { type: 'linear', ...axis(palette, 'value (input units)', formatNumber) },
        },
        plugins: {
          legend: { labels: { usePointStyle: true } },
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

/** Bars: the observed density of one channel; line: the layer's Gaussian at the bin centres. */
export function histogramChart(
  canvas: HTMLCanvasElement,
  palette: Palette,
  labels: StatLabels,
  histogram: Histogram,
  mean: number,
  std: number,
): Chart {
  return createChart<'bar' | 'line', Point[]>(
    canvas,
    {
      type: 'bar',
      data: {
        datasets: [
          {
            type: 'line',
            label: labels.gaussian,
            data: gaussianAtBins(histogram, mean, std),
            borderColor: palette.orange,
            backgroundColor: palette.orange,
            borderWidth: 2.5,
            pointRadius: 0,
            tension: 0.3,
            order: 0,
          },
          {
            type: 'bar',
            label: OBSERVED_DENSITY_LABEL,
            data: histogramDensity(histogram),
            borderColor: palette.blue,
            backgroundColor: withAlpha(palette.blue, 0.45),
            borderWidth: 1,
            barPercentage: 1,
            categoryPercentage: 1,
            order: 1,
          },
        ],
      },
      options: {
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: {
            type: 'linear',
            ...axis(palette, `channel ${histogram.channel} input value`, formatNumber),
            // Ticks at round values only, not at the (arbitrary) histogram edges.
            ticks: { ...axis(palette, undefined, formatNumber).ticks, includeBounds: false },
            min: histogram.binStart,
            max: histogram.binStart + histogram.binWidth * histogram.counts.length,
          },
          y: { type: 'linear', ...axis(palette, 'density', formatNumber), min: 0 },
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: (items) => {
                const x = items[0]?.parsed.x;
                if (x === undefined || x === null) return '';
                const half = histogram.binWidth / 2;
                return `bin ${formatNumber(x - half)} … ${formatNumber(x + half)}`;
              },
              label: (item) => `${item.dataset.label}: ${formatNumber(item.parsed.y ?? NaN)}`,
            },
          },
        },
      },
    },
    palette,
  ) as unknown as Chart;
}
