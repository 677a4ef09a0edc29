import * as assert from 'assert';
import { performance } from 'perf_hooks';
import { getExtension } from './extension';

// Activation runs on every command's first use; it must stay cheap, so it may not load the
// engine. 300 ms leaves room for a slow machine; measured here it is a few milliseconds.
const ACTIVATION_BUDGET_MS = 300;

describe('activation', () => {
  it('is lazy: nothing activates the extension before a command runs', () => {
    assert.strictEqual(getExtension().isActive, false);
  });

  it(`activates in under ${ACTIVATION_BUDGET_MS} ms`, async () => {
    const extension = getExtension();
    const started = performance.now();
    await extension.activate();
    const elapsed = performance.now() - started;
    assert.ok(extension.isActive);
    assert.ok(elapsed < ACTIVATION_BUDGET_MS, `activation took ${elapsed.toFixed(1)} ms`);
  });

  it('does not load TensorFlow.js into the extension host', () => {
    // tfjs-core keeps its engine on the global object from the moment it is loaded.
    assert.strictEqual((globalThis as { _tfengine?: unknown })._tfengine, undefined);
  });
});
