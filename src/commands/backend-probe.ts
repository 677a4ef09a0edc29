import { execFile } from 'child_process';
import * as path from 'path';
import type { BackendPreference } from '../config';
// Type only: erased from the bundle, so the extension host never loads the engine.
import type { BackendReport } from '../engine';

export type ProbeResult =
  | { ok: true; enginePath: string; backend: BackendReport; elapsedMs: number }
  | { ok: false; enginePath?: string; error: string; elapsedMs: number };

const MARKER = 'BATCHLESS_BACKEND_REPORT ';
const PROBE_TIMEOUT_MS = 90_000;

// Runs in a separate Node process so the extension host never loads TensorFlow.js (about
// 400 MB resident with the native backend) just to answer a question. The engine itself
// chooses, so the answer is the one a training run would get.
const PROBE_SOURCE = `
const fs = require('fs');
const candidates = JSON.parse(process.env.BATCHLESS_ENGINE_CANDIDATES);
const preference = process.env.BATCHLESS_BACKEND_PREFERENCE;
const report = (result) => process.stdout.write(${JSON.stringify(MARKER)} + JSON.stringify(result) + '\\n');
const enginePath = candidates.find((p) => fs.existsSync(p));
(async () => {
  if (!enginePath) {
    return report({ ok: false, error: 'the engine is not built (' + candidates.join(', ') + ' missing): run npm run build' });
  }
  try {
    const engine = require(enginePath);
    if (typeof engine.setBackend !== 'function') {
      return report({ ok: false, enginePath, error: enginePath + ' does not export setBackend' });
    }
    const backend = await engine.setBackend(preference === 'auto' ? undefined : preference);
    report({ ok: true, enginePath, backend });
  } catch (err) {
    report({ ok: false, enginePath, error: String((err && err.message) || err).split('\\n')[0] });
  }
})();
`;

/** The shipped bundle first, then tsc's output in a development checkout. */
function engineCandidates(extensionPath: string): string[] {
  return [
    path.join(extensionPath, 'dist', 'engine.js'),
    path.join(extensionPath, 'out', 'src', 'engine', 'index.js'),
  ];
}

/**
 * Asks the engine, in a child Node process, which backend it would run on. `process.execPath`
 * is Electron in desktop VS Code: ELECTRON_RUN_AS_NODE makes it plain Node. Never rejects.
 */
export function probeBackend(
  extensionPath: string,
  preference: BackendPreference,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<ProbeResult> {
  const started = Date.now();
  const env = {
    ...process.env,
    ...extraEnv,
    ELECTRON_RUN_AS_NODE: '1',
    BATCHLESS_ENGINE_CANDIDATES: JSON.stringify(engineCandidates(extensionPath)),
    BATCHLESS_BACKEND_PREFERENCE: preference,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', PROBE_SOURCE],
      { cwd: extensionPath, env, timeout: PROBE_TIMEOUT_MS, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const elapsedMs = Date.now() - started;
        const line = stdout
          .split('\n')
          .reverse()
          .find((l) => l.startsWith(MARKER));
        if (line) {
          resolve({ ...(JSON.parse(line.slice(MARKER.length)) as ProbeResult), elapsedMs });
          return;
        }
        const why = error?.killed
          ? `the backend check timed out after ${PROBE_TIMEOUT_MS / 1000} s`
          : `the backend check ended without an answer (${error?.message ?? 'no output'})`;
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        resolve({ ok: false, error: tail ? `${why}: ${tail}` : why, elapsedMs });
      },
    );
  });
}
