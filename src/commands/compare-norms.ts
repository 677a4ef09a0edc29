import * as vscode from 'vscode';
import type { TrainRequest } from '../shared/protocol';
import type { TrainSummary } from '../shared/train-events';
import type { CommandFactory, Ctx } from './context';
import { DEFAULT_TRAIN_REQUEST, pickTrainRequest } from './pick-train-request';
import { requireTrust } from './trust';

/**
 * Compare BN and Batchless: trains the same model on the same data twice — batch normalization
 * with the whole batch in memory, batchless with the chosen micro-batches — and shows the two
 * side by side (accuracy, loss, speed, measured peak step memory) in a Markdown document.
 * Resolves to both summaries (tests use them).
 */
export const compareNorms: CommandFactory = (ctx) => async (arg?: unknown) => {
  if (!requireTrust('Comparing normalizations')) return undefined;
  const base =
    typeof arg === 'object' && arg !== null && 'model' in arg
      ? { ...DEFAULT_TRAIN_REQUEST, ...(arg as Partial<TrainRequest>) }
      : await pickTrainRequest(ctx.extension.workspaceState);
  if (!base) return undefined;
  const runs: { label: string; request: TrainRequest }[] = [
    {
      label: `batch norm, batch ${base.batchSize} in memory`,
      request: { ...base, norm: 'batch', microBatchSize: base.batchSize },
    },
    {
      label: `batchless, micro-batch ${base.microBatchSize}`,
      request: { ...base, norm: 'batchless' },
    },
  ];
  const summaries: TrainSummary[] = [];
  const completed = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: 'Batchless: comparing BN and batchless',
      cancellable: true,
    },
    async (progress, token) => {
      for (const [i, run] of runs.entries()) {
        if (token.isCancellationRequested) return false;
        progress.report({ message: `${i + 1}/2: ${run.label}` });
        summaries.push(await trainOnce(ctx, run.request, token));
      }
      return true;
    },
  );
  if (!completed) return undefined;
  const document = await vscode.workspace.openTextDocument({
    language: 'markdown',
    content: comparisonMarkdown(
      base,
      runs.map((r) => r.label),
      summaries,
    ),
  });
  await vscode.window.showTextDocument(document, { preview: false });
  return summaries;
};

async function trainOnce(
  ctx: Ctx,
  request: TrainRequest,
  token: vscode.CancellationToken,
): Promise<TrainSummary> {
  const abort = new AbortController();
  const listener = token.onCancellationRequested(() => abort.abort());
  try {
    ctx.panels.setState({
      view: 'training',
      state: { status: 'running', request, steps: [], evals: [] },
    });
    const result = await ctx.engine.run(
      { type: 'train', request },
      {
        signal: abort.signal,
        onTrainEvent: (event) => ctx.panels.post('training', { type: 'trainEvent', event }),
      },
    );
    if (result.kind !== 'train') throw new Error(`unexpected engine answer '${result.kind}'`);
    return result.summary;
  } finally {
    listener.dispose();
  }
}

export function comparisonMarkdown(
  request: TrainRequest,
  labels: string[],
  summaries: TrainSummary[],
): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const row = (name: string, values: string[]) => `| ${name} | ${values.join(' | ')} |`;
  return [
    `# BN vs batchless on ${request.model}`,
    '',
    `Data ${request.data}, effective batch ${request.batchSize}, ${request.maxSteps > 0 ? `${request.maxSteps} steps` : `${request.epochs} epoch(s)`}, learning rate ${request.learningRate}, seed ${request.seed}.`,
    '',
    row('', labels),
    row(
      '---',
      labels.map(() => '---:'),
    ),
    row(
      'test accuracy',
      summaries.map((s) =>
        Number.isFinite(s.testAccuracy) ? `${(s.testAccuracy * 100).toFixed(2)} %` : 'n/a',
      ),
    ),
    row(
      'train loss (last epoch)',
      summaries.map((s) => s.trainLoss.toFixed(4)),
    ),
    row(
      'peak step memory (tensors, measured)',
      summaries.map((s) => mib(s.peakStepBytes)),
    ),
    row(
      'throughput',
      summaries.map((s) => `${Math.round(s.samplesPerSecond)} samples/s`),
    ),
    row(
      'steps',
      summaries.map((s) => `${s.steps} (${s.stopped})`),
    ),
    row(
      'backend',
      summaries.map((s) => s.backend),
    ),
    '',
    'Peak step memory is the tf.profile peak during one training step minus the tensor bytes alive before it.',
    'Batch normalization needs the whole batch in memory at once; batchless normalization processes micro-batches and accumulates their gradients into the same update.',
    '',
  ].join('\n');
}
