#!/usr/bin/env node
'use strict';
// Makes require('@tensorflow/tfjs-node') work. npm installs it with its install script off
// (package.json allowScripts), because that script downloads libtensorflow from Google storage
// and npm rolls the whole install back when the download fails. Here: tfjs-node's own download
// is tried first; where that host is unreachable, libtensorflow comes from the tensorflow-cpu
// wheel in the local pip index (kept in a machine-level cache so a fresh clone does not pay for
// it again) and the addon is built from source against it.
//
//   node scripts/provision-tfjs-node.js                    the project's own tfjs-node (postinstall;
//                                                          never fails the install: the engine
//                                                          falls back to wasm)
//   node provision-tfjs-node.js --tfjs-node <dir>          a tfjs-node installed elsewhere (the
//                                                          extension's "Install Native Backend",
//                                                          from dist/); exits 1 when it fails
//   [--no-download]                                        skip tfjs-node's own download

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const machineCache = require('./machine-cache');

const TF_VERSION = '2.21.0';
const LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
// Names the addon links against (binding.gyp: -ltensorflow -ltensorflow_framework), plus the
// exact file tfjs-node's install.js looks for before it decides to download.
const LIB_SYMLINKS = {
  'libtensorflow.so': 'libtensorflow_cc.so.2',
  'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
  'libtensorflow.so.2.9.1': 'libtensorflow_cc.so.2',
};
const HEADER_PREFIXES = [
  'tensorflow/c/',
  'tensorflow/core/platform/ctstring',
  'tsl/platform/ctstring',
  'xla/tsl/c/',
];
const ROOT = path.resolve(__dirname, '..');
// tfjs-node's own install: a download from Google storage and node-pre-gyp; bounded, because an
// unreachable host can hang instead of failing.
const OWN_INSTALL_TIMEOUT_MS = 5 * 60_000;
const started = Date.now();

function log(message) {
  console.log(`batchless: ${message}`);
}

function elapsed() {
  return `${((Date.now() - started) / 1000).toFixed(1)} s`;
}

function cacheRoot() {
  return machineCache.cacheRoot(ROOT);
}

/** Runs a command to completion; throws with the tail of its output when it fails. */
function run(command, args, options = {}) {
  const result = childProcess.spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout || ''}${result.stderr || ''}`.trim().split('\n');
    const tail = output.slice(-15).join('\n    ');
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n    ${tail}`);
  }
  return result.stdout;
}

/** Loads the addon in a child: a broken native library must not crash this process. */
function probeBackend(tfjsNode) {
  const script =
    'const tf = require(process.env.BATCHLESS_PROBE_TFJS_NODE);' +
    'tf.ready().then(() => console.log(JSON.stringify({ backend: tf.getBackend() })));';
  const result = childProcess.spawnSync(process.execPath, ['-e', script], {
    cwd: tfjsNode,
    encoding: 'utf8',
    timeout: 120000,
    // ELECTRON_RUN_AS_NODE: under desktop VS Code process.execPath is Electron.
    env: {
      ...process.env,
      TF_CPP_MIN_LOG_LEVEL: '2',
      ELECTRON_RUN_AS_NODE: '1',
      BATCHLESS_PROBE_TFJS_NODE: tfjsNode,
    },
  });
  const line = (result.stdout || '').trim().split('\n').pop() || '';
  try {
    if (JSON.parse(line).backend === 'tensorflow') return { ok: true };
  } catch {
    // Fall through: anything but the expected line is a failure, explained below.
  }
  const errors = (result.stderr || '').trim().split('\n');
  const reason =
    errors.find((l) => /^\w*Error: /.test(l)) || errors.pop() || `exit ${result.status}`;
  return { ok: false, reason: reason.trim() };
}

function libtensorflowIsComplete(dir) {
  return fs.existsSync(path.join(dir, '.complete'));
}

/** Extracts only the libraries and C headers from the wheel (unzip may not be installed). */
function extractWheel(wheel, dest) {
  const program = [
    'import json, os, shutil, sys, zipfile',
    'wheel, dest, libs, prefixes = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])',
    'with zipfile.ZipFile(wheel) as z:',
    '    for info in z.infolist():',
    '        name = info.filename',
    '        if name.endswith("/"): continue',
    '        if name.startswith("tensorflow/") and os.path.basename(name) in libs and name.count("/") == 1:',
    '            target = os.path.join(dest, "lib", os.path.basename(name))',
    '        elif name.startswith("tensorflow/include/") and any(name[19:].startswith(p) for p in prefixes):',
    '            target = os.path.join(dest, "include", name[19:])',
    '        else: continue',
    '        os.makedirs(os.path.dirname(target), exist_ok=True)',
    '        with z.open(info) as src, open(target, "wb") as out: shutil.copyfileobj(src, out, 1 << 20)',
  ].join('\n');
  run('python3', [
    '-c',
    program,
    wheel,
    dest,
    JSON.stringify(LIBS),
    JSON.stringify(HEADER_PREFIXES),
  ]);
  for (const lib of LIBS) {
    if (!fs.existsSync(path.join(dest, 'lib', lib)))
      throw new Error(`${lib} not found in ${wheel}`);
  }
  if (!fs.existsSync(path.join(dest, 'include', 'tensorflow', 'c', 'c_api.h'))) {
    throw new Error(`tensorflow/c/c_api.h not found in ${wheel}`);
  }
}

