import * as vscode from 'vscode';
import { type BackendReport, probeBackend } from './backend-probe';
import type { Command, Ctx } from './context';

const DETAIL: Record<string, string> = {
  tensorflow: 'Native TensorFlow (fastest).',
  wasm: 'WebAssembly (portable, about a third of native speed).',
  cpu: 'Pure JavaScript (slow; meant for tests).',
};

/**
 * `batchless.showBackend`: says which backend the engine would run on, checked in a child
 * process so that nothing heavy loads into the extension host. Returns the report.
 */
export function showBackend(ctx: Ctx): Command {
  let inFlight: Promise<BackendReport> | undefined;

  return async () => {
    const preference = ctx.config.backend;
    ctx.status.set({ kind: 'probing' });
    inFlight ??= probeBackend(ctx.extension.extensionPath, preference).finally(() => {
      inFlight = undefined;
    });
    let report: BackendReport;
    try {
      report = await inFlight;
    } catch (err) {
      ctx.status.set({ kind: 'unavailable', reason: String(err instanceof Error ? err.message : err) });
      throw err;
    }
    for (const attempt of report.attempts) {
      ctx.log.info(`backend ${attempt.backend}: ${attempt.ok ? 'loads' : attempt.error}`);
    }

    if (report.backend) {
      const detail = DETAIL[report.backend] ?? '';
      const skipped = report.attempts.filter((a) => !a.ok).map((a) => `${a.backend} (${a.error})`);
      const why = skipped.length ? ` Not available: ${skipped.join('; ')}.` : '';
      ctx.status.set({ kind: 'ready', backend: report.backend, detail });
      void vscode.window.showInformationMessage(
        `Batchless engine backend: ${report.backend} (TensorFlow.js ${report.tfjsVersion}). ${detail}${why}`,
      );
    } else {
      const reason =
        preference === 'auto'
          ? 'no TensorFlow.js backend loads from the extension folder'
          : `the backend chosen in the setting batchless.engine.backend ("${preference}") does not load`;
      ctx.status.set({ kind: 'unavailable', reason });
      const errors = report.attempts.map((a) => `${a.backend}: ${a.error}`).join('; ');
      void vscode.window.showWarningMessage(`Batchless: ${reason} (${errors}).`);
    }
    return report;
  };
}
