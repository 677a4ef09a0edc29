// The benchmark's smoke run (what CI runs instead of the ~10-minute full bench): every one of the
// five sections runs on a tiny scale and lands in the JSON with its lines, and the memory section's
// numbers are real measurements (BN larger than batchless micro-batch 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

test(
  'npm run bench:smoke: five sections in the JSON, each with measured lines',
  { timeout: 240_000 },
  () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-')), 'bench.json');
    const main = path.join(__dirname, '..', '..', 'src', 'bench', 'main.js');
    const run = spawnSync(process.execPath, [main, '--smoke', '--out', out], {
      encoding: 'utf8',
      timeout: 230_000,
    });
    assert.equal(run.status, 0, run.stderr.slice(-2000));
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(report.smoke, true);
    assert.deepEqual(Object.keys(report.sections), [
      'memory',
      'exactness',
      'throughput',
      'torch',
      'accuracy',
    ]);
    for (const [name, section] of Object.entries<{ lines?: { value: string }[]; error?: string }>(
      report.sections,
    )) {
      assert.equal(section.error, undefined, `${name}: ${section.error}`);
      assert.ok(section.lines && section.lines.length > 0, `${name} has lines`);
    }
    const memory = report.sections.memory.data;
    assert.ok(
      memory.activationRatio > 0 && memory.activationRatio < 0.1,
      `activation ratio ${memory.activationRatio}`,
    );
    assert.ok(
      report.sections.exactness.data.every(
        (r: { globalRelDiff: number; norm: string }) =>
          r.norm === 'batch' || r.globalRelDiff < 1e-4,
      ),
    );
    assert.ok(
      report.sections.throughput.data.results.some(
        (r: { samplesPerSecond?: number }) => (r.samplesPerSecond ?? 0) > 0,
      ),
    );
    assert.ok(report.sections.accuracy.data.results.length === 6);
    assert.match(run.stdout, /\| section \| measure \| value \| target \|/);
    assert.ok(report.totalSeconds > 0 && report.machine.nproc >= 1);
  },
);
