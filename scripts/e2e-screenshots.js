#!/usr/bin/env node
// Screenshots of the three Batchless views, in dark, light and high-contrast themes, with real
// engine output: a short CNN training session on MNIST (every event), an inspection of the
// trained model's normalization layers, and a BN-vs-batchless memory sweep. The views are drawn
// by the real extension host (code-server) in Chromium, as in scripts/run-integration.js; the
// host side is scripts/e2e-screenshots-host.js, which asks for each screenshot through files.
//
//   npm run build && node scripts/e2e-screenshots.js [--reuse-session]
//
// Output: artifacts/screenshots/<view>-<theme>.png and session.json (the engine output used).
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { entryPath } = require('./provision-code-server');

const repoRoot = path.resolve(__dirname, '..');
const outDir = path.join(repoRoot, 'artifacts', 'screenshots');
const sessionFile = path.join(outDir, 'session.json');
const hostDriver = path.join(__dirname, 'e2e-screenshots-host.js');
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
const VIEWPORT = { width: 1440, height: 1080 };
const RUN_TIMEOUT_MS = 5 * 60_000;
const USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'git.enabled': false,
  'npm.autoDetect': 'off',
  'extensions.ignoreRecommendations': true,
  'workbench.tips.enabled': false,
};

// The session the screenshots show; the request is what the training header displays.
const REQUEST = {
  model: 'builtin:cnn',
  data: 'mnist',
  norm: 'batchless',
  batchSize: 64,
  microBatchSize: 16,
  epochs: 1,
  maxSteps: 120,
  learningRate: 0.01,
  seed: 1,
  statsEvery: 10,
};
const INSPECT_SAMPLES = 512;
const HISTOGRAM_CHANNEL = 3;
const SWEEP = { batchSizes: [8, 16, 32, 64, 128, 256], microBatchSizes: [8, 32] };

function log(message) {
  console.log(`screenshots: ${message}`);
}

