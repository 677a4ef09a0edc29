import * as vscode from 'vscode';
import type { Command, CommandFactory, Ctx } from './context';
import { compareNorms } from './compare-norms';
import { convertModel } from './convert-model';
import { exportReport } from './export-report';
import { exportToKeras } from './export-to-keras';
import { inspectStatistics } from './inspect-statistics';
import { installNativeBackend } from './install-native-backend';
import { restoreBackup } from './restore-backup';
import { selectLayer } from './select-layer';
import { showBackend } from './show-backend';
import { showMemory } from './show-memory';
import { trainSession } from './train-session';

/**
 * Every command the extension contributes, by id. Each id must also be listed under
 * `contributes.commands` in package.json with category "Batchless" (an integration test checks
 * that the two lists agree).
 */
export const COMMANDS = {
  'batchless.showBackend': showBackend,
  'batchless.installNativeBackend': installNativeBackend,
  'batchless.convertModel': convertModel,
  'batchless.restoreBackup': restoreBackup,
  'batchless.exportToKeras': exportToKeras,
  'batchless.trainSession': trainSession,
  'batchless.inspectStatistics': inspectStatistics,
  'batchless.showMemory': showMemory,
  'batchless.compareNorms': compareNorms,
  'batchless.exportReport': exportReport,
  'batchless.selectLayer': selectLayer,
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
