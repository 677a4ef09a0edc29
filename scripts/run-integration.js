#!/usr/bin/env node
// Runs test/integration inside a real VS Code extension host: code-server serves the workbench,
// Debian's Chromium (driven by playwright-core) opens it with the extension-development payload
// in the URL, and the workbench reports the tests' exit code through `codeAutomationExit`.
// Desktop VS Code cannot be downloaded on this project's machines (shared/docs/toolchain.md).
// The repo folder itself is the extension under development: nothing is packaged.
'use strict';

const fs = require('fs');
const path = require('path');
const { entryPath, installDir } = require('./provision-code-server');
const sandboxing = require('./code-server-sandbox');
const { CHROMIUM, CHROMIUM_ARGS, freePort, waitForHealth, stopProcessGroup } = sandboxing;

const repoRoot = path.resolve(__dirname, '..');
const testsEntry = path.join(repoRoot, 'out', 'test', 'integration', 'index.js');
const extensionMain = path.join(repoRoot, 'dist', 'extension.js');
// Must match RESULTS_DIR_ENV in test/integration/reporter.ts.
const RESULTS_DIR_ENV = 'BATCHLESS_INTEGRATION_RESULTS';
const RUN_TIMEOUT_MS = Number(process.env.BATCHLESS_INTEGRATION_TIMEOUT_MS) || 5 * 60_000;

function log(message) {
  console.log(`integration: ${message}`);
}

/** A throw-away HOME, XDG folders, user data, extensions and workspace for one run. */
function makeSandbox() {
  const sandbox = sandboxing.makeSandbox('integration', { extraDirs: ['results'] });
  fs.writeFileSync(path.join(sandbox.workspace, 'README.md'), 'Batchless integration workspace\n');
  return sandbox;
}

function sandboxEnv(sandbox) {
  return sandboxing.sandboxEnv(sandbox, { [RESULTS_DIR_ENV]: sandbox.results });
}

function startCodeServer(port, sandbox) {
  return sandboxing.startCodeServer(port, sandbox, sandboxEnv(sandbox));
}

function workbenchUrl(port, sandbox) {
  const authority = `vscode-remote://127.0.0.1:${port}`;
  const payload = [
    ['extensionDevelopmentPath', `${authority}${repoRoot}`],
    ['extensionTestsPath', `${authority}${testsEntry}`],
  ];
  return (
    `http://127.0.0.1:${port}/?folder=${sandbox.workspace}` +
    `&payload=${encodeURIComponent(JSON.stringify(payload))}`
  );
}

function readIfExists(file) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

function tail(text, lines) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Runs the suite once. Resolves with the workbench's exit code (or a harness error) and the
 * mocha counts the tests wrote; never leaves code-server or Chromium running.
 */
async function runIntegration() {
  for (const [file, hint] of [
    [entryPath, `node scripts/provision-code-server.js (expected in ${installDir})`],
    [testsEntry, 'npm run compile'],
    [extensionMain, 'npm run build'],
    [CHROMIUM, 'apt-get install -y --no-install-recommends chromium'],
  ]) {
    if (!fs.existsSync(file)) {
      return { exitCode: 1, error: `missing ${file}: run ${hint}`, summary: undefined };
    }
  }

  const { chromium } = require('playwright-core');
  const started = Date.now();
  const sandbox = makeSandbox();
  const browserLog = [];
  let server;
  let browser;
  let timer;
  let onSignal;
  try {
    const port = await freePort();
    server = startCodeServer(port, sandbox);
    // code-server runs detached (its own group): an interrupted run must still end it.
    onSignal = (signal) => {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await waitForHealth(port, server, sandbox);
    log(`code-server ready on 127.0.0.1:${port} after ${Date.now() - started} ms`);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      env: sandboxEnv(sandbox),
    });
    const page = await browser.newPage();
    // Only problems: the workbench also echoes every extension-host log line to the console.
    page.on('console', (message) => {
      if (['error', 'warning'].includes(message.type())) {
        browserLog.push(`[${message.type()}] ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => browserLog.push(`[pageerror] ${error.message}`));

    let reportExit;
    const exitCode = new Promise((resolve) => (reportExit = resolve));
    // Registered before navigation: the workbench looks it up when the tests settle.
    await page.exposeFunction('codeAutomationExit', (code) => reportExit(Number(code)));
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), RUN_TIMEOUT_MS);
    });
    await page.goto(workbenchUrl(port, sandbox), { waitUntil: 'domcontentloaded' });
    const outcome = await Promise.race([exitCode, timedOut]);
    const summaryText = readIfExists(path.join(sandbox.results, 'summary.json'));
    const result = {
      exitCode: outcome === 'timeout' ? 1 : outcome,
      error:
        outcome === 'timeout'
          ? `no exit code from the workbench within ${RUN_TIMEOUT_MS / 1000} s`
          : undefined,
      summary: summaryText ? JSON.parse(summaryText) : undefined,
      output: readIfExists(path.join(sandbox.results, 'output.log')),
      elapsedMs: Date.now() - started,
    };
    if (!result.summary) {
      result.diagnostics =
        `--- code-server log (tail) ---\n${tail(readIfExists(path.join(sandbox.root, 'code-server.log')), 40)}\n` +
        `--- browser console (tail) ---\n${tail(browserLog.join('\n'), 40)}`;
    }
    return result;
  } catch (err) {
    return {
      exitCode: 1,
      error: err instanceof Error ? err.message : String(err),
      summary: undefined,
      output: readIfExists(path.join(sandbox.results, 'output.log')),
      diagnostics: `--- code-server log (tail) ---\n${tail(readIfExists(path.join(sandbox.root, 'code-server.log')), 40)}`,
    };
  } finally {
    clearTimeout(timer);
    if (onSignal) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (browser) await browser.close().catch(() => undefined);
    await stopProcessGroup(server);
    if (!process.env.BATCHLESS_KEEP_INTEGRATION_SANDBOX) {
      fs.rmSync(sandbox.root, { recursive: true, force: true });
    } else {
      log(`sandbox kept in ${sandbox.root}`);
    }
  }
}

/** Prints a run's output the same way for the standalone runner and for run-tests.js. */
function printResult(result) {
  if (result.output) process.stdout.write(result.output);
  if (result.error) log(`error: ${result.error}`);
  if (result.diagnostics) console.log(result.diagnostics);
  if (result.elapsedMs !== undefined) {
    log(`exit code ${result.exitCode} after ${(result.elapsedMs / 1000).toFixed(1)} s`);
  }
}

async function main() {
  const result = await runIntegration();
  printResult(result);
  const s = result.summary || { passed: 0, failed: 0, skipped: 0 };
  // A harness failure with no test failure counted still has to show as a failure.
  const failed = s.failed + (result.exitCode !== 0 && s.failed === 0 ? 1 : 0);
  console.log(`${s.passed} passed, ${failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}`);
  return result.exitCode === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

module.exports = { runIntegration, printResult };
