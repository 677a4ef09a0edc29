import * as vscode from 'vscode';
import type { Command, CommandFactory, Ctx } from './context';
import { showBackend } from './show-backend';

/**
 * Every command the extension contributes, by id. Each id must also be listed under
 * `contributes.commands` in package.json with category "Batchless" (an integration test checks
 * that the two lists agree).
 */
export const COMMANDS = {
  'batchless.showBackend': showBackend,
} as const satisfies Record<`batchless.${string}`, CommandFactory>;

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, factory]) =>
    vscode.commands.registerCommand(id, guard(id, factory(ctx), ctx)),
  );
}

// A command that fails tells the user why and logs the stack; it never rejects into the
// workbench, where the error would surface as an opaque notification without context.
function guard(id: string, command: Command, ctx: Ctx): Command {
  return async (...args) => {
    try {
      return await command(...args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      ctx.log.error(`${id} failed`, err);
      void vscode.window.showErrorMessage(`Batchless: ${message}`);
      return undefined;
    }
  };
}
