import type * as vscode from 'vscode';
import type { Config } from '../config';
import type { StatusBar } from '../status';

/** What every command gets: built once in `activate`, never a module-level singleton. */
export interface Ctx {
  readonly extension: vscode.ExtensionContext;
  readonly config: Config;
  readonly status: StatusBar;
  readonly log: vscode.LogOutputChannel;
}

/** A command body; its result is returned to `executeCommand` callers (tests use it). */
export type Command = (...args: unknown[]) => Promise<unknown>;

export type CommandFactory = (ctx: Ctx) => Command;
