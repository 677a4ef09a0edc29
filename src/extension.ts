import * as vscode from 'vscode';
import { registerCommands } from './commands';
import type { Ctx } from './commands/context';
import { Config } from './config';
import { StatusBar } from './status';

// Kept thin and cheap: nothing here loads TensorFlow.js. The engine is started by the commands
// that need it, in a process of its own.
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Batchless', { log: true });
  const status = new StatusBar('batchless.showBackend');
  const ctx: Ctx = { extension: context, config: new Config(), status, log };
  context.subscriptions.push(log, status, ...registerCommands(ctx));
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
