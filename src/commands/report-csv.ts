import type { ViewState } from '../shared/protocol';

/** A view's data as CSV: one row per step, channel or sweep point, with units in the headers. */
export function reportCsv(view: ViewState): string {
  const rows: (string | number)[][] = [];
  if (view.view === 'training') {
    const layers = [...new Set(view.state.steps.flatMap((s) => Object.keys(s.nll)))];
    rows.push([
      'step',
      'epoch',
      'samples',
      'task_loss',
      ...layers.map((l) => `nll_${l}`),
      'samples_per_second',
    ]);
    for (const s of view.state.steps)
      rows.push([
        s.step,
        s.epoch,
        s.samples,
        s.taskLoss,
        ...layers.map((l) => s.nll[l] ?? ''),
        s.samplesPerSecond,
      ]);
  } else if (view.view === 'statistics') {
    rows.push([
      'layer',
      'kind',
      'channel',
      'mean',
      'std',
      'observed_mean',
      'observed_std',
      'gamma',
      'beta',
    ]);
    for (const l of view.state.layers) {
      l.mean.forEach((m, c) =>
        rows.push([
          l.layer,
          l.kind,
          c,
          m,
          l.std[c],
          l.observed?.mean[c] ?? '',
          l.observed?.std[c] ?? '',
          l.gamma?.[c] ?? '',
          l.beta?.[c] ?? '',
        ]),
      );
    }
  } else {
    rows.push(['norm', 'batch_size', 'micro_batch_size', 'peak_step_bytes']);
    for (const p of view.state.sweep)
      rows.push([p.norm, p.batchSize, p.microBatchSize, p.peakStepBytes]);
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
