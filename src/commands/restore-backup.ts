import * as vscode from 'vscode';
import { restoreLatestBackup } from '../engine/convert/backup';
import type { CommandFactory } from './context';
import { pickModel } from './pick-model';

/** Restore Model Backup: puts back the files an in-place conversion replaced. */
export const restoreBackup: CommandFactory = () => async (arg?: unknown) => {
  const model = await pickModel(arg, 'restore', false);
  if (!model) return undefined;
  const restored = await restoreLatestBackup(model);
  void vscode.window.showInformationMessage(
    `Batchless: restored ${restored.map((f) => vscode.workspace.asRelativePath(f)).join(', ')} from the newest backup.`,
  );
  return restored;
};
