import * as vscode from 'vscode';
import type { TrainRequest } from '../shared/protocol';
import type { TrainSummary } from '../shared/train-events';
import type { CommandFactory } from './context';
import {
  DEFAULT_TRAIN_REQUEST,
  pickTrainRequest,
  rememberTrainRequest,
} from './pick-train-request';
import { requireTrust } from './trust';

/**
 * Train Short Session: asks for the settings (or takes them as an argument), runs the session in
 * the engine worker with a cancellable progress notification, and streams it to the training,
 * statistics and memory views. Resolves to the summary (tests use it), undefined if abandoned.
 */
export const trainSession: CommandFactory = (ctx) => async (arg?: unknown) => {
  if (!requireTrust('Training')) return undefined;
  const request = isPartialRequest(arg)
    ? { ...DEFAULT_TRAIN_REQUEST, ...arg }
    : await pickTrainRequest(ctx.extension.workspaceState);
  if (!request) return undefined;
  await rememberTrainRequest(ctx.extension.workspaceState, request);
  return runTraining(ctx, request);
};

async function runTraining(
  ctx: Parameters<CommandFactory>[0],
  request: TrainRequest,
): Promise<TrainSummary | undefined> {
  if (ctx.engine.busy) {
    void vscode.window.showWarningMessage(
      'Batchless: a job is already running in the engine; cancel it or wait for it to finish.',
    );
    return undefined;
  }
  ctx.panels.show('training');
  ctx.panels.setState({
    view: 'training',
    state: { status: 'running', request, steps: [], evals: [] },
  });
  ctx.panels.setState({
    view: 'statistics',
    state: { status: 'idle', layers: [], trajectories: [], model: request.model },
  });
  ctx.panels.setState({
    view: 'memory',
    state: { status: 'idle', perStep: [], sweep: [], model: request.model },
  });
  try {
    const summary = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Batchless: training ${request.model}`,
        cancellable: true,
      },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let total = 0;
        let reported = 0;
        const result = await ctx.engine.run(
          { type: 'train', request },
          {
            signal: abort.signal,
            onTrainEvent: (event) => {
              for (const view of ['training', 'statistics', 'memory'] as const)
                ctx.panels.post(view, { type: 'trainEvent', event });
              if (event.type === 'start') total = event.totalSteps;
              if (event.type === 'step' && total > 0) {
                const percent = (100 * event.step) / total;
                progress.report({
                  increment: percent - reported,
                  message: `step ${event.step}/${total}, loss ${event.taskLoss.toFixed(3)}`,
                });
                reported = percent;
                ctx.status.set({ kind: 'training', step: event.step, total });
              }
            },
          },
        );
        if (result.kind !== 'train') throw new Error(`unexpected engine answer '${result.kind}'`);
        return result.summary;
      },
    );
    ctx.status.set({
      kind: 'ready',
      backend: summary.backend,
      detail: `Last session: ${summary.stopped}, ${summary.steps} steps.`,
    });
    const accuracy = Number.isFinite(summary.testAccuracy)
      ? `, test accuracy ${(summary.testAccuracy * 100).toFixed(1)}%`
      : '';
    if (summary.stopped === 'diverged')
      void vscode.window.showErrorMessage(`Batchless: ${summary.message}`);
    else
      void vscode.window.showInformationMessage(
        `Batchless: session ${summary.stopped} after ${summary.steps} steps${accuracy}.`,
      );
    return summary;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.log.error('training failed', err);
    // Keep the curves drawn so far: they often show what went wrong.
    const current = ctx.panels.state('training');
    const drawn = current.view === 'training' ? current.state : { steps: [], evals: [] };
    ctx.panels.setState({
      view: 'training',
      state: { ...drawn, status: 'failed', message, request },
    });
    ctx.status.set({ kind: 'idle' });
    const choice = await vscode.window.showErrorMessage(
      `Batchless: training failed. ${message}`,
      'Retry',
      'Show Log',
    );
    if (choice === 'Retry') return runTraining(ctx, request);
    if (choice === 'Show Log') ctx.log.show();
    return undefined;
  }
}

function isPartialRequest(arg: unknown): arg is Partial<TrainRequest> {
  return (
    typeof arg === 'object' &&
    arg !== null &&
    !(arg instanceof vscode.Uri) &&
    ('model' in arg || 'data' in arg || 'batchSize' in arg)
  );
}
