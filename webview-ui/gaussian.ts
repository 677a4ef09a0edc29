/**
 * The histogram of a channel's activations as a density, and the Gaussian a normalization layer
 * assumes for it, sampled at the same bin centres so the two can be drawn over each other.
 */
import type { LayerInspection } from '../src/shared/inspection';

export type Histogram = NonNullable<LayerInspection['histogram']>;

export interface DensityPoint {
  /** Bin centre. */
  x: number;
  y: number;
}

/** density = counts / (total · binWidth): the bars integrate to 1, like a pdf. */
export function histogramDensity(h: Histogram): DensityPoint[] {
  const scale = h.total > 0 && h.binWidth > 0 ? 1 / (h.total * h.binWidth) : 0;
  return h.counts.map((count, i) => ({ x: binCentre(h, i), y: count * scale }));
}

/** N(μ, σ²) evaluated at each bin centre (pdf · 1: already on the density scale). */
export function gaussianAtBins(h: Histogram, mean: number, std: number): DensityPoint[] {
  return h.counts.map((_, i) => {
    const x = binCentre(h, i);
    return { x, y: normalPdf(x, mean, std) };
  });
}

export function normalPdf(x: number, mean: number, std: number): number {
  if (!(std > 0)) return 0;
  const z = (x - mean) / std;
  return Math.exp(-0.5 * z * z) / (std * Math.sqrt(2 * Math.PI));
}

function binCentre(h: Histogram, i: number): number {
  return h.binStart + (i + 0.5) * h.binWidth;
}