/** Runs the engine (tsc output under out/) on the fastest backend and records what it reports. */
async function collectSession() {
  const engine = require(path.join(repoRoot, 'out', 'src', 'engine'));
  const { sliceBatch } = require(path.join(repoRoot, 'out', 'src', 'engine', 'data', 'dataset'));
  const { inspectLayers } = require(
    path.join(repoRoot, 'out', 'src', 'engine', 'stats', 'inspect'),
  );
  const { memorySweep } = require(path.join(repoRoot, 'out', 'src', 'engine', 'memory', 'sweep'));

  const backend = await engine.setBackend();
  log(`engine backend: ${backend.name}`);
  const model = engine.buildBuiltinModel('cnn', { norm: 'batchless', seed: REQUEST.seed });
  const inputShape = engine.modelInputShape(model);
  const data = engine.loadSessionData(REQUEST.data, REQUEST.seed, inputShape);
  const events = [];
  const started = Date.now();
  await engine.train(
    model,
    data,
    {
      batchSize: REQUEST.batchSize,
      microBatchSize: REQUEST.microBatchSize,
      epochs: REQUEST.epochs,
      maxSteps: REQUEST.maxSteps,
      learningRate: REQUEST.learningRate,
      seed: REQUEST.seed,
      statsEvery: REQUEST.statsEvery,
    },
    { onEvent: (event) => events.push(event), modelName: REQUEST.model },
  );
  log(`trained ${REQUEST.maxSteps} steps in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const sample = sliceBatch(data.test, 0, Math.min(INSPECT_SAMPLES, data.test.count));
  const layers = inspectLayers(model, sample, inputShape, HISTOGRAM_CHANNEL);

  const bn = engine.buildBuiltinModel('cnn', { norm: 'batch', seed: REQUEST.seed });
  const batchless = engine.buildBuiltinModel('cnn', { norm: 'batchless', seed: REQUEST.seed });
  const sweep = await memorySweep(bn, batchless, data.train, inputShape, SWEEP);
  log(`inspected ${layers.length} layers, measured ${sweep.length} sweep points`);
  return {
    request: REQUEST,
    backend: backend.name,
    events,
    inspection: { model: `${REQUEST.model} (after the session)`, samples: sample.size, layers },
    sweep,
  };
}

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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

function makeSandbox() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'batchless-screenshots-'));
  const dirs = { root };
  for (const name of [
    'home',
    'config',
    'data',
    'cache',
    'state',
    'runtime',
    'userData',
    'extensions',
    'workspace',
    'shots',
  ]) {
    dirs[name] = path.join(root, name);
    fs.mkdirSync(dirs[name], { recursive: true, mode: 0o700 });
  }
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify(USER_SETTINGS, null, 2),
  );
  return dirs;
}

function sandboxEnv(sandbox) {
  return {
    ...process.env,
    HOME: sandbox.home,
    XDG_CONFIG_HOME: sandbox.config,
    XDG_DATA_HOME: sandbox.data,
    XDG_CACHE_HOME: sandbox.cache,
    XDG_STATE_HOME: sandbox.state,
    XDG_RUNTIME_DIR: sandbox.runtime,
    // Read by scripts/e2e-screenshots-host.js inside the extension host.
    BATCHLESS_SCREENSHOT_SESSION: sessionFile,
    BATCHLESS_SCREENSHOT_REQUESTS: sandbox.shots,
  };
}

/**
 * Serves screenshot requests from the host driver: it writes shot-N.json ({ name }), we capture
 * the page into artifacts/screenshots/<name>.png and answer with shot-N.done.
 */
function serveShots(page, sandbox, taken) {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      for (const file of fs
        .readdirSync(sandbox.shots)
        .filter((f) => /^shot-\d+\.json$/.test(f))
        .sort()) {
        const done = path.join(sandbox.shots, file.replace(/\.json$/, '.done'));
        if (fs.existsSync(done)) continue;
        const { name } = JSON.parse(fs.readFileSync(path.join(sandbox.shots, file), 'utf8'));
        const target = path.join(outDir, `${name}.png`);
        await page.screenshot({ path: target });
        taken.push(target);
        log(`saved ${path.relative(repoRoot, target)}`);
        fs.writeFileSync(done, 'ok');
      }
    } catch (err) {
      log(`screenshot failed: ${err.message}`);
    } finally {
      busy = false;
    }
  }, 200);
  return () => clearInterval(timer);
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  if (!(process.argv.includes('--reuse-session') && fs.existsSync(sessionFile))) {
    fs.writeFileSync(sessionFile, JSON.stringify(await collectSession()));
  }
  const sandbox = makeSandbox();
  const port = await freePort();
  const serverLog = fs.openSync(path.join(sandbox.root, 'code-server.log'), 'a');
  const server = spawn(
    process.execPath,
    [
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
    ],
    {
      cwd: sandbox.workspace,
      env: sandboxEnv(sandbox),
      detached: true,
      stdio: ['ignore', serverLog, serverLog],
    },
  );
  let browser;
  let stopShots = () => undefined;
  const taken = [];
  try {
    const deadline = Date.now() + 60_000;
    while (!(await healthy(port))) {
      if (Date.now() > deadline || server.exitCode !== null) {
        const serverLog = fs.readFileSync(path.join(sandbox.root, 'code-server.log'), 'utf8');
        const tail = serverLog.trimEnd().split('\n').slice(-20).join('\n');
        throw new Error(`code-server did not start (exit ${server.exitCode}):\n${tail}`);
      }
      await sleep(250);
    }
    const { chromium } = require('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      env: sandboxEnv(sandbox),
    });
    const page = await browser.newPage({ viewport: VIEWPORT });
    let reportExit;
    const exitCode = new Promise((resolve) => (reportExit = resolve));
    await page.exposeFunction('codeAutomationExit', (code) => reportExit(Number(code)));
    stopShots = serveShots(page, sandbox, taken);
    const authority = `vscode-remote://127.0.0.1:${port}`;
    const payload = [
      ['extensionDevelopmentPath', `${authority}${repoRoot}`],
      ['extensionTestsPath', `${authority}${hostDriver}`],
    ];
    await page.goto(
      `http://127.0.0.1:${port}/?folder=${sandbox.workspace}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
      { waitUntil: 'domcontentloaded' },
    );
    const outcome = await Promise.race([exitCode, sleep(RUN_TIMEOUT_MS).then(() => 'timeout')]);
    const hostLog = path.join(sandbox.shots, 'host.log');
    if (fs.existsSync(hostLog)) process.stdout.write(fs.readFileSync(hostLog, 'utf8'));
    log(
      `${taken.length} screenshots; host driver ${outcome === 'timeout' ? 'timed out' : `exited with ${outcome}`}`,
    );
    return outcome === 0 ? 0 : 1;
  } finally {
    stopShots();
    if (browser) await browser.close().catch(() => undefined);
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    fs.rmSync(sandbox.root, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
