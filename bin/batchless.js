#!/usr/bin/env node
// The CLI entry: the compiled engine and CLI live in out/ (built by `npm install` via `prepare`).
'use strict';
const path = require('path');
const fs = require('fs');
const main = path.join(__dirname, '..', 'out', 'src', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  console.error('batchless: the CLI is not built yet. Run `npm run build` (or `npm install`) in ' + path.join(__dirname, '..'));
  process.exit(1);
}
require(main).main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error('batchless: ' + (err && err.message ? err.message : String(err)));
    process.exit(1);
  },
);
