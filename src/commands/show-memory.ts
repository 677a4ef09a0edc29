import * as vscode from 'vscode';
import type { SweepPointData } from '../shared/protocol';
import type { CommandFactory } from './context';
import { pickModel } from './pick-model';
import { requireTrust } from './trust';

/** Batch sizes of the sweep: from one instance to a batch BN would need 64× the memory for. */
export const SWEEP_BATCH_SIZES = [1, 8, 64, 256];
export const SWEEP_MICRO_BATCH_SIZES = [1, 8];

/**
 * Show Memory Usage: measures peak step memory against effective batch size, BN (whole batch)
 * vs batchless (micro-batches), streaming each point to the memory view as it is measured.
 */
export const showMemory: CommandFactory = (ctx) => async (arg?: unknown, options?: unknown) => {
  if (!requireTrust('Measuring memory')) return undefined;
  const model = await pickModel(arg, 'measure');
  if (!model) return undefined;
  const batchSizes = Array.isArray((options as { batchSizes?: unknown })?.batchSizes)
    ? (options as { batchSizes: number[] }).batchSizes
    : SWEEP_BATCH_SIZES;
  ctx.panels.show('memory');
  // Keep the per-step measurements of the last training session; the sweep starts afresh.
  const previous = ctx.panels.state('memory');
  const perStep = previous.view === 'memory' ? previous.state.perStep : [];
  ctx.panels.setState({ view: 'memory', state: { status: 'running', model, perStep, sweep: [] } });
  try {
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Batchless: measuring memory of ${model}`,
        cancellable: false,
      },
      (progress) =>
        ctx.engine.run(
          {
            type: 'memory',
            request: { model, data: 'mnist', batchSizes, microBatchSizes: SWEEP_MICRO_BATCH_SIZES },
          },
          {
            onSweepPoint: (point: SweepPointData) => {
              ctx.panels.post('memory', { type: 'sweepPoint', point });
              progress.report({ message: `${point.norm} at batch ${point.batchSize}` });
            },
          },
        ),
    );
    if (result.kind !== 'memory') throw new Error(`unexpected engine answer '${result.kind}'`);
    ctx.panels.setState({
      view: 'memory',
      state: { status: 'ready', model, perStep, sweep: result.points },
    });
    return result.points;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.panels.setState({
      view: 'memory',
      state: { status: 'failed', message, model, perStep, sweep: [] },
    });
    throw err;
  }
};
