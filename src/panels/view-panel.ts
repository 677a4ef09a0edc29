import * as vscode from 'vscode';
import { isFromWebview, type FromWebview, type ToWebview, type ViewKind } from '../shared/protocol';
import { renderWebviewHtml, viewIcon, webviewOptions } from './html';

/** Where a panel's problems are written (the extension's log output channel). */
export type PanelLog = Pick<vscode.LogOutputChannel, 'info' | 'warn'>;

/** What a panel asks of its owner. */
export interface PanelHost {
  /** The view's whole state, sent each time the webview (re)loads and posts `ready`. */
  fullState(view: ViewKind): ToWebview;
  /** A validated message other than `ready`. */
  receive(view: ViewKind, message: FromWebview): void;
  /** The user closed the panel. */
  closed(panel: ViewPanel): void;
}

/**
 * One webview panel of one view. Without `retainContextWhenHidden` the webview's page is torn
 * down while its tab is hidden and loads again when shown; each load posts `ready` and gets the
 * full state, so increments are only posted to a page that has said `ready` since it last loaded.
 */
export class ViewPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private disposed = false;
  /** Run once the page has said `ready` and received the full state. */
  private readonly whenReady: (() => void)[] = [];

  constructor(
    readonly view: ViewKind,
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly host: PanelHost,
    private readonly log: PanelLog,
  ) {
    panel.webview.options = webviewOptions(extensionUri);
    panel.iconPath = viewIcon(extensionUri, view);
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
      panel.onDidChangeViewState(() => {
        // A hidden page is gone; the next page announces itself with `ready`.
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        this.disposed = true;
        this.disposeListeners();
        host.closed(this);
      }),
    );
    panel.webview.html = renderWebviewHtml(panel.webview, extensionUri, view);
  }

  /** True once the current page posted `ready`: it is listening for increments. */
  get isReady(): boolean {
    return this.ready && !this.disposed;
  }

  /** Posts to the page if it is listening; a page that is not will ask for the full state. */
  post(message: ToWebview): void {
    if (!this.isReady) return;
    void this.panel.webview.postMessage(message).then(undefined, (err: unknown) => {
      this.log.warn(`${this.view} view: could not post ${message.type}: ${String(err)}`);
    });
  }

  /** Runs `action` now if the page is listening, else right after it next says `ready`. */
  afterReady(action: () => void): void {
    if (this.isReady) action();
    else this.whenReady.push(action);
  }

  reveal(column?: vscode.ViewColumn, preserveFocus = false): void {
    this.panel.reveal(column, preserveFocus);
  }

  dispose(): void {
    if (this.disposed) return;
    // Disposing the panel fires onDidDispose, which releases the listeners.
    this.panel.dispose();
  }

  private onMessage(message: unknown): void {
    if (!isFromWebview(message)) {
      this.log.warn(`${this.view} view: dropped an invalid message: ${preview(message)}`);
      return;
    }
    if (message.type === 'ready') {
      this.ready = true;
      void this.panel.webview.postMessage(this.host.fullState(this.view));
      for (const action of this.whenReady.splice(0)) action();
      return;
    }
    this.host.receive(this.view, message);
  }

  private disposeListeners(): void {
    while (this.disposables.length > 0) this.disposables.pop()?.dispose();
  }
}

/** A short, single-line rendering of an untrusted value for the log. */
function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
