import * as path from 'node:path';
import * as vscode from 'vscode';
import { findModelFiles } from './pick-train-request';

const MODEL_FILE = /(\.keras|\.h5|\.hdf5|\.json)$/i;

/** True for files the engine can load as a model (by name; the engine checks the content). */
export function isModelFile(uri: vscode.Uri): boolean {
  return MODEL_FILE.test(uri.fsPath) && !uri.fsPath.endsWith('.weights.h5');
}

/**
 * The model a command should act on: the explorer/editor argument, else the active editor's
 * file when it is a model, else a pick among built-in models and model files in the workspace.
 */
export async function pickModel(
  arg: unknown,
  purpose: string,
  builtins = true,
): Promise<string | undefined> {
  if (arg instanceof vscode.Uri && isModelFile(arg)) return arg.fsPath;
  if (typeof arg === 'string' && (arg.startsWith('builtin:') || path.isAbsolute(arg))) return arg;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && active.scheme === 'file' && isModelFile(active)) return active.fsPath;
  const files = await findModelFiles();
  const items: (vscode.QuickPickItem & { value: string })[] = [
    ...(builtins
      ? [
          { label: 'builtin:mlp', value: 'builtin:mlp' },
          { label: 'builtin:cnn', value: 'builtin:cnn' },
        ]
      : []),
    ...files.map((uri) => ({
      label: vscode.workspace.asRelativePath(uri),
      description: 'model file',
      value: uri.fsPath,
    })),
  ];
  if (items.length === 0) {
    void vscode.window.showInformationMessage(
      `Batchless: no model files (model.json, .keras, .h5) in this workspace to ${purpose}.`,
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `Batchless: model to ${purpose}`,
    ignoreFocusOut: true,
  });
  return picked?.value;
}
