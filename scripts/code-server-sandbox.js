// What every script that runs code-server in Chromium shares (the integration suite, the
// end-to-end vsix run, the screenshot run): a throw-away sandbox of HOME/XDG/user-data folders,
// code-server started in its own process group on a free loopback port, the health wait, and the
// Chromium flags that work on this project's machines (shared/docs/toolchain.md).
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { entryPath } = require('./provision-code-server');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];
const HEALTH_TIMEOUT_MS = 60_000;
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  // Built-in extensions that start with the workbench share the extension host's one thread
  // with our activation; keep them quiet so the activation budget measures us.
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'npm.autoDetect': 'off',
  'extensions.ignoreRecommendations': true,
};
const SANDBOX_DIRS = [
  'home',
  'config',
  'data',
  'cache',
  'state',
  'runtime',
  'userData',
  'extensions',
  'workspace',
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function healthy(port) {
  return new Promise((resolve) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: '/healthz', timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    request.on('error', () => resolve(false));
    request.on('timeout', () => {
      request.destroy();
      resolve(false);
    });
  });
}

/** Resolves when code-server answers /healthz; rejects with the tail of its log otherwise. */
async function waitForHealth(port, server, sandbox) {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline && server.exitCode === null) {
    if (await healthy(port)) return;
    await sleep(250);
  }
  const logFile = sandbox && path.join(sandbox.root, 'code-server.log');
  const tail =
    logFile && fs.existsSync(logFile)
      ? fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n')
      : '';
  const why =
    server.exitCode !== null
      ? `exited with ${server.exitCode}`
      : `did not answer /healthz within ${HEALTH_TIMEOUT_MS / 1000} s`;
  throw new Error(`code-server ${why}${tail ? `:\n${tail}` : ''}`);
}

/**
 * A throw-away HOME, XDG folders, user data (with `settings`), extensions and workspace, plus
 * `extraDirs`, under one temporary root named after `prefix`.
 */
function makeSandbox(prefix, { extraDirs = [], settings = USER_SETTINGS } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `batchless-${prefix}-`));
  const dirs = { root };
  for (const name of [...SANDBOX_DIRS, ...extraDirs]) {
    dirs[name] = path.join(root, name);
    fs.mkdirSync(dirs[name], { recursive: true, mode: 0o700 });
  }
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  writeUserSettings(dirs, settings);
  return dirs;
}

function writeUserSettings(sandbox, settings) {
  fs.writeFileSync(
    path.join(sandbox.userData, 'User', 'settings.json'),
    JSON.stringify(settings, null, 2) + '\n',
  );
}

/** `base` (default: this process's environment) with HOME and XDG folders inside the sandbox. */
function sandboxEnv(sandbox, extra = {}, base = process.env) {
  return {
    ...base,
    HOME: sandbox.home,
    XDG_CONFIG_HOME: sandbox.config,
    XDG_DATA_HOME: sandbox.data,
    XDG_CACHE_HOME: sandbox.cache,
    XDG_STATE_HOME: sandbox.state,
    XDG_RUNTIME_DIR: sandbox.runtime,
    ...extra,
  };
}

/** code-server on 127.0.0.1:port in its own process group (one kill ends its extension host too). */
function startCodeServer(port, sandbox, env) {
  const serverLog = fs.openSync(path.join(sandbox.root, 'code-server.log'), 'a');
  const args = [
    entryPath,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir',
    sandbox.userData,
    '--extensions-dir',
    sandbox.extensions,
    sandbox.workspace,
  ];
  return spawn(process.execPath, args, {
    cwd: sandbox.workspace,
    env,
    detached: true,
    stdio: ['ignore', serverLog, serverLog],
  });
}

async function stopProcessGroup(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  let timer;
  const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), 5000)));
  const outcome = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

module.exports = {
  CHROMIUM,
  CHROMIUM_ARGS,
  USER_SETTINGS,
  freePort,
  sleep,
  healthy,
  waitForHealth,
  makeSandbox,
  writeUserSettings,
  sandboxEnv,
  startCodeServer,
  stopProcessGroup,
};
