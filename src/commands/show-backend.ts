import * as vscode from 'vscode';
import { probeBackend, type ProbeResult } from './backend-probe';
import type { Command, Ctx } from './context';
import { nativeBackendEnv } from '../session/native-backend';

const INSTALL = 'Install Native Backend';

const DETAIL: Record<string, string> = {
  tensorflow: 'Native TensorFlow (fastest).',
  wasm: 'WebAssembly (portable, about a third of native speed).',
  cpu: 'Pure JavaScript (slow; meant for tests).',
};

/**
 * `batchless.showBackend`: says which backend the engine would run on, asked in a child process
 * so that nothing heavy loads into the extension host. Returns the probe result.
 */
export function showBackend(ctx: Ctx): Command {
  let inFlight: Promise<ProbeResult> | undefined;

  return async () => {
    ctx.status.set({ kind: 'probing' });
    // The probe loads the engine as the worker would: same backend preference, same threads.
    const threads = ctx.config.threads;
    inFlight ??= probeBackend(ctx.extension.extensionPath, ctx.config.backend, {
      ...nativeBackendEnv(ctx.extension.globalStorageUri.fsPath),
      ...(threads > 0 ? { TF_NUM_INTRAOP_THREADS: String(threads) } : {}),
    }).finally(() => {
      inFlight = undefined;
    });
    const result = await inFlight;
    ctx.log.info(`backend check (${result.elapsedMs} ms): ${JSON.stringify(result)}`);

    if (!result.ok) {
      ctx.status.set({ kind: 'unavailable', reason: result.error });
      void vscode.window.showWarningMessage(`Batchless: the engine cannot start: ${result.error}`);
      return result;
    }
    const { name, tfjsVersion, fallbacks } = result.backend;
    const detail = DETAIL[name] ?? '';
    const notUsed = fallbacks.map((f) => `${f.name} (${f.reason})`).join('; ');
    ctx.status.set({ kind: 'ready', backend: name, detail });
    const message =
      `Batchless engine backend: ${name} (TensorFlow.js ${tfjsVersion}). ${detail}` +
      (notUsed ? ` Not available: ${notUsed}.` : '');
    if (name === 'tensorflow') {
      void vscode.window.showInformationMessage(message);
    } else {
      void vscode.window.showInformationMessage(message, INSTALL).then((choice) => {
        if (choice === INSTALL)
          void vscode.commands.executeCommand('batchless.installNativeBackend');
      });
    }
    return result;
  };
}
