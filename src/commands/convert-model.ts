import * as vscode from 'vscode';
import type { ConversionSummary } from '../engine/convert/convert-file';
import type { SourceRewriteResult } from '../engine/convert/source/types';
import type { CommandFactory, Ctx } from './context';
import { isModelFile, pickModel } from './pick-model';
import { requireTrust } from './trust';

const SOURCE_FILE = /\.(ts|tsx|js|jsx|mjs|cjs|py)$/i;

export interface ConvertOptions {
  /** Skip the confirmation (tests, and callers that showed their own preview). */
  confirm?: boolean;
}

/**
 * Convert Batch Normalization to Batchless. Source files are rewritten in the editor buffer with a
 * WorkspaceEdit (so undo works); model files are converted by the engine after a parity preview,
 * in place with a backup (Restore Backup undoes it).
 */
export const convertModel: CommandFactory = (ctx) => async (arg?: unknown, options?: unknown) => {
  if (!requireTrust('Conversion')) return undefined;
  const confirm = (options as ConvertOptions | undefined)?.confirm !== false;
  const target = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (target && SOURCE_FILE.test(target.fsPath)) return convertSource(ctx, target, confirm);
  const model = await pickModel(target && isModelFile(target) ? target : arg, 'convert', false);
  if (!model) return undefined;
  return convertModelFile(ctx, model, confirm);
};

async function convertSource(
  ctx: Ctx,
  uri: vscode.Uri,
  confirm: boolean,
): Promise<SourceRewriteResult | undefined> {
  const document = await vscode.workspace.openTextDocument(uri);
  const result = await ctx.engine.run({
    type: 'rewriteSource',
    request: { fileName: document.fileName, text: document.getText() },
  });
  if (result.kind !== 'rewrite') throw new Error(`unexpected engine answer '${result.kind}'`);
  const rewrite = result.result;
  const unsupported = rewrite.unsupported.map((u) => `line ${u.line}: ${u.reason}`).join('; ');
  if (rewrite.edits.length === 0) {
    void vscode.window.showInformationMessage(
      `Batchless: no BatchNormalization calls to convert in ${vscode.workspace.asRelativePath(uri)}.${unsupported ? ` Left alone: ${unsupported}` : ''}`,
    );
    return rewrite;
  }
  if (confirm) {
    const dropped = [...new Set(rewrite.converted.flatMap((c) => c.droppedArguments))];
    const detail = [
      ...rewrite.converted.map(
        (c) =>
          `line ${c.line}: ${c.original.split('\n')[0].trim()} → ${c.replacement.split('\n')[0].trim()}`,
      ),
      dropped.length ? `Dropped arguments: ${dropped.join(', ')} (batch-norm only).` : '',
      rewrite.importAdded ? `Adds: ${rewrite.importAdded}` : '',
      unsupported ? `Left alone: ${unsupported}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    const choice = await vscode.window.showInformationMessage(
      `Convert ${rewrite.converted.length} BatchNormalization call(s) to batchless?`,
      { modal: true, detail },
      'Convert',
    );
    if (choice !== 'Convert') return undefined;
  }
  const edit = new vscode.WorkspaceEdit();
  for (const e of rewrite.edits)
    edit.replace(
      uri,
      new vscode.Range(document.positionAt(e.start), document.positionAt(e.end)),
      e.newText,
    );
  if (!(await vscode.workspace.applyEdit(edit)))
    throw new Error(`VS Code refused the edit to ${uri.fsPath} (was the file changed meanwhile?)`);
  void vscode.window.showInformationMessage(
    `Batchless: converted ${rewrite.converted.length} call(s) in ${vscode.workspace.asRelativePath(uri)}; Undo reverts it.`,
  );
  return rewrite;
}

async function convertModelFile(
  ctx: Ctx,
  path: string,
  confirm: boolean,
): Promise<ConversionSummary | undefined> {
  const preview = await ctx.engine.run({
    type: 'convert',
    request: { path, dryRun: true, inPlace: false },
  });
  if (preview.kind !== 'convert') throw new Error(`unexpected engine answer '${preview.kind}'`);
  const summary = preview.summary;
  if (summary.noop) {
    void vscode.window.showInformationMessage(`Batchless: ${summary.message}`);
    return summary;
  }
  const parity = summary.parity!;
  const detail = [
    ...summary.layers.map((l) => `${l.layer}: ${l.channels} channels, ${l.statisticsFrom}`),
    `Parity on ${parity.inputs}: max abs diff ${parity.maxAbsDiff.toExponential(2)}, max rel diff ${parity.maxRelDiff.toExponential(2)} (tolerance ${parity.tolerance}).`,
    ...summary.notes,
    'The original is kept in .batchless-backup/ beside the model.',
  ].join('\n');
  if (preview.refused) {
    const choice = await vscode.window.showWarningMessage(
      `Batchless: the converted model differs from the original beyond the tolerance.`,
      { modal: true, detail },
      'Convert Anyway',
    );
    if (choice !== 'Convert Anyway') return summary;
  } else if (confirm) {
    const choice = await vscode.window.showInformationMessage(
      `Convert ${summary.layers.length} BatchNormalization layer(s) in ${vscode.workspace.asRelativePath(path)} to batchless?`,
      { modal: true, detail },
      'Convert',
    );
    if (choice !== 'Convert') return undefined;
  }
  const done = await ctx.engine.run({
    type: 'convert',
    request: { path, dryRun: false, inPlace: true, force: preview.refused },
  });
  if (done.kind !== 'convert') throw new Error(`unexpected engine answer '${done.kind}'`);
  void vscode.window
    .showInformationMessage(`Batchless: ${done.summary.message}`, 'Restore Backup')
    .then((choice) => {
      if (choice === 'Restore Backup')
        void vscode.commands.executeCommand('batchless.restoreBackup', vscode.Uri.file(path));
    });
  return done.summary;
}
