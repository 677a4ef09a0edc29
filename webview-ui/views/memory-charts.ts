/**
 * The memory view's charts: peak step memory against effective batch size (log axis, a series
 * for BN and one per batchless micro-batch size), and the per-step peaks of the last run.
 */
import type { SweepPointData } from '../../src/shared/protocol';
import type { MemoryEvent } from '../../src/shared/train-events';
import { axis, bytesAxis, createChart, type Chart } from '../charts';
import { formatBytes, formatCount } from '../format';
import { withAlpha, type Palette } from '../theme';

export type Point = { x: number; y: number };
export type LineChart = Chart<'line', Point[]>;

export const PEAK_STEP_LABEL = 'peak step memory';
export const RESIDENT_LABEL = 'resident before the step';
export const BN_SWEEP_LABEL = 'BN (whole batch)';
export const batchlessSweepLabel = (microBatch: number): string =>
  `batchless, micro-batch ${microBatch}`;

function bytesTooltip(palette: Palette, title: (x: number) => string) {
  return {
    callbacks: {
      title: (items: { parsed: { x: number | null } }[]) =>
        items[0] && items[0].parsed.x !== null ? title(items[0].parsed.x) : '',
      label: (item: { dataset: { label?: string }; parsed: { y: number | null } }) =>
        `${item.dataset.label}: ${formatBytes(item.parsed.y ?? NaN)}`,
    },
    borderColor: palette.border,
  };
}

export function sweepDatasets(palette: Palette, sweep: SweepPointData[]) {
  const byBatch = (a: Point, b: Point): number => a.x - b.x;
  const bn = sweep
    .filter((p) => p.norm === 'batch')
    .map((p) => ({ x: p.batchSize, y: p.peakStepBytes }))
    .sort(byBatch);
  const microBatches = [
    ...new Set(sweep.filter((p) => p.norm === 'batchless').map((p) => p.microBatchSize)),
  ].sort((a, b) => a - b);
  const batchlessColors = [
    palette.blue,
    palette.green,
    palette.purple,
    palette.yellow,
    palette.orange,
  ];
  const datasets = [];
  if (bn.length > 0) {
    datasets.push({
      label: BN_SWEEP_LABEL,
      data: bn,
      borderColor: palette.red,
      backgroundColor: palette.red,
      borderWidth: 2.5,
      pointRadius: 4,
      pointStyle: 'rectRot' as const,
    });
  }
  microBatches.forEach((m, i) => {
    const color = batchlessColors[i % batchlessColors.length];
    datasets.push({
      label: batchlessSweepLabel(m),
      data: sweep
        .filter((p) => p.norm === 'batchless' && p.microBatchSize === m)
        .map((p) => ({ x: p.batchSize, y: p.peakStepBytes }))
        .sort(byBatch),
      borderColor: color,
      backgroundColor: withAlpha(color, 0.8),
      borderWidth: 2,
      pointRadius: 3,
      pointStyle: 'circle' as const,
    });
  });
  return datasets;
}

function batchSizes(sweep: SweepPointData[]): number[] {
  return [...new Set(sweep.map((p) => p.batchSize))].sort((a, b) => a - b);
}

/** Ticks at the measured batch sizes (powers of two read better than 10, 20, 50). */
export function updateSweepTicks(chart: LineChart, sweep: SweepPointData[]): void {
  const sizes = batchSizes(sweep);
  const x = chart.options.scales?.x;
  if (!x || sizes.length === 0) return;
  x.min = sizes[0];
  x.max = sizes[sizes.length - 1];
}

export function buildSweepChart(
  canvas: HTMLCanvasElement,
  palette: Palette,
  sweep: SweepPointData[],
): LineChart {
  const sizes = batchSizes(sweep);
  const chart = createChart<'line', Point[]>(
    canvas,
    {
      type: 'line',
      data: { datasets: sweepDatasets(palette, sweep) },
      options: {
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: {
            type: 'logarithmic',
            ...axis(palette, 'effective batch size (log scale)', (v) => formatCount(v)),
            min: sizes[0],
            max: sizes[sizes.length - 1],
            afterBuildTicks: (scale) => {
              const measured = [
                ...new Set(
                  scale.chart.data.datasets.flatMap((d) => (d.data as Point[]).map((p) => p.x)),
                ),
              ].sort((a, b) => a - b);
              if (measured.length > 0) scale.ticks = measured.map((value) => ({ value }));
            },
          },
          y: bytesAxis(palette, 'peak step memory'),
        },
        plugins: {
          tooltip: bytesTooltip(palette, (x) => `effective batch ${formatCount(x)}`),
        },
      },
    },
    palette,
  );
  return chart;
}

export function buildPerStepChart(
  canvas: HTMLCanvasElement,
  palette: Palette,
  perStep: MemoryEvent[],
): LineChart {
  const pointRadius = perStep.length > 40 ? 0 : 3;
  return createChart<'line', Point[]>(
    canvas,
    {
      type: 'line',
      data: {
        datasets: [
          {
            label: PEAK_STEP_LABEL,
            data: perStep.map((m) => ({ x: m.step, y: m.peakStepBytes })),
            borderColor: palette.orange,
            backgroundColor: palette.orange,
            borderWidth: 2,
            pointRadius,
          },
          {
            label: RESIDENT_LABEL,
            data: perStep.map((m) => ({ x: m.step, y: m.residentBytes })),
            borderColor: palette.purple,
            backgroundColor: palette.purple,
            borderWidth: 1.5,
            borderDash: [6, 3],
            pointRadius,
            pointStyle: 'rect' as const,
          },
        ],
      },
      options: {
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          // Steps are measured sparsely (the first, then every memoryEvery): whole steps only.
          x: {
            type: 'linear',
            ...axis(palette, 'step'),
            min: 0,
            suggestedMax: 10,
            ticks: { ...axis(palette, 'step').ticks, precision: 0 },
          },
          y: bytesAxis(palette, 'bytes'),
        },
        plugins: {
          legend: { labels: { usePointStyle: true } },
          tooltip: bytesTooltip(palette, (x) => `step ${x}`),
        },
      },
    },
    palette,
  );
}
