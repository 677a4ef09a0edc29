#!/usr/bin/env node
'use strict';
// Creates the Python environment the Keras layer's tests run in (python/, test/python/): a venv
// with tensorflow-cpu, keras and h5py from the machine's local pip index (the only Python index
// this project's machines reach; about 2 minutes the first time). It lives in the same
// machine-level cache as provision-tfjs-node.js, so a fresh clone reuses it, and never inside the
// work tree, where linters and git would see it. Idempotent: a finished venv is marked and reused.
//
//   node scripts/provision-python.js           create if missing, print the interpreter path
//   node scripts/provision-python.js --check   print the path if ready, exit 1 otherwise

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const machineCache = require('./machine-cache');

const REQUIREMENTS = ['tensorflow-cpu==2.21.0', 'keras==3.15.1', 'h5py'];
const VENV_NAME = 'venv-keras-tf2.21.0-keras3.15.1';
const ROOT = path.resolve(__dirname, '..');

function log(message) {
  console.error(`batchless: ${message}`);
}

function cacheRoot() {
  return machineCache.cacheRoot(ROOT);
}

function venvDir() {
  return path.join(cacheRoot(), VENV_NAME);
}

function venvPython() {
  return path.join(venvDir(), 'bin', 'python');
}

function markerPath() {
  return path.join(venvDir(), '.provisioned');
}

function isProvisioned() {
  return (
    fs.existsSync(venvPython()) &&
    fs.existsSync(markerPath()) &&
    fs.readFileSync(markerPath(), 'utf8').trim() === REQUIREMENTS.join(' ')
  );
}

/**
 * The interpreter the Python tests should use, or why there is none: BATCHLESS_PYTHON if set,
 * else the provisioned venv. Checks that keras and tensorflow are importable without importing
 * them (that alone takes seconds).
 */
function findPython() {
  const candidate = process.env.BATCHLESS_PYTHON || (isProvisioned() ? venvPython() : undefined);
  if (!candidate) {
    return { reason: `no provisioned venv at ${venvDir()} and BATCHLESS_PYTHON is not set` };
  }
  const probe = childProcess.spawnSync(
    candidate,
    [
      '-c',
      'import importlib.util as u, sys; missing = [m for m in ("keras", "tensorflow") ' +
        'if u.find_spec(m) is None]; print(" ".join(missing)); sys.exit(1 if missing else 0)',
    ],
    { encoding: 'utf8', timeout: 60000 },
  );
  if (probe.error) return { reason: `${candidate} could not start: ${probe.error.message}` };
  if (probe.status !== 0) {
    const missing = probe.stdout.trim() || probe.stderr.trim().split('\n').pop();
    return { reason: `${candidate} lacks ${missing}` };
  }
  return { python: candidate };
}

function run(command, args) {
  const result = childProcess.spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
}

function provision() {
  if (isProvisioned()) return venvPython();
  const started = Date.now();
  const dir = venvDir();
  log(`creating ${dir} (${REQUIREMENTS.join(', ')}) from the local pip index`);
  fs.rmSync(dir, { recursive: true, force: true });
  try {
    run('python3', ['-m', 'venv', dir]);
  } catch (error) {
    throw new Error(
      `${error.message}\n  python3 with venv is needed: apt-get install -y python3-venv`,
    );
  }
  // --retries 0: where the default index is unreachable (it is here), pip would otherwise retry
  // it five times per package before taking the local index's copy.
  run(venvPython(), [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--retries',
    '0',
    ...REQUIREMENTS,
  ]);
  fs.writeFileSync(markerPath(), `${REQUIREMENTS.join(' ')}\n`);
  log(`Python environment ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return venvPython();
}

function main() {
  if (process.argv.includes('--check')) {
    const found = findPython();
    if (found.python) console.log(found.python);
    else log(found.reason);
    process.exit(found.python ? 0 : 1);
  }
  try {
    console.log(provision());
  } catch (error) {
    log(`could not provision Python: ${error.message}`);
    process.exit(1);
  }
}

module.exports = { findPython, venvDir, venvPython, REQUIREMENTS };

if (require.main === module) main();
