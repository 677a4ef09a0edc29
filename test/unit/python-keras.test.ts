// The Keras 3 layer (python/batchless_keras) and its Python tests (test/python), run with a
// Python that has Keras: BATCHLESS_PYTHON, else the venv `node scripts/provision-python.js`
// creates. Each Python test case is one node subtest, grouped by Python module; without such a
// Python the suite is skipped and says how to get one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

interface PythonLookup {
  python?: string;
  reason?: string;
}

/** One finished Python test case, as test/python/run_tests.py prints it. */
interface PythonTestEvent {
  module: string;
  name: string;
  status: 'pass' | 'fail' | 'skip';
  seconds: number;
  message: string;
}

interface PythonRun {
  events: PythonTestEvent[];
  code: number | null;
  stderr: string;
}

const repoRoot = path.join(__dirname, '..', '..', '..');
const runner = path.join(repoRoot, 'test', 'python', 'run_tests.py');
const EVENT_PREFIX = '@@batchless-test ';

// The same lookup the provisioning script uses, so the two never disagree on where Python is.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const provisioning = require(path.join(repoRoot, 'scripts', 'provision-python.js')) as {
  findPython(): PythonLookup;
};

function runPythonSuite(python: string): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [runner], {
      cwd: repoRoot,
      // No __pycache__ folders in the work tree; no TensorFlow start-up chatter.
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', TF_CPP_MIN_LOG_LEVEL: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const events = stdout
        .split('\n')
        .filter((line) => line.startsWith(EVENT_PREFIX))
        .map((line) => JSON.parse(line.slice(EVENT_PREFIX.length)) as PythonTestEvent);
      resolve({ events, code, stderr });
    });
  });
}

function byModule(events: PythonTestEvent[]): Map<string, PythonTestEvent[]> {
  const modules = new Map<string, PythonTestEvent[]>();
  for (const event of events)
    modules.set(event.module, [...(modules.get(event.module) ?? []), event]);
  return modules;
}

const lookup = provisioning.findPython();
const suiteName = 'Keras layer (python/batchless_keras, test/python)';

if (!lookup.python) {
  test(suiteName, (t) => {
    t.skip(
      `no Python with Keras: ${lookup.reason}. Run \`node scripts/provision-python.js\` ` +
        '(about 2 min, local pip index) or set BATCHLESS_PYTHON',
    );
  });
} else {
  const python = lookup.python;
  test(suiteName, { timeout: 600_000 }, async (t) => {
    t.diagnostic(`python: ${python}`);
    const run = await runPythonSuite(python);
    const tail = run.stderr.split('\n').slice(-40).join('\n');
    for (const [module, events] of byModule(run.events)) {
      await t.test(module, async (m) => {
        for (const event of events) {
          await m.test(event.name, (s) => {
            s.diagnostic(`${event.seconds.toFixed(2)} s in Python`);
            if (event.status === 'skip') s.skip(event.message);
            else if (event.status === 'fail') assert.fail(event.message);
          });
        }
      });
    }
    assert.ok(run.events.length > 0, `no Python test reported a result:\n${tail}`);
    assert.equal(run.code, 0, `the Python runner exited ${run.code}:\n${tail}`);
  });
}
