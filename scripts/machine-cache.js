'use strict';
// Where the provisioning scripts keep what they build once per machine (libtensorflow, the tfjs-node
// addon, the Python venv), so a fresh clone or a reinstall reuses it. Shipped beside
// provision-tfjs-node.js in the extension's dist/ (webpack.config.js), so plain Node only.
const fs = require('fs');
const os = require('os');
const path = require('path');

/**
 * $BATCHLESS_CACHE_DIR, else `batchless` in the XDG cache folder (~/.cache), else — when home is
 * read-only — `.batchless-cache` inside `projectRoot`.
 */
function cacheRoot(projectRoot) {
  if (process.env.BATCHLESS_CACHE_DIR) return process.env.BATCHLESS_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const machineLevel = path.join(xdg, 'batchless');
  try {
    fs.mkdirSync(machineLevel, { recursive: true });
    fs.accessSync(machineLevel, fs.constants.W_OK);
    return machineLevel;
  } catch {
    return path.join(projectRoot, '.batchless-cache');
  }
}

module.exports = { cacheRoot };
