import { execFile } from 'child_process';
import type { BackendPreference } from '../config';

/** One backend the probe tried, and why it did not load if it did not. */
export interface BackendAttempt {
  backend: string;
  ok: boolean;
  error?: string;
}

export interface BackendReport {
  /** The first backend that initialised, or undefined when none did. */
  backend: string | undefined;
  tfjsVersion: string | undefined;
  attempts: BackendAttempt[];
  elapsedMs: number;
}

const MARKER = 'BATCHLESS_BACKEND_REPORT ';
const PROBE_TIMEOUT_MS = 90_000;

// Runs in a separate Node process so the extension host never loads TensorFlow.js (400 MB
// resident for the native backend) just to answer a question. Same order as the engine:
// native TensorFlow, then wasm, then the pure-JS cpu backend.
const PROBE_SOURCE = `
const preference = process.env.BATCHLESS_BACKEND_PREFERENCE || 'auto';
const order = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
const attempts = [];
const report = (backend, tfjsVersion) =>
  process.stdout.write(${JSON.stringify(MARKER)} + JSON.stringify({ backend, tfjsVersion, attempts }) + '\\n');
(async () => {
  for (const backend of order) {
    try {
      const tf = require(backend === 'tensorflow' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs');
      if (backend === 'wasm') require('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend(backend))) throw new Error('the backend did not initialise');
      await tf.ready();
      attempts.push({ backend, ok: true });
      return report(backend, tf.version.tfjs);
    } catch (err) {
      const message = String((err && err.message) || err).split('\\n')[0];
      attempts.push({ backend, ok: false, error: message });
    }
  }
  report(undefined, undefined);
})();
`;

/**
 * Asks a child Node process which TensorFlow.js backend loads from the extension's folder.
 * `process.execPath` is Electron in desktop VS Code: ELECTRON_RUN_AS_NODE makes it plain Node.
 */
export function probeBackend(cwd: string, preference: BackendPreference): Promise<BackendReport> {
  const started = Date.now();
  const env = {
    ...process.env,
    ELECTRON_RUN_AS_NODE: '1',
    BATCHLESS_BACKEND_PREFERENCE: preference,
    TF_CPP_MIN_LOG_LEVEL: '2',
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', PROBE_SOURCE],
      { cwd, env, timeout: PROBE_TIMEOUT_MS, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const line = stdout
          .split('\n')
          .reverse()
          .find((l) => l.startsWith(MARKER));
        if (!line) {
          const why = error?.killed
            ? `the backend check timed out after ${PROBE_TIMEOUT_MS / 1000} s`
            : `the backend check exited without a report (${error?.message ?? 'no output'})`;
          const tail = stderr.trim().split('\n').slice(-3).join(' | ');
          reject(new Error(tail ? `${why}: ${tail}` : why));
          return;
        }
        const parsed = JSON.parse(line.slice(MARKER.length)) as Omit<BackendReport, 'elapsedMs'>;
        resolve({ ...parsed, elapsedMs: Date.now() - started });
      },
    );
  });
}
