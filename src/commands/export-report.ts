import * as vscode from 'vscode';
import type { ViewKind } from '../shared/protocol';
import type { CommandFactory } from './context';
import { reportCsv } from './report-csv';

const VIEWS: ViewKind[] = ['training', 'statistics', 'memory'];

/**
 * Export Report: every view's data as JSON and CSV, and the charts of open views as PNG, into a
 * folder the user picks (tests pass one). Resolves to the files written.
 */
export const exportReport: CommandFactory = (ctx) => async (arg?: unknown) => {
  const folder = arg instanceof vscode.Uri ? arg : await pickFolder();
  if (!folder) return undefined;
  await vscode.workspace.fs.createDirectory(folder);
  const written: vscode.Uri[] = [];
  const write = async (name: string, bytes: Uint8Array) => {
    const uri = vscode.Uri.joinPath(folder, name);
    await vscode.workspace.fs.writeFile(uri, bytes);
    written.push(uri);
  };
  for (const view of VIEWS) {
    const state = ctx.panels.state(view);
    await write(`batchless-${view}.json`, Buffer.from(JSON.stringify(state, null, 2)));
    await write(`batchless-${view}.csv`, Buffer.from(reportCsv(state)));
    if (ctx.panels.isOpen(view)) {
      const images = await ctx.panels.exportCharts(view).catch((err: unknown) => {
        ctx.log.warn(`export of ${view} charts failed: ${String(err)}`);
        return [];
      });
      for (const image of images)
        await write(
          `batchless-${view}-${image.id}.png`,
          Buffer.from(image.dataUrl.slice(image.dataUrl.indexOf(',') + 1), 'base64'),
        );
    }
  }
  void vscode.window.showInformationMessage(
    `Batchless: wrote ${written.length} files to ${folder.fsPath}.`,
  );
  return written.map((u) => u.fsPath);
};

async function pickFolder(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: 'Export Batchless report here',
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0];
}
