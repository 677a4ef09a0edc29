import * as vscode from 'vscode';
import type { ViewPanels } from './view-panels';
import { VIEWS, VIEW_KINDS } from './views';

/**
 * Lets VS Code bring the Batchless panels back after a window reload. The webview persisted its
 * last full state with `setState`; the panel is handed to `ViewPanels`, which reloads the page and
 * answers its `ready` with the session's state (or the persisted one when the session has none).
 * package.json must list `onWebviewPanel:<viewType>` for each view so that a restore activates
 * the extension.
 */
export function registerPanelSerializers(panels: ViewPanels): vscode.Disposable[] {
  return VIEW_KINDS.map((view) =>
    vscode.window.registerWebviewPanelSerializer(VIEWS[view].viewType, {
      deserializeWebviewPanel(panel: vscode.WebviewPanel, persisted: unknown): Thenable<void> {
        panels.restore(view, panel, persisted);
        return Promise.resolve();
      },
    }),
  );
}
