import * as vscode from 'vscode';
import type { ConversionSummary } from '../engine/convert/convert-file';
import { kerasReadme, kerasReadmePath } from '../engine/convert/keras-readme';
import type { CommandFactory, Ctx } from './context';
import { pickModel } from './pick-model';
import { requireTrust } from './trust';

export interface ExportToKerasOptions {
  /** Skip offering to open the README (tests). */
  openReadme?: boolean;
}

/**
 * Export to Keras: the engine writes `<name>.batchless.keras` beside the model (BN converted to
 * batchless, read back and checked), then a `<name>.batchless.README.md` says how to load and
 * train it with Keras; the user is offered the README.
 */
export const exportToKeras: CommandFactory = (ctx) => async (arg?: unknown, options?: unknown) => {
  if (!requireTrust('Export to Keras')) return undefined;
  const model = await pickModel(arg, 'export to Keras', false);
  if (!model) return undefined;
  const offer = (options as ExportToKerasOptions | undefined)?.openReadme !== false;
  let summary = await runExport(ctx, model, false);
  if (summary.refused) {
    const choice = await vscode.window.showWarningMessage(
      'Batchless: the converted model differs from the original beyond the tolerance.',
      { modal: true, detail: summary.summary.message },
      'Export Anyway',
    );
    if (choice !== 'Export Anyway') return summary.summary;
    summary = await runExport(ctx, model, true);
  }
  const done = summary.summary;
  if (!done.output) throw new Error(`the engine wrote no file: ${done.message}`);
  const readme = vscode.Uri.file(kerasReadmePath(done.output));
  await vscode.workspace.fs.writeFile(readme, new TextEncoder().encode(kerasReadme(done)));
  ctx.log.info(done.message);
  if (offer) {
    void vscode.window
      .showInformationMessage(`Batchless: ${done.message}`, 'Open README')
      .then((choice) => {
        if (choice === 'Open README')
          void vscode.commands.executeCommand('markdown.showPreview', readme);
      });
  }
  return { ...done, readme: readme.fsPath };
};

async function runExport(
  ctx: Ctx,
  path: string,
  force: boolean,
): Promise<{ summary: ConversionSummary; refused: boolean }> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Batchless: exporting to Keras' },
    () => ctx.engine.run({ type: 'exportKeras', request: { path, force } }),
  );
  if (result.kind !== 'exportKeras') throw new Error(`unexpected engine answer '${result.kind}'`);
  return result;
}
