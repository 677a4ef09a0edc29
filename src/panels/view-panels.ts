import * as vscode from 'vscode';
import type { FromWebview, ToWebview, ViewKind, ViewState } from '../shared/protocol';
import { webviewOptions } from './html';
import { isPersistedWebviewState } from './persisted-state';
import { emptyViewState, isEmptyViewState, reduceViewState } from './reduce-view-state';
import { ViewPanel, type PanelHost, type PanelLog } from './view-panel';
import { VIEWS, VIEW_KINDS } from './views';

/** A webview drew its charts; `series` are the dataset labels it drew. */
export interface RenderedEvent {
  view: ViewKind;
  series: string[];
}

export interface LayerSelectedEvent {
  view: ViewKind;
  layer: string;
}

export type WebviewCommand = Extract<FromWebview, { type: 'command' }>['command'];

export interface CommandRequestEvent {
  view: ViewKind;
  command: WebviewCommand;
}

export interface ExportedImage {
  id: string;
  dataUrl: string;
}

export interface ExportedEvent {
  view: ViewKind;
  images: ExportedImage[];
}

const EXPORT_TIMEOUT_MS = 15_000;

/**
 * The three Batchless views. Keeps the latest full state of each view, whether or not its panel
 * is open, and folds every increment into it, so a panel opened, revealed or restored later
 * starts from everything so far. Commands talk to this class only; it talks to the webviews.
 */
export class ViewPanels implements vscode.Disposable {
  private readonly states = new Map<ViewKind, ViewState>();
  private readonly panels = new Map<ViewKind, ViewPanel>();
  private readonly renderedEmitter = new vscode.EventEmitter<RenderedEvent>();
  private readonly layerEmitter = new vscode.EventEmitter<LayerSelectedEvent>();
  private readonly commandEmitter = new vscode.EventEmitter<CommandRequestEvent>();
  private readonly exportedEmitter = new vscode.EventEmitter<ExportedEvent>();
  private readonly panelHost: PanelHost = {
    fullState: (view) => ({ type: 'state', state: this.state(view) }),
    receive: (view, message) => this.receive(view, message),
    closed: (panel) => {
      if (this.panels.get(panel.view) === panel) this.panels.delete(panel.view);
    },
  };

  /** A webview finished drawing (tests and screenshots wait for this). */
  readonly onDidRender = this.renderedEmitter.event;
  /** The user picked a layer in the statistics view. */
  readonly onDidSelectLayer = this.layerEmitter.event;
  /** The user pressed a button that asks for a command (train, inspect, memory, export). */
  readonly onDidRequestCommand = this.commandEmitter.event;
  /** A webview answered `requestExport` with its charts as PNG data URLs. */
  readonly onDidExport = this.exportedEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: PanelLog,
  ) {}

  /** Opens the view's panel, or brings it to the front if it is open already. */
  show(view: ViewKind, column: vscode.ViewColumn = vscode.ViewColumn.Active): void {
    const open = this.panels.get(view);
    if (open) {
      open.reveal(column);
      return;
    }
    const { viewType, title } = VIEWS[view];
    const panel = vscode.window.createWebviewPanel(
      viewType,
      title,
      column,
      webviewOptions(this.extensionUri),
    );
    this.adopt(view, panel);
  }

  /**
   * Takes over a panel VS Code restored after a reload (see `registerPanelSerializers`). When this
   * session has nothing for the view yet, the state the webview persisted becomes the view's
   * state, so the host sends it back on `ready` instead of an empty one.
   */
  restore(view: ViewKind, panel: vscode.WebviewPanel, persisted: unknown): void {
    if (isEmptyViewState(this.state(view)) && isPersistedWebviewState(persisted, view)) {
      this.states.set(view, persisted.state);
    }
    this.adopt(view, panel);
  }

  /** True when the view's panel exists (visible or in a background tab). */
  isOpen(view: ViewKind): boolean {
    return this.panels.has(view);
  }

  /** The latest full state of a view (empty until something was set or posted). */
  state(view: ViewKind): ViewState {
    return this.states.get(view) ?? emptyViewState(view);
  }

  /** Replaces a view's whole state (a new run, an inspection result, a failure). */
  setState(state: ViewState): void {
    this.states.set(state.view, state);
    this.panels.get(state.view)?.post({ type: 'state', state });
  }

  /**
   * Sends an increment (or `selectLayer`, `requestExport`) to a view and folds it into the stored
   * state. Increments that do not concern the view are neither stored nor posted.
   */
  post(view: ViewKind, message: ToWebview): void {
    const before = this.state(view);
    const after = reduceViewState(before, message);
    if (after !== before) this.states.set(view, after);
    const forwarded = after !== before || message.type === 'requestExport';
    if (forwarded) this.panels.get(view)?.post(message);
  }

  /** `post` to every view: a training event feeds training, statistics and memory at once. */
  postToAll(message: ToWebview): void {
    for (const view of VIEW_KINDS) this.post(view, message);
  }

  /**
   * Shows the view and asks its webview for its charts as PNGs. Rejects if the webview does not
   * answer within 15 s (for example when the view has nothing drawn and no charts to give).
   */
  exportCharts(view: ViewKind, timeoutMs = EXPORT_TIMEOUT_MS): Promise<ExportedImage[]> {
    return new Promise<ExportedImage[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        listener.dispose();
        reject(new Error(`the ${VIEWS[view].title} view did not export within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = this.onDidExport((event) => {
        if (event.view !== view) return;
        clearTimeout(timer);
        listener.dispose();
        resolve(event.images);
      });
      this.show(view);
      // A page that is still loading gets the request right after its full state.
      this.panels
        .get(view)
        ?.afterReady(() => this.panels.get(view)?.post({ type: 'requestExport' }));
    });
  }

  dispose(): void {
    for (const panel of [...this.panels.values()]) panel.dispose();
    this.panels.clear();
    this.renderedEmitter.dispose();
    this.layerEmitter.dispose();
    this.commandEmitter.dispose();
    this.exportedEmitter.dispose();
  }

  private adopt(view: ViewKind, panel: vscode.WebviewPanel): void {
    const previous = this.panels.get(view);
    this.panels.set(view, new ViewPanel(view, panel, this.extensionUri, this.panelHost, this.log));
    // Only one panel per view: a second one (restored twice) replaces the first.
    previous?.dispose();
  }

  private receive(view: ViewKind, message: FromWebview): void {
    switch (message.type) {
      case 'ready':
        return;
      case 'rendered':
        if (message.view !== view) {
          this.log.warn(`${view} view: rendered claims to be ${message.view}; ignored`);
          return;
        }
        this.renderedEmitter.fire({ view, series: message.series });
        return;
      case 'selectLayer': {
        // The page already shows the layer: keep it for restore, but do not echo it back.
        const after = reduceViewState(this.state(view), message);
        this.states.set(view, after);
        this.layerEmitter.fire({ view, layer: message.layer });
        return;
      }
      case 'command':
        this.commandEmitter.fire({ view, command: message.command });
        return;
      case 'exported':
        this.exportedEmitter.fire({ view, images: message.images });
        return;
    }
  }
}
