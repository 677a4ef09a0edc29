import type { LayerStatisticsSnapshot } from './train-events';

/** A normalization layer's statistics against what its input really does on data. */
export interface LayerInspection extends LayerStatisticsSnapshot {
  /** Per-channel mean and std of the layer's input, measured on a data sample in inference mode. */
  observed?: { mean: number[]; std: number[] };
  /** One channel's input values, binned; density = counts / (total · binWidth). */
  histogram?: {
    channel: number;
    binStart: number;
    binWidth: number;
    counts: number[];
    total: number;
  };
  note?: string;
}
