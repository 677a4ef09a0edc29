/**
 * What the statistics view shows, as data and words: the layers (inspected, or known only from
 * training snapshots), which one is selected, the status line and the charts' text summaries.
 */
import type { LayerInspection } from '../../src/shared/inspection';
import type { StatisticsViewState } from '../../src/shared/protocol';
import type { LayerStatisticsSnapshot } from '../../src/shared/train-events';
import { formatCount, formatNumber } from '../format';
import type { StatusTone } from './layout';

/** One layer as the page shows it: its inspection if there is one, else its latest snapshot. */
export interface LayerEntry {
  name: string;
  kind: LayerStatisticsSnapshot['kind'];
  learned: { mean: number[]; std: number[] };
  inspection?: LayerInspection;
}

export function layerEntries(state: StatisticsViewState): LayerEntry[] {
  const entries: LayerEntry[] = state.layers.map((inspection) => ({
    name: inspection.layer,
    kind: inspection.kind,
    learned: { mean: inspection.mean, std: inspection.std },
    inspection,
  }));
  // Layers known only from training snapshots: their latest μ/σ, without observed statistics.
  for (let i = state.trajectories.length - 1; i >= 0; i--) {
    for (const snapshot of state.trajectories[i].layers) {
      if (entries.some((e) => e.name === snapshot.layer)) continue;
      entries.push({
        name: snapshot.layer,
        kind: snapshot.kind,
        learned: { mean: snapshot.mean, std: snapshot.std },
      });
    }
  }
  return entries;
}

export function selectedLayer(state: StatisticsViewState, layers: LayerEntry[]): LayerEntry {
  return layers.find((l) => l.name === state.selectedLayer) ?? layers[0];
}

export function kindName(kind: LayerStatisticsSnapshot['kind']): string {
  return kind === 'batch' ? 'BN' : 'batchless';
}

export function statusText(state: StatisticsViewState): [StatusTone, string] {
  switch (state.status) {
    case 'idle':
      return state.trajectories.length > 0
        ? ['info', 'μ/σ snapshots from the last training run.']
        : ['info', 'Nothing inspected yet.'];
    case 'running':
      return ['running', 'Inspecting the normalization layers…'];
    case 'ready':
      return [
        'ok',
        `Inspected ${state.layers.length} normalization layer${state.layers.length === 1 ? '' : 's'}` +
          (state.model ? ` of ${state.model}` : '') +
          (state.samples ? ` on ${formatCount(state.samples)} samples.` : '.'),
      ];
    case 'failed':
      return [
        'error',
        state.message ? `Inspection failed: ${state.message}` : 'Inspection failed.',
      ];
  }
}

/** A text version of a per-channel comparison chart, for screen readers. */
export function comparison(
  learnedLabel: string,
  learned: number[],
  observed: number[] | undefined,
  layer: LayerEntry,
): string {
  const head = `${learnedLabel} of ${learned.length} channels of ${layer.name}`;
  if (!observed) return `${head}; no observed statistics.`;
  let worst = 0;
  let total = 0;
  for (let c = 0; c < learned.length; c++) {
    const gap = Math.abs(learned[c] - (observed[c] ?? NaN));
    total += gap;
    if (gap > Math.abs(learned[worst] - observed[worst])) worst = c;
  }
  return (
    `${head} against the observed values: mean absolute gap ` +
    `${formatNumber(total / Math.max(learned.length, 1))}, largest at channel ${worst} ` +
    `(${formatNumber(learned[worst])} vs ${formatNumber(observed[worst])}).`
  );
}
