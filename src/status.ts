import * as vscode from 'vscode';

/** What the one status-bar item shows; every change goes through `StatusBar.set`. */
export type EngineStatus =
  | { kind: 'idle' }
  | { kind: 'probing' }
  | { kind: 'ready'; backend: string; detail: string }
  | { kind: 'training'; step: number; total: number }
  | { kind: 'unavailable'; reason: string };

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private current: EngineStatus = { kind: 'idle' };

  constructor(clickCommand: string) {
    this.item = vscode.window.createStatusBarItem(
      'batchless.engine',
      vscode.StatusBarAlignment.Left,
    );
    this.item.name = 'Batchless Engine';
    this.item.command = clickCommand;
    this.render();
    this.item.show();
  }

  set(status: EngineStatus): void {
    this.current = status;
    this.render();
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    const s = this.current;
    switch (s.kind) {
      case 'idle':
        this.item.text = '$(circuit-board) Batchless';
        this.item.tooltip = 'Batchless: the engine loads on first use. Click to check its backend.';
        this.item.backgroundColor = undefined;
        break;
      case 'probing':
        this.item.text = '$(sync~spin) Batchless';
        this.item.tooltip = 'Batchless: checking which backend the engine can load…';
        this.item.backgroundColor = undefined;
        break;
      case 'ready':
        this.item.text = `$(circuit-board) Batchless: ${s.backend}`;
        this.item.tooltip = `Batchless engine backend: ${s.backend}. ${s.detail}`;
        this.item.backgroundColor = undefined;
        break;
      case 'training':
        this.item.text = `$(sync~spin) Batchless: step ${s.step}/${s.total}`;
        this.item.tooltip =
          'Batchless: a training session is running (cancel it from its progress notification).';
        this.item.backgroundColor = undefined;
        break;
      case 'unavailable':
        this.item.text = '$(warning) Batchless';
        this.item.tooltip = `Batchless engine unavailable: ${s.reason}`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        break;
    }
  }
}
