import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as cpu from '@tensorflow/tfjs-backend-cpu';
import * as core from '@tensorflow/tfjs-core';
import * as layers from '@tensorflow/tfjs-layers';

// The engine bundles (dist/engine.js, dist/worker.js) replace three parts of the @tensorflow/tfjs
// union with empty modules (webpack.config.js, ENGINE_UNUSED): the WebGL backend, the converter
// and tfjs-data. Everything the engine reaches through `tf.` must therefore come from the parts
// that stay: tfjs-core, tfjs-layers, the cpu backend, or the union's own `version`.

// tsc's output, where type-only references are gone: only run-time uses of `tf.` remain.
const SRC = path.resolve(__dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.js') ? [full] : [];
  });
}

test('every tf.<name> the engine and worker use is in core, layers or the cpu backend', () => {
  const kept: object[] = [core, layers, cpu, { version: true }];
  const used = new Map<string, string>();
  for (const file of [...sources(path.join(SRC, 'engine')), ...sources(path.join(SRC, 'worker'))]) {
    const text = fs.readFileSync(file, 'utf8');
    if (!/require\("@tensorflow\/tfjs"\)/.test(text)) continue;
    for (const match of text.matchAll(/\btf\.([A-Za-z_$][\w$]*)/g)) {
      used.set(match[1], path.relative(SRC, file));
    }
  }
  assert.ok(used.size > 20, `only ${used.size} names found: is the scan broken?`);
  const missing = [...used].filter(([name]) => !kept.some((m) => name in m));
  assert.deepEqual(
    missing.map(([name, file]) => `tf.${name} (${file})`),
    [],
    'used by the engine but left out of its bundles',
  );
});
