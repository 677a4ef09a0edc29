import { spawn } from 'node:child_process';
import * as nodePath from 'node:path';

// Tests that need real Keras find their Python here: BATCHLESS_PYTHON, else the venv
// `node scripts/provision-python.js` creates. The lookup is the provisioning script's own, so the
// two never disagree on where Python is.

export const REPO_ROOT = nodePath.join(__dirname, '..', '..', '..', '..');

export interface PythonLookup {
  python?: string;
  reason?: string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const provisioning = require(nodePath.join(REPO_ROOT, 'scripts', 'provision-python.js')) as {
  findPython(): PythonLookup;
};

/** The interpreter with Keras, or why there is none. */
export function findKerasPython(): PythonLookup {
  return provisioning.findPython();
}

/** What a skipped Keras test says: why, and how to get a Python with Keras. */
export function noPythonMessage(lookup: PythonLookup): string {
  return (
    `no Python with Keras: ${lookup.reason}. Run \`node scripts/provision-python.js\` ` +
    '(about 2 min, local pip index) or set BATCHLESS_PYTHON'
  );
}

export interface PythonRun<T> {
  /** Each stdout line that starts with the prefix, parsed as JSON. */
  results: T[];
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Python script from the repository root with this tree's `batchless_keras` importable,
 * quiet TensorFlow and no __pycache__ in the work tree; collects the `prefix` JSON lines.
 */
export function runPython<T>(
  python: string,
  args: string[],
  prefix: string,
  timeoutMs = 300_000,
): Promise<PythonRun<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONPATH: nodePath.join(REPO_ROOT, 'python'),
        TF_CPP_MIN_LOG_LEVEL: '3',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const results = stdout
        .split('\n')
        .filter((line) => line.startsWith(prefix))
        .map((line) => JSON.parse(line.slice(prefix.length)) as T);
      resolve({ results, code, stdout, stderr });
    });
  });
}

/** The last lines of a run's output, for an assertion message. */
export function tail(run: PythonRun<unknown>, lines = 30): string {
  const last = (text: string) => text.split('\n').slice(-lines).join('\n');
  return `stdout:\n${last(run.stdout)}\nstderr:\n${last(run.stderr)}`;
}
