// Converting model files: in place with a backup, refusals and failures that leave the original
// byte-identical, no-ops, restore. Reference for parity: the original model's own predictions.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setBackend } from '../../src/engine/backend/select';
import { convertModel, ParityRefusedError } from '../../src/engine/convert/convert-file';
import { latestBackup, restoreLatestBackup } from '../../src/engine/convert/backup';
import { loadModel } from '../../src/engine/convert/load-model';
import { findNormLayers } from '../../src/engine/models/norm-layers';

const example = path.join(__dirname, '..', '..', '..', 'examples', 'mnist-bn-mlp');

function copyExample(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchless-convert-'));
  for (const f of fs.readdirSync(example))
    fs.copyFileSync(path.join(example, f), path.join(dir, f));
  return dir;
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [
        f,
        fs.statSync(path.join(dir, f)).isFile()
          ? fs.readFileSync(path.join(dir, f)).toString('base64')
          : 'dir',
      ]),
  );
}

before(async () => {
  await setBackend('cpu');
});

test('in place: converted model replaces the original, which is kept byte-identical in the backup', async () => {
  const dir = copyExample();
  const original = snapshot(dir);
  const summary = await convertModel(path.join(dir, 'model.json'), { inPlace: true });
  assert.equal(summary.layers.length, 2);
  assert.ok(
    summary.parity!.passed && summary.parity!.maxRelDiff < 1e-5,
    JSON.stringify(summary.parity),
  );
  assert.deepEqual(
    summary.layers.map((l) => l.channels),
    [128, 64],
  );
  const backup = await latestBackup(path.join(dir, 'model.json'));
  assert.ok(backup && summary.backup === backup);
  assert.deepEqual(snapshot(backup), original);
  assert.deepEqual(JSON.parse(fs.readFileSync(`${backup}.added.json`, 'utf8')), { added: ['model.batchless.bin'] });
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    '.batchless-backup',
    'model.batchless.bin',
    'model.json',
  ]);
  const reloaded = await loadModel(path.join(dir, 'model.json'));
  assert.deepEqual(
    findNormLayers(reloaded.model).map((r) => r.kind),
    ['batchless', 'batchless'],
  );

  const again = await convertModel(path.join(dir, 'model.json'), { inPlace: true });
  assert.ok(again.noop);
  assert.match(again.message, /already uses batchless normalization/);

  await restoreLatestBackup(path.join(dir, 'model.json'));
  // The folder is as it was, byte for byte: the converted weight shard went with the restore.
  const { '.batchless-backup': kept, ...afterRestore } = snapshot(dir);
  assert.ok(kept !== undefined);
  assert.deepEqual(afterRestore, original);
  const restored = await loadModel(path.join(dir, 'model.json'));
  assert.deepEqual(
    findNormLayers(restored.model).map((r) => r.kind),
    ['batch', 'batch'],
  );
});

test('a conversion refused for parity writes nothing', async () => {
  const dir = copyExample();
  const original = snapshot(dir);
  await assert.rejects(
    convertModel(path.join(dir, 'model.json'), { inPlace: true, tolerance: 1e-12 }),
    (err: unknown) => {
      assert.ok(err instanceof ParityRefusedError);
      assert.match(err.message, /above the tolerance 1e-12\. Nothing was written/);
      return true;
    },
  );
  assert.deepEqual(snapshot(dir), original);
});

test('a conversion that fails while writing leaves the original byte-identical', async () => {
  const dir = copyExample();
  const original = snapshot(dir);
  // A file where the staging folder's parent should be makes every write fail.
  const blocked = path.join(dir, 'out-is-a-file');
  fs.writeFileSync(blocked, 'not a folder');
  await assert.rejects(
    convertModel(path.join(dir, 'model.json'), { out: path.join(blocked, 'model.json') }),
  );
  assert.deepEqual(snapshot(dir), {
    ...original,
    'out-is-a-file': Buffer.from('not a folder').toString('base64'),
  });
});

test('--out writes a separate model and leaves the original alone', async () => {
  const dir = copyExample();
  const original = snapshot(dir);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'batchless-out-'));
  const summary = await convertModel(path.join(dir, 'model.json'), { out: `${out}/` });
  assert.equal(summary.output, path.join(out, 'model.json'));
  assert.deepEqual(snapshot(dir), original);
  assert.deepEqual(
    findNormLayers((await loadModel(summary.output!)).model).map((r) => r.kind),
    ['batchless', 'batchless'],
  );
});
