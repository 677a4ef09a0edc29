// Bad input, at scale (issue 3): a few hundred broken model files in every format go through
// loadModel AND convertModel. Each must end in a successful load/conversion or in a
// ModelFormatError (ConversionError, ParityRefusedError) that names a file of the input and the
// field or layer; never another exception, never a hang (each call raced against a timer), no
// leaked tensors, bounded memory, and nothing written next to the input. Inputs are the real Keras
// fixtures and a tfjs model written from one, broken by seeded mutations
// (helpers/model-mutations.ts); read-errors.test.ts keeps the hand-made cases with exact messages.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { after, before, test } from 'node:test';
import { ConversionError } from '../../src/engine/convert/bn-config';
import { convertModel, ParityRefusedError } from '../../src/engine/convert/convert-file';
import { loadModel } from '../../src/engine/convert/load-model';
import { ModelFormatError } from '../../src/engine/convert/model-errors';
import { writeTfjsModel } from '../../src/engine/convert/write-tfjs';
import { seededRandom } from '../../src/engine/data/random';
import { deeplyNestedSequential } from './helpers/json-mutations';
import { KERAS_FIXTURES, snapshot } from './helpers/keras-fixtures';
import {
  bytesInput,
  h5ConfigInput,
  hdf5StructureInput,
  kerasArchiveInput,
  kerasJsonInput,
  MutatedInput,
  tfjsInput,
  zipInput,
} from './helpers/model-mutations';

const PER_CALL_MS = 5000;
/** Resident memory the whole run may add; a huge declared shape allocated would blow it. */
const RSS_GROWTH_BOUND = 1.5 * 2 ** 30;
/** Whole-file problems that have no field to name. */
const WHOLE_FILE = /not an HDF5 file|corrupt HDF5 file|not valid JSON|no such file|corrupt zip/;

