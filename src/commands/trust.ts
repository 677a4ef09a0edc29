import * as vscode from 'vscode';

/**
 * In an untrusted workspace nothing from it runs: training, conversion and memory sweeps read
 * and compute on workspace files, so they wait for trust; inspection stays available. Says why.
 */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(
    `Batchless: ${action} is not available in Restricted Mode. Trust this workspace to use it; inspecting layer statistics works without trust.`,
  );
  return false;
}
