#!/usr/bin/env node
// Installs code-server (a real VS Code extension host reachable from a browser) for the
// integration tests. VS Code desktop builds cannot be downloaded on this project's machines;
// code-server installs from the npm registry (see the toolchain notes, "A real VS Code extension
// host"). It lives in the machine-level cache beside the native TensorFlow one, so each fresh
// clone (every CI run) does not pay the minute-plus install again; BATCHLESS_CODE_SERVER_DIR
// puts it elsewhere. Idempotent: a finished install is marked and skipped.
'use strict';

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

// 4.100.3 is VS Code 1.100.3, the newest code-server that runs on Node 20: pin it exactly.
const CODE_SERVER_VERSION = '4.100.3';
// code-server's @vscode/ripgrep downloads this archive from GitHub unless it is already cached.
const RIPGREP_CACHE_DIR = 'vscode-ripgrep-cache-1.15.11';
const RIPGREP_ARCHIVE = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
const APT_HINT =
  'apt-get update && apt-get install -y --no-install-recommends libkrb5-dev ripgrep chromium';

// Same root as scripts/provision-tfjs-node.js uses for libtensorflow.
function cacheRoot() {
  if (process.env.BATCHLESS_CACHE_DIR) return process.env.BATCHLESS_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'batchless');
}

const installDir =
  process.env.BATCHLESS_CODE_SERVER_DIR ||
  path.join(cacheRoot(), `code-server-${CODE_SERVER_VERSION}`);
const entryPath = path.join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const markerPath = path.join(installDir, '.installed');

function which(cmd) {
  const found = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

function checkSystemPackages() {
  const missing = [];
  if (!fs.existsSync('/usr/bin/chromium')) missing.push('chromium (/usr/bin/chromium)');
  const rg = which('rg');
  if (!rg) missing.push('ripgrep (rg)');
  if (missing.length > 0) {
    console.error(`provision-code-server: missing ${missing.join(', ')}. Install with:`);
    console.error(`  ${APT_HINT}`);
    return undefined;
  }
  return rg;
}

function isInstalled() {
  if (!fs.existsSync(markerPath) || !fs.existsSync(entryPath)) return false;
  return fs.readFileSync(markerPath, 'utf8').trim() === CODE_SERVER_VERSION;
}

function seedRipgrepCache(rgPath, tmpDir) {
  const cacheDir = path.join(tmpDir, RIPGREP_CACHE_DIR);
  const archive = path.join(cacheDir, RIPGREP_ARCHIVE);
  if (fs.existsSync(archive)) return;
  fs.mkdirSync(cacheDir, { recursive: true });
  const tar = spawnSync(
    'tar',
    ['czf', archive, '-C', path.dirname(rgPath), path.basename(rgPath)],
    { stdio: 'inherit' },
  );
  if (tar.status !== 0) throw new Error(`could not pack ${rgPath} into ${archive}`);
}

// npm run from `npm test` exports the outer project's prefix and package fields; the nested
// install must see only its own folder.
function npmEnvironment(tmpDir) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    const lower = key.toLowerCase();
    if (
      lower.startsWith('npm_package_') ||
      lower.startsWith('npm_lifecycle_') ||
      lower === 'npm_config_prefix' ||
      lower === 'npm_config_local_prefix' ||
      lower === 'npm_config_global' ||
      lower === 'init_cwd'
    ) {
      delete env[key];
    }
  }
  env.TMPDIR = tmpDir;
  // node-pty runs `npx node-gyp`, which would otherwise wait for a yes on stdin.
  env.npm_config_yes = 'true';
  // node-gyp must use the installed Node headers, not download them.
  env.npm_config_nodedir = process.env.npm_config_nodedir || '/usr';
  return env;
}

// Installs into a staging folder and renames it into place, so that an interrupted install
// leaves nothing half-done behind and two clones provisioning at once cannot mix their files.
function install(rgPath) {
  const tmpDir = os.tmpdir();
  const staging = `${installDir}.staging-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  const manifest = {
    name: 'batchless-code-server-cache',
    private: true,
    description: 'code-server for the Batchless integration tests (generated)',
    allowScripts: { 'code-server': true, argon2: true },
  };
  fs.writeFileSync(path.join(staging, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  seedRipgrepCache(rgPath, tmpDir);

  const npmCli =
    process.env.npm_execpath && process.env.npm_execpath.endsWith('.js')
      ? [process.execPath, process.env.npm_execpath]
      : ['npm'];
  const args = [
    ...npmCli.slice(1),
    'install',
    `code-server@${CODE_SERVER_VERSION}`,
    '--prefix',
    staging,
    '--unsafe-perm',
    '--no-audit',
    '--no-fund',
    '--no-save',
    '--loglevel=error',
  ];
  const started = Date.now();
  console.log(
    `provision-code-server: installing code-server@${CODE_SERVER_VERSION} into ${installDir}`,
  );
  const result = spawnSync(npmCli[0], args, {
    cwd: staging,
    env: npmEnvironment(tmpDir),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const stagedEntry = path.join(staging, path.relative(installDir, entryPath));
  if (result.status !== 0 || !fs.existsSync(stagedEntry)) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `npm install of code-server@${CODE_SERVER_VERSION} failed (exit ${result.status})`,
    );
  }
  fs.writeFileSync(path.join(staging, path.basename(markerPath)), CODE_SERVER_VERSION + '\n');
  if (isInstalled()) {
    // Another run finished first: keep its copy.
    fs.rmSync(staging, { recursive: true, force: true });
  } else {
    fs.rmSync(installDir, { recursive: true, force: true });
    fs.renameSync(staging, installDir);
  }
  console.log(`provision-code-server: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function main() {
  const rgPath = checkSystemPackages();
  if (!rgPath) return 1;
  if (isInstalled()) {
    console.log(
      `provision-code-server: code-server@${CODE_SERVER_VERSION} already in ${installDir}`,
    );
    return 0;
  }
  try {
    install(rgPath);
    return 0;
  } catch (err) {
    console.error(`provision-code-server: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main();
}

module.exports = { CODE_SERVER_VERSION, installDir, entryPath };