let root = '';
before(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(nodePath.join(os.tmpdir(), 'batchless-fuzz-'));
});
after(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const fixture = (name: string): Promise<Uint8Array> =>
  fs.readFile(nodePath.join(KERAS_FIXTURES, name));

/** Every broken input, by seeded generators; the first 50 are read-errors' former corruption test. */
async function inputs(): Promise<MutatedInput[]> {
  const out: MutatedInput[] = [];
  // The original seeded byte corruption (nested.keras, residual.h5; 25 trials each).
  let seed = 20240607;
  const lcg = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (const file of ['nested.keras', 'residual.h5']) {
    const original = await fixture(file);
    for (let trial = 0; trial < 25; trial++) {
      const bytes = Uint8Array.from(original);
      for (let k = 0; k < 1 + Math.floor(lcg() * 8); k++)
        bytes[Math.floor(lcg() * bytes.length)] = Math.floor(lcg() * 256);
      out.push({ category: 'bytes', label: `${file} trial ${trial}`, files: [[file, bytes]] });
    }
  }
  const random = seededRandom(20240612);
  const tfjs = await tfjsFixture();
  const byteTargets: [string, Uint8Array, MutatedInput['files']][] = [
    ['cnn.weights.h5', await fixture('cnn.weights.h5'), []],
    ['mlp.keras', await fixture('mlp.keras'), []],
    ['weights.bin', tfjs.weights, []],
  ];
  byteTargets[0][2] = [['cnn.json', await fixture('cnn.json')]];
  byteTargets[2][2] = [['model.json', new TextEncoder().encode(tfjs.json)]];
  for (let i = 0; i < 30; i++) {
    const [name, bytes, companions] = byteTargets[i % byteTargets.length];
    const input = bytesInput(random, name, bytes, companions);
    // The model file comes first in a case's folder listing.
    if (companions.length > 0) input.files.reverse();
    out.push(input);
  }
  for (let i = 0; i < 90; i++) out.push(kerasJsonInput(random));
  for (let i = 0; i < 40; i++) out.push(kerasArchiveInput(random));
  for (let i = 0; i < 30; i++) out.push(await h5ConfigInput(random));
  for (let i = 0; i < 40; i++) out.push(await hdf5StructureInput(random));
  for (let i = 0; i < 50; i++) out.push(tfjsInput(random, tfjs));
  for (let i = 0; i < 20; i++) out.push(zipInput(random));
  // The same on files this tool converted: the readers' BatchlessNormalization path.
  const converted = await convertedFixtures();
  for (let i = 0; i < 30; i++)
    out.push(kerasJsonInput(random, { name: 'nested', files: converted }));
  for (let i = 0; i < 20; i++)
    out.push(kerasArchiveInput(random, { name: 'residual', bytes: converted['residual.keras'] }));
  const deep = new TextEncoder().encode(deeplyNestedSequential(5000));
  out.push({
    category: 'keras-json',
    label: '5000 nested models',
    files: [
      ['deep.json', deep],
      ['deep.weights.h5', await fixture('mlp.weights.h5')],
    ],
  });
  return out;
}

/** nested.json (+ weights) and residual.keras converted to batchless, by their file names. */
async function convertedFixtures(): Promise<Record<string, Uint8Array>> {
  const dir = nodePath.join(root, 'converted-base');
  const out: Record<string, Uint8Array> = {};
  for (const file of ['nested.json', 'residual.keras']) {
    await convertModel(nodePath.join(KERAS_FIXTURES, file), { out: `${dir}/` });
  }
  for (const name of await fs.readdir(dir)) out[name] = await fs.readFile(nodePath.join(dir, name));
  return out;
}

/** residual.keras written as a tfjs model (model.json + one shard). */
async function tfjsFixture(): Promise<{ json: string; weights: Uint8Array }> {
  const dir = nodePath.join(root, 'tfjs-base');
  const loaded = await loadModel(nodePath.join(KERAS_FIXTURES, 'residual.keras'));
  await writeTfjsModel(loaded.model, dir);
  loaded.model.dispose();
  return {
    json: await fs.readFile(nodePath.join(dir, 'model.json'), 'utf8'),
    weights: await fs.readFile(nodePath.join(dir, 'weights.bin')),
  };
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown } | { hung: true };

async function within(work: () => Promise<unknown>): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Settled>(
    (resolve) => (timer = setTimeout(() => resolve({ hung: true }), PER_CALL_MS)),
  );
  const run = work().then(
    (value): Settled => ({ ok: true, value }),
    (error: unknown): Settled => ({ ok: false, error }),
  );
  try {
    return await Promise.race([run, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why an error is not an acceptable refusal, or undefined when it is. */
function badRefusal(
  error: unknown,
  dir: string,
  counts: { unnamedField: number },
): string | undefined {
  if (error instanceof ParityRefusedError || error instanceof ConversionError) return undefined;
  if (!(error instanceof ModelFormatError)) {
    return `${error instanceof Error ? error.name : typeof error}: ${String(error instanceof Error ? error.stack : error)}`;
  }
  if (!error.file.startsWith(dir)) return `names ${error.file}, not a file of the input`;
  if (!error.message.startsWith(error.file))
    return `message does not start with the file: ${error.message}`;
  if (error.field === undefined && error.layer === undefined) {
    if (!WHOLE_FILE.test(error.detail)) return `names neither field nor layer: ${error.message}`;
    counts.unnamedField++;
  }
  return undefined;
}

test(
  'hundreds of broken model files: a load or a named refusal, never a crash or a hang',
  { timeout: 300_000 },
  async (t) => {
    const all = await inputs();
    const tally = {
      loaded: 0,
      converted: 0,
      refused: 0,
      crashes: 0,
      hangs: 0,
      leaks: 0,
      written: 0,
      unnamedField: 0,
    };
    const problems: string[] = [];
    const byCategory = new Map<string, number>();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const started = Date.now();
    for (const [i, input] of all.entries()) {
      byCategory.set(input.category, (byCategory.get(input.category) ?? 0) + 1);
      const dir = nodePath.join(root, `case-${i}`);
      const outDir = nodePath.join(root, `case-${i}-out`);
      await fs.mkdir(dir);
      for (const [name, bytes] of input.files) await fs.writeFile(nodePath.join(dir, name), bytes);
      const model = nodePath.join(dir, input.files[0][0]);
      const listing = snapshot(dir);
      const calls: [string, () => Promise<unknown>][] = [
        ['loadModel', async () => (await loadModel(model)).model.dispose()],
        [
          'convertModel',
          () => convertModel(model, { out: nodePath.join(outDir, input.files[0][0]) }),
        ],
      ];
      for (const [name, call] of calls) {
        const tensors = tf.memory().numTensors;
        const settled = await within(call);
        const what = `#${i} ${input.category} ${input.label}: ${name}`;
        if ('hung' in settled) {
          tally.hangs++;
          problems.push(`${what} did not settle in ${PER_CALL_MS} ms`);
          continue;
        }
        if (settled.ok) tally[name === 'loadModel' ? 'loaded' : 'converted']++;
        else {
          const bad = badRefusal(settled.error, dir, tally);
          if (bad === undefined) tally.refused++;
          else {
            tally.crashes++;
            problems.push(`${what}: ${bad}`);
          }
        }
        if (tf.memory().numTensors !== tensors) {
          tally.leaks++;
          problems.push(`${what} left ${tf.memory().numTensors - tensors} tensors`);
        }
      }
      const outFiles = await fs.readdir(outDir).catch(() => [] as string[]);
      if (outFiles.some((f) => f.startsWith('.batchless-tmp-')))
        problems.push(`#${i}: staging folder left in the output`);
      if (JSON.stringify(snapshot(dir)) !== JSON.stringify(listing)) {
        tally.written++;
        problems.push(`#${i} ${input.label}: the input folder changed`);
      }
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rm(outDir, { recursive: true, force: true });
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(
      `${all.length} inputs (${[...byCategory].map(([c, n]) => `${c} ${n}`).join(', ')}) in ${seconds.toFixed(1)} s`,
    );
    t.diagnostic(
      `outcomes ${JSON.stringify(tally)}; RSS peak +${((rssPeak - rssBefore) / 2 ** 20).toFixed(0)} MiB`,
    );
    assert.ok(all.length >= 300, `${all.length} inputs`);
    assert.deepEqual(problems, []);
    assert.equal(tally.crashes, 0);
    assert.equal(tally.hangs, 0);
    assert.ok(tally.refused > 0 && tally.loaded > 0 && tally.converted > 0, JSON.stringify(tally));
    assert.ok(rssPeak - rssBefore < RSS_GROWTH_BOUND, `RSS grew by ${rssPeak - rssBefore} bytes`);
  },
);
