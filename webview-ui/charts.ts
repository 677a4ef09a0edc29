/**
 * chart.js, tree-shaken to what the views draw (line, bar, linear/log/category scales, legend,
 * tooltip), with the theme's colours and a probe that tells when every chart has really drawn.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
  type DefaultDataPoint,
  type Plugin,
  type Scale,
} from 'chart.js';
import { el } from './dom';
import { formatBytes } from './format';
import { withAlpha, type Palette } from './theme';

const drawn = new WeakSet<Chart>();
let onDraw: (() => void) | undefined;

// afterDraw fires only when the canvas has a size and the datasets were painted: a chart inside a
// hidden or zero-height container does not count as drawn.
const drawProbe: Plugin = {
  id: 'batchlessDrawProbe',
  afterDraw(chart) {
    drawn.add(chart);
    onDraw?.();
  },
};

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  drawProbe,
);

export { Chart };

/** Calls `callback` once every chart in `charts` has drawn (now, or on a later frame). */
export function whenDrawn(charts: Chart[], callback: () => void): void {
  const check = (): boolean => charts.every((chart) => drawn.has(chart));
  if (check()) {
    onDraw = undefined;
    callback();
    return;
  }
  // Only the latest render matters: its charts replaced any the previous callback waited for.
  onDraw = () => {
    if (!check()) return;
    onDraw = undefined;
    callback();
  };
}

/** The theme's colours and font as chart.js defaults; call before building charts. */
export function applyPalette(palette: Palette): void {
  Chart.defaults.color = palette.foreground;
  Chart.defaults.borderColor = palette.border;
  Chart.defaults.font.family = palette.fontFamily;
  Chart.defaults.font.size = palette.fontSize;
}

/**
 * A chart with the shared behaviour: no animation (live updates append points), responsive to
 * its box, tooltips in the theme's colours, and the editor background painted under it so that
 * exported PNGs are readable on their own.
 */
export function createChart<T extends ChartType, D = DefaultDataPoint<T>>(
  canvas: HTMLCanvasElement,
  config: ChartConfiguration<T, D>,
  palette: Palette,
): Chart<T, D> {
  const background: Plugin<T> = {
    id: 'batchlessBackground',
    beforeDraw(chart) {
      const { ctx, width, height } = chart;
      ctx.save();
      ctx.fillStyle = palette.background;
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
  };
  const options = (config.options ?? {}) as Record<string, unknown>;
  const plugins = (options.plugins ?? {}) as Record<string, unknown>;
  const tooltip = (plugins.tooltip ?? {}) as Record<string, unknown>;
  return new Chart<T, D>(canvas, {
    ...config,
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      ...options,
      plugins: {
        ...plugins,
        tooltip: {
          backgroundColor: palette.background,
          titleColor: palette.foreground,
          bodyColor: palette.foreground,
          borderColor: palette.border,
          borderWidth: 1,
          ...tooltip,
        },
      },
    } as ChartConfiguration<T, D>['options'],
    plugins: [...(config.plugins ?? []), background],
  });
}

/** Axis options in the theme's colours, with an optional title and tick formatter. */
export function axis(
  palette: Palette,
  title: string | undefined,
  format?: (value: number) => string,
): {
  title: { display: boolean; text: string; color: string };
  grid: { color: string };
  border: { color: string };
  ticks: { color: string; callback?: (value: number | string) => string };
} {
  return {
    title: { display: title !== undefined, text: title ?? '', color: palette.foreground },
    // High-contrast borders are bright: full-strength grid lines would drown the data.
    grid: { color: palette.highContrast ? withAlpha(palette.border, 0.35) : palette.border },
    border: { color: palette.border },
    ticks: {
      color: palette.foreground,
      ...(format ? { callback: (value: number | string) => format(Number(value)) } : {}),
    },
  };
}

const BINARY_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500];

/** A tick step in whole binary units (…, 50 MiB, 100 MiB, 1 GiB) giving about five ticks. */
export function byteTickStep(max: number): number {
  if (!(max > 0)) return 1;
  const unit = 1024 ** Math.max(0, Math.min(4, Math.floor(Math.log(max) / Math.log(1024))));
  const raw = max / unit / 5;
  const nice = BINARY_STEPS.find((s) => s >= raw) ?? 1024;
  return nice * unit;
}

/**
 * A linear axis of bytes from 0 with ticks at round binary values, labelled in B/KiB/MiB/GiB
 * (chart.js's own ticks are decimal: 47.68 MiB is not a round number to anyone).
 */
export function bytesAxis(palette: Palette, title: string) {
  return {
    type: 'linear' as const,
    ...axis(palette, title, formatBytes),
    // The hooks below choose a handful of round ticks; skipping would drop every other one.
    ticks: { ...axis(palette, title, formatBytes).ticks, autoSkip: false },
    // Keep the range the hooks set: 'ticks' bounds would widen it to a decimal-round maximum.
    bounds: 'data' as const,
    min: 0,
    afterDataLimits: (scale: Scale) => {
      const step = byteTickStep(scale.max);
      scale.min = 0;
      scale.max = Math.max(step, Math.ceil(scale.max / step) * step);
    },
    afterBuildTicks: (scale: Scale) => {
      const step = byteTickStep(scale.max);
      const top = Math.max(step, Math.ceil(scale.max / step - 1e-9) * step);
      const ticks = [];
      for (let value = 0; value <= top + step / 1e6; value += step) ticks.push({ value });
      scale.ticks = ticks;
      scale.max = top;
    },
  };
}

export interface ChartFigure {
  figure: HTMLElement;
  canvas: HTMLCanvasElement;
}

/**
 * A titled figure holding one canvas. The canvas is an image to assistive technology; its label
 * is replaced with a text summary of the data by `describe`.
 */
export function chartFigure(id: string, title: string, caption?: string): ChartFigure {
  const canvas = el('canvas', { id: `${id}-canvas`, attrs: { role: 'img', 'aria-label': title } });
  const figure = el(
    'figure',
    { className: 'chart', id },
    el('figcaption', {}, el('span', { className: 'chart-title', text: title })),
    el('div', { className: 'chart-box' }, canvas),
    caption ? el('p', { className: 'chart-caption muted', text: caption }) : null,
  );
  return { figure, canvas };
}

export function describe(canvas: HTMLCanvasElement, summary: string): void {
  canvas.setAttribute('aria-label', summary);
}

/** The labels of the datasets a chart actually draws: visible and with at least one point. */
export function drawnSeries(chart: Chart): string[] {
  return chart.data.datasets
    .filter((dataset, index) => dataset.data.length > 0 && chart.isDatasetVisible(index))
    .map((dataset) => dataset.label ?? '');
}

/** Coalesces chart updates to one per frame while events stream in. */
export class UpdateScheduler {
  private readonly pending = new Set<Chart>();
  private frame: number | undefined;

  constructor(private readonly afterUpdate: () => void) {}

  schedule(chart: Chart): void {
    this.pending.add(chart);
    this.frame ??= requestAnimationFrame(() => this.flush());
  }

  flush(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.frame = undefined;
    for (const chart of this.pending) chart.update('none');
    this.pending.clear();
    this.afterUpdate();
  }

  cancel(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.frame = undefined;
    this.pending.clear();
  }
}
