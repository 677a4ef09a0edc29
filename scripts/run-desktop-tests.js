#!/usr/bin/env node
// Runs test/integration in desktop VS Code through @vscode/test-electron, on machines that can
// download VS Code. This project's own machines cannot (only the npm registry and Debian are
// reachable); there `npm test` uses scripts/run-integration.js (code-server) instead.
'use strict';

const path = require('path');

async function main() {
  let testElectron;
  try {
    testElectron = require('@vscode/test-electron');
  } catch {
    console.log(
      'test:desktop: @vscode/test-electron is not installed, and the VS Code build it downloads ' +
        'is not reachable from this machine. Install it (npm install --save-dev ' +
        '@vscode/test-electron) where VS Code can be downloaded, or run `npm test`, which uses ' +
        'code-server.',
    );
    return 1;
  }
  const repoRoot = path.resolve(__dirname, '..');
  return testElectron.runTests({
    version: process.env.BATCHLESS_VSCODE_VERSION || '1.100.3',
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: path.join(repoRoot, 'out', 'test', 'integration', 'index.js'),
    launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  });
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`test:desktop: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