/** Returns the cached libtensorflow folder, filling it from the local pip index if needed. */
function ensureLibtensorflow(cache) {
  const dir = path.join(cache, `libtensorflow-${TF_VERSION}`);
  if (libtensorflowIsComplete(dir)) {
    log(`using cached libtensorflow ${TF_VERSION} from ${dir}`);
    return dir;
  }
  const wheels = path.join(cache, 'wheels');
  fs.mkdirSync(wheels, { recursive: true });
  log(`fetching tensorflow-cpu==${TF_VERSION} wheel with pip (about 275 MB)`);
  run('python3', [
    '-m',
    'pip',
    'download',
    `tensorflow-cpu==${TF_VERSION}`,
    '--no-deps',
    '--only-binary=:all:',
    '--disable-pip-version-check',
    '-d',
    wheels,
  ]);
  const wheel = fs
    .readdirSync(wheels)
    .filter((f) => f.startsWith(`tensorflow_cpu-${TF_VERSION}-`) && f.endsWith('.whl'))
    .map((f) => path.join(wheels, f))[0];
  if (!wheel) throw new Error(`pip reported success but no wheel is in ${wheels}`);
  // Extract beside the final folder and rename, so an interrupted run never looks complete.
  const partial = `${dir}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  log('extracting libtensorflow and its C headers from the wheel');
  extractWheel(wheel, partial);
  fs.writeFileSync(path.join(partial, '.complete'), `${wheel}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  fs.rmSync(wheel, { force: true });
  return dir;
}

/** Hard-links when the cache shares the file system: the libraries are 850 MB. */
function linkOrCopy(source, target) {
  try {
    const a = fs.statSync(source);
    const b = fs.statSync(target);
    if (a.ino === b.ino && a.dev === b.dev) return;
  } catch {
    // target missing: create it below
  }
  fs.rmSync(target, { force: true });
  try {
    fs.linkSync(source, target);
  } catch {
    fs.copyFileSync(source, target);
  }
}

function stageDeps(libtensorflow, tfjsNode) {
  const lib = path.join(tfjsNode, 'deps', 'lib');
  const include = path.join(tfjsNode, 'deps', 'include');
  fs.mkdirSync(lib, { recursive: true });
  for (const name of LIBS) linkOrCopy(path.join(libtensorflow, 'lib', name), path.join(lib, name));
  for (const [link, target] of Object.entries(LIB_SYMLINKS)) {
    fs.rmSync(path.join(lib, link), { force: true });
    fs.symlinkSync(target, path.join(lib, link));
  }
  fs.rmSync(include, { recursive: true, force: true });
  fs.cpSync(path.join(libtensorflow, 'include'), include, { recursive: true });
}

/** The addon depends only on tfjs-node's version and N-API, not on the Node release. */
function addonCacheDir(cache, tfjsNode) {
  const version = require(path.join(tfjsNode, 'package.json')).version;
  const key = `tfjs-node-${version}-tf${TF_VERSION}-${process.platform}-${process.arch}`;
  return path.join(cache, 'addon', key);
}

function builtAddons(tfjsNode) {
  const lib = path.join(tfjsNode, 'lib');
  if (!fs.existsSync(lib)) return [];
  return fs
    .readdirSync(lib)
    .filter((d) => fs.existsSync(path.join(lib, d, 'tfjs_binding.node')))
    .map((d) => path.join('lib', d, 'tfjs_binding.node'));
}

function restoreCachedAddon(addonCache, tfjsNode) {
  if (!fs.existsSync(path.join(addonCache, '.complete'))) return false;
  fs.cpSync(path.join(addonCache, 'lib'), path.join(tfjsNode, 'lib'), { recursive: true });
  return true;
}

function saveAddonToCache(addonCache, tfjsNode) {
  fs.rmSync(addonCache, { recursive: true, force: true });
  for (const relative of builtAddons(tfjsNode)) {
    const target = path.join(addonCache, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(tfjsNode, relative), target);
  }
  fs.writeFileSync(path.join(addonCache, '.complete'), '');
}

/** Runs tfjs-node's `install` script (scripts/install.js: download, then node-pre-gyp). */
function runTfjsNodeInstall(tfjsNode, options = {}) {
  const env = { ...process.env };
  if (!env.npm_config_nodedir && fs.existsSync('/usr/include/node/node.h')) {
    // Debian's headers, so node-gyp does not try to download them.
    env.npm_config_nodedir = '/usr';
  }
  // Under npm, reuse the very npm that runs us; npm run also points node-pre-gyp at its node-gyp.
  const npm = process.env.npm_execpath;
  if (npm && npm.endsWith('.js'))
    run(process.execPath, [npm, 'run', 'install'], { cwd: tfjsNode, env, ...options });
  else run('npm', ['run', 'install'], { cwd: tfjsNode, env, ...options });
}

