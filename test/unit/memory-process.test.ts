// Process-level memory: the resident-set high-water mark is reset before the measured code and
// read after it (Linux), so a 64 MB allocation inside shows up; elsewhere it says 'unavailable'.
// The wasm heap is only reported on the wasm backend.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend } from '../../src/engine/backend/select';
import { measureProcessPeak, wasmHeapBytes } from '../../src/engine/memory/process-memory';

before(async () => {
  await setBackend('cpu');
});

test('a 64 MB buffer touched inside the measured code raises the resident-set peak by about that much', async (t) => {
  const { result, process: peak } = await measureProcessPeak(() => {
    const buffer = Buffer.alloc(64 * 1024 * 1024, 1);
    return buffer.length;
  });
  assert.equal(result, 64 * 1024 * 1024);
  if (process.platform !== 'linux') {
    assert.equal(peak.available, false);
    assert.match(peak.note ?? '', /unavailable/);
    return t.skip('not Linux');
  }
  assert.equal(peak.available, true);
  assert.ok(peak.rssBeforeBytes! > 0);
  assert.ok(
    peak.rssPeakBytes! - peak.rssBeforeBytes! >= 48 * 1024 * 1024,
    `peak ${peak.rssPeakBytes} before ${peak.rssBeforeBytes}`,
  );
});

test('no wasm heap on the cpu backend', () => {
  assert.equal(wasmHeapBytes(), undefined);
});
