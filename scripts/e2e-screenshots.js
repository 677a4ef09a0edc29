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

const fs = require('fs');
const path = require('path');
const sandboxing = require('./code-server-sandbox');
const { CHROMIUM, CHROMIUM_ARGS, USER_SETTINGS, freePort, sleep, waitForHealth } = sandboxing;

const repoRoot = path.resolve(__dirname, '..');
const outDir = path.join(repoRoot, 'artifacts', 'screenshots');
const sessionFile = path.join(outDir, 'session.json');
const hostDriver = path.join(__dirname, 'e2e-screenshots-host.js');
const SCREENSHOT_SETTINGS = { ...USER_SETTINGS, 'workbench.tips.enabled': false };
const VIEWPORT = { width: 1440, height: 1080 };
const RUN_TIMEOUT_MS = 5 * 60_000;

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

function makeSandbox() {
  return sandboxing.makeSandbox('screenshots', {
    extraDirs: ['shots'],
    settings: SCREENSHOT_SETTINGS,
  });
}

function sandboxEnv(sandbox) {
  return sandboxing.sandboxEnv(sandbox, {
    // Read by scripts/e2e-screenshots-host.js inside the extension host.
    BATCHLESS_SCREENSHOT_SESSION: sessionFile,
    BATCHLESS_SCREENSHOT_REQUESTS: sandbox.shots,
  });
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
  const server = sandboxing.startCodeServer(port, sandbox, sandboxEnv(sandbox));

  let browser;
  let stopShots = () => undefined;
  const taken = [];
  try {
    await waitForHealth(port, server, sandbox);
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
