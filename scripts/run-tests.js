#!/usr/bin/env node
// What `npm test` runs once compile and lint have: the unit tests under plain Node (node:test),
// then the integration tests inside a real extension host (code-server + Chromium). The last
// line printed is always `N passed, N failed[, N skipped]`, summed over both stages.
//
//   --unit-only                   skip the integration stage (same as BATCHLESS_SKIP_INTEGRATION=1)
//
// The integration stage ends with the end-to-end run (scripts/e2e.js --prebuilt: the vsix of the
// dist/ just built, installed into a fresh code-server, driven from the palette); its checks
// count into the totals. BATCHLESS_SKIP_E2E=1 skips it.
'use strict';

const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const repoRoot = path.resolve(__dirname, '..');
const unitDir = path.join(repoRoot, 'out', 'test', 'unit');

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return findTests(full);
      return entry.isFile() && entry.name.endsWith('.test.js') ? [full] : [];
    })
    .sort();
}

/** Counts from node:test's TAP summary lines (`# pass 3`, `# fail 0`, ...). */
function tapCounts(tap) {
  const count = (name) => {
    const match = tap.match(new RegExp(`^# ${name} (\\d+)$`, 'm'));
    return match ? Number(match[1]) : 0;
  };
  return {
    passed: count('pass'),
    // A cancelled test (its file crashed or timed out) did not pass.
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped') + count('todo'),
    found: /^# tests \d+$/m.test(tap),
  };
}

function runUnit() {
  const files = findTests(unitDir);
  console.log(
    `\n== unit tests: ${files.length} files under ${path.relative(repoRoot, unitDir)} ==`,
  );
  if (files.length === 0) {
    console.log('no compiled unit tests found (run `npm run compile`)');
    return { passed: 0, failed: 0, skipped: 0 };
  }
  const tapFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'batchless-unit-')), 'unit.tap');
  // Node 20 does not expand globs for --test, so the files are passed one by one.
  const result = spawnSync(
    process.execPath,
    [
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...files,
    ],
    { cwd: repoRoot, stdio: 'inherit' },
  );
  const counts = tapCounts(fs.existsSync(tapFile) ? fs.readFileSync(tapFile, 'utf8') : '');
  fs.rmSync(path.dirname(tapFile), { recursive: true, force: true });
  // A runner that died without a summary, or failed with nothing counted, still failed.
  if (!counts.found || (result.status !== 0 && counts.failed === 0)) {
    console.log(`unit: node --test exited ${result.status} (${result.signal ?? 'no signal'})`);
    counts.failed += 1;
  }
  return counts;
}

async function runIntegrationStage() {
  console.log('\n== integration tests: real extension host (code-server + Chromium) ==');
  const provision = spawnSync(
    process.execPath,
    [path.join(__dirname, 'provision-code-server.js')],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );
  if (provision.status !== 0) {
    console.log(
      'integration: code-server is not available; set BATCHLESS_SKIP_INTEGRATION=1 to skip',
    );
    return { passed: 0, failed: 1, skipped: 0 };
  }
  const { runIntegration, printResult } = require('./run-integration');
  const result = await runIntegration();
  printResult(result);
  const counts = result.summary ? { ...result.summary } : { passed: 0, failed: 0, skipped: 0 };
  if (result.exitCode !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

async function runEndToEndStage() {
  console.log('\n== end to end: the packaged vsix in code-server, from the command palette ==');
  // Streamed as it runs, and kept to read the summary line.
  let output = '';
  const child = spawn(process.execPath, [path.join(__dirname, 'e2e.js'), '--prebuilt'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (chunk) => {
    output += chunk;
    process.stdout.write(chunk);
  });
  const status = await new Promise((resolve) => {
    child.on('error', () => resolve(1));
    child.on('close', (code) => resolve(code));
  });
  const match = output.match(/^e2e: (\d+) passed, (\d+) failed$/m);
  const counts = match
    ? { passed: Number(match[1]), failed: Number(match[2]), skipped: 0 }
    : { passed: 0, failed: 0, skipped: 0 };
  // A run that died without its summary line, or failed with nothing counted, still failed.
  if (!match || (status !== 0 && counts.failed === 0)) counts.failed += 1;
  return counts;
}

async function main() {
  const started = Date.now();
  const stages = [runUnit()];
  const skipIntegration =
    process.argv.includes('--unit-only') || process.env.BATCHLESS_SKIP_INTEGRATION === '1';
  if (skipIntegration) {
    console.log('\nintegration tests skipped (BATCHLESS_SKIP_INTEGRATION=1 or --unit-only)');
  } else {
    stages.push(await runIntegrationStage());
    if (process.env.BATCHLESS_SKIP_E2E === '1') {
      console.log('\nend-to-end run skipped (BATCHLESS_SKIP_E2E=1)');
    } else {
      stages.push(await runEndToEndStage());
    }
  }
  const total = stages.reduce(
    (sum, s) => ({
      passed: sum.passed + s.passed,
      failed: sum.failed + s.failed,
      skipped: sum.skipped + s.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
  console.log(`\ntests finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const skipped = total.skipped ? `, ${total.skipped} skipped` : '';
  console.log(`${total.passed} passed, ${total.failed} failed${skipped}`);
  return total.failed > 0 || total.passed === 0 ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err);
    console.log('0 passed, 1 failed');
    process.exitCode = 1;
  },
);