function buildAddon(tfjsNode) {
  log('building the tfjs-node addon from source with node-gyp (about 40 s)');
  runTfjsNodeInstall(tfjsNode);
}

/**
 * tfjs-node's own install, as on a machine with internet: libtensorflow 2.9.1 and a prebuilt
 * addon from Google storage. Only when no libtensorflow is staged yet (its script would then skip
 * the download). True when tfjs-node loads afterwards.
 */
function tryOwnDownload(tfjsNode) {
  if (fs.existsSync(path.join(tfjsNode, 'deps', 'lib', 'libtensorflow.so.2.9.1'))) return false;
  log("trying tfjs-node's own download of libtensorflow (Google storage)");
  try {
    runTfjsNodeInstall(tfjsNode, { timeout: OWN_INSTALL_TIMEOUT_MS, killSignal: 'SIGKILL' });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const why = message.match(/ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ENETUNREACH/);
    log(`tfjs-node's own download did not work (${why ? why[0] : message.split('\n')[0]})`);
    return false;
  }
  const probe = probeBackend(tfjsNode);
  if (!probe.ok) log(`tfjs-node's own install finished but it does not load: ${probe.reason}`);
  return probe.ok;
}

/** The project's own tfjs-node (the postinstall case), or undefined when it is not installed. */
function projectTfjsNode() {
  try {
    return path.dirname(require.resolve('@tensorflow/tfjs-node/package.json', { paths: [ROOT] }));
  } catch {
    return undefined;
  }
}

/**
 * Makes the tfjs-node in `options.tfjsNode` (default: the project's) load with backend
 * "tensorflow". Returns how ('already', 'download', 'wheel', 'cached addon'), or undefined when
 * skipped; throws with the reason when it cannot.
 */
function provision(options = {}) {
  if (process.env.BATCHLESS_SKIP_NATIVE === '1') {
    log('BATCHLESS_SKIP_NATIVE=1: not provisioning tfjs-node; the engine will use wasm');
    return undefined;
  }
  const tfjsNode = options.tfjsNode ? path.resolve(options.tfjsNode) : projectTfjsNode();
  if (tfjsNode === undefined || !fs.existsSync(path.join(tfjsNode, 'package.json'))) {
    if (options.tfjsNode) throw new Error(`no tfjs-node package in ${options.tfjsNode}`);
    log('@tensorflow/tfjs-node is not installed; the engine will use wasm');
    return undefined;
  }
  const before = probeBackend(tfjsNode);
  if (before.ok) {
    log('tfjs-node already loads (backend "tensorflow"); nothing to do');
    return 'already';
  }
  log(`tfjs-node does not load yet (${before.reason.slice(0, 160)})`);
  if (options.download !== false && tryOwnDownload(tfjsNode)) {
    log(`tfjs-node ready with backend "tensorflow" from its own download (${elapsed()})`);
    return 'download';
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `no local libtensorflow recipe for ${process.platform}-${process.arch}; ` +
        'reinstall @tensorflow/tfjs-node with network access to Google storage',
    );
  }
  const cache = cacheRoot();
  const libtensorflow = ensureLibtensorflow(cache);
  stageDeps(libtensorflow, tfjsNode);
  log(`staged libtensorflow ${TF_VERSION} into ${tfjsNode}/deps`);

  const addonCache = addonCacheDir(cache, tfjsNode);
  if (restoreCachedAddon(addonCache, tfjsNode)) {
    if (probeBackend(tfjsNode).ok) {
      log(`restored the cached addon; tfjs-node loads with backend "tensorflow" (${elapsed()})`);
      return 'cached addon';
    }
    log('the cached addon does not load here; rebuilding it');
  }
  buildAddon(tfjsNode);
  const probe = probeBackend(tfjsNode);
  if (!probe.ok) throw new Error(`the addon was built but does not load: ${probe.reason}`);
  saveAddonToCache(addonCache, tfjsNode);
  log(`tfjs-node ready with backend "tensorflow" (${elapsed()})`);
  return 'wheel';
}

function main(argv) {
  const at = argv.indexOf('--tfjs-node');
  const tfjsNode = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && !tfjsNode) {
    log('--tfjs-node needs a folder');
    return 2;
  }
  try {
    provision({ tfjsNode, download: !argv.includes('--no-download') });
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`could not provision native TensorFlow: ${message}`);
    if (tfjsNode) return 1;
    log(
      'the engine will fall back to the wasm backend; rerun `node scripts/provision-tfjs-node.js`',
    );
    return 0;
  }
}

if (require.main === module) {
  process.exit(main(process.argv.slice(2)));
}

module.exports = { provision, TF_VERSION };
