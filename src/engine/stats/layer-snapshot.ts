import type { LayerStatisticsSnapshot } from '../../shared/train-events';
import { isBatchlessLayer } from '../layers/batchless-normalization';
import type { NormLayerRef } from '../models/norm-layers';

/**
 * The statistics a normalization layer normalizes with, as host arrays: learned μ/σ for batchless
 * layers; moving mean and sqrt(moving variance + ε) for batch normalization (what it uses in
 * inference), so both kinds can be drawn on the same axes.
 */
export function snapshotLayer(ref: NormLayerRef): LayerStatisticsSnapshot {
  const { layer } = ref;
  const byName = new Map(layer.weights.map((w) => [w.originalName.split('/').pop()!, w]));
  const values = (name: string) => {
    const w = byName.get(name);
    return w ? Array.from(w.read().dataSync()) : undefined;
  };
  if (isBatchlessLayer(layer)) {
    const { mean, std } = layer.getStatistics();
    return {
      layer: ref.path,
      kind: 'batchless',
      mean: Array.from(mean),
      std: Array.from(std),
      gamma: values('gamma'),
      beta: values('beta'),
    };
  }
  const epsilon = (layer.getConfig() as { epsilon?: number }).epsilon ?? 1e-3;
  const variance = values('moving_variance');
  const mean = values('moving_mean');
  if (!variance || !mean) throw new Error(`Layer '${ref.path}' has no moving statistics`);
  return {
    layer: ref.path,
    kind: 'batch',
    mean,
    std: variance.map((v) => Math.sqrt(v + epsilon)),
    gamma: values('gamma'),
    beta: values('beta'),
  };
}

export function snapshotLayers(refs: NormLayerRef[]): LayerStatisticsSnapshot[] {
  return refs.map(snapshotLayer);
}

/** Channels of a normalization layer (the size of its statistics). */
export function channelCount(ref: NormLayerRef): number {
  const first = ref.layer.weights[0];
  return first ? first.shape.reduce((a: number, b) => a * (b ?? 1), 1) : 0;
}
