import type * as vscode from 'vscode';
import type { Config } from '../config';
import type { EngineSession } from '../session/engine-session';
import type { ToWebview, ViewKind, ViewState } from '../shared/protocol';
import type { StatusBar } from '../status';
import type { LayerTreeProvider } from '../views/layer-tree';

/** What commands need of the webview panels (implemented by src/panels). */
export interface PanelsApi {
  /** Opens the view, or reveals it if open. */
  show(view: ViewKind): void;
  /** Replaces the view's whole state. */
  setState(state: ViewState): void;
  /** Sends an increment (it is also folded into the view's stored state). */
  post(view: ViewKind, message: ToWebview): void;
  /** The view's current full state. */
  state(view: ViewKind): ViewState;
  isOpen(view: ViewKind): boolean;
  /** The open view's charts as PNG data URLs. */
  exportCharts(view: ViewKind): Promise<{ id: string; dataUrl: string }[]>;
}

/** What every command gets: built once in `activate`, never a module-level singleton. */
export interface Ctx {
  readonly extension: vscode.ExtensionContext;
  readonly config: Config;
  readonly status: StatusBar;
  readonly log: vscode.LogOutputChannel;
  /** The engine worker, started on first use. */
  readonly engine: EngineSession;
  readonly panels: PanelsApi;
  /** The Explorer's normalization-layer tree. */
  readonly layers?: LayerTreeProvider;
}

/** A command body; its result is returned to `executeCommand` callers (tests use it). */
export type Command = (...args: unknown[]) => Promise<unknown>;

export type CommandFactory = (ctx: Ctx) => Command;
