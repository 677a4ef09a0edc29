// Broken model files for the reader fuzz test, built from the real Keras fixtures and a tfjs
// model written from one: every format, every layer of a file (topology, manifest, zip, HDF5
// structure, raw bytes). Each input is a set of files for one folder; the first is the model.
import { strToU8, unzipSync, zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { Hdf5Reader } from '../../../src/engine/convert/read-hdf5';
import { h5wasm } from '../../../src/engine/convert/read-hdf5-wasm';
import { Hdf5Edits, rewriteHdf5 } from '../../../src/engine/convert/write-hdf5';
import {
  deeplyNestedSequential,
  mutateAnywhere,
  mutateLayer,
  mutateManifest,
  pick,
  Random,
} from './json-mutations';
import { KERAS_FIXTURES } from './keras-fixtures';

export interface MutatedInput {
  category: string;
  label: string;
  files: [name: string, bytes: Uint8Array][];
}

const fixture = (name: string): Uint8Array => readFileSync(nodePath.join(KERAS_FIXTURES, name));
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const MODELS = ['cnn', 'residual', 'mlp', 'nested', 'channels_first'];

function mutateTopology(json: unknown, random: Random): string {
  return random() < 0.5 ? mutateAnywhere(json, random) : mutateLayer(json, random);
}

/** Files to start from instead of a fixture (e.g. a model converted to batchless). */
export type Base = Record<string, Uint8Array>;

/** A to_json() topology (Keras 3 or 2 style) with one change, beside its intact weights. */
export function kerasJsonInput(random: Random, from?: { name: string; files: Base }): MutatedInput {
  const base = from?.name ?? pick(random, [...MODELS, 'cnn_keras2', 'residual_keras2']);
  const read = (name: string): Uint8Array => from?.files[name] ?? fixture(name);
  const json = JSON.parse(text(read(`${base}.json`)));
  const label = mutateTopology(json, random);
  const category = from ? 'batchless-json' : 'keras-json';
  const files: MutatedInput['files'] = [[`${base}.json`, strToU8(JSON.stringify(json))]];
  if (random() < 0.9) files.push([`${base}.weights.h5`, read(`${base}.weights.h5`)]);
  else return { category, label: `${label}; weights file missing`, files };
  return { category, label, files };
}

/** A `.keras` archive whose config.json has one change. */
export function kerasArchiveInput(
  random: Random,
  from?: { name: string; bytes: Uint8Array },
): MutatedInput {
  const base = from?.name ?? pick(random, MODELS);
  const entries = unzipSync(from?.bytes ?? fixture(`${base}.keras`));
  const json = JSON.parse(text(entries['config.json']));
  const label = mutateTopology(json, random);
  entries['config.json'] = strToU8(JSON.stringify(json));
  const category = from ? 'batchless-keras' : 'keras-config';
  return { category, label, files: [[`${base}.keras`, zipSync(entries)]] };
}

/** A legacy `.h5` whose model_config attribute has one change. */
export async function h5ConfigInput(random: Random): Promise<MutatedInput> {
  const base = pick(random, MODELS);
  const bytes = fixture(`${base}.h5`);
  const reader = await Hdf5Reader.open(bytes, base);
  const json = JSON.parse(String(reader.attr('/', 'model_config')));
  reader.close();
  const label = mutateTopology(json, random);
  const edits = sameFile({
    attributes: [{ path: '/', name: 'model_config', value: JSON.stringify(json) }],
  });
  return {
    category: 'h5-config',
    label,
    files: [[`${base}.h5`, await rewriteHdf5(bytes, base, edits)]],
  };
}

function sameFile(edits: Partial<Hdf5Edits>): Hdf5Edits {
  return { destination: (p) => p, datasets: [], attributes: [], ...edits };
}

/** The datasets and groups of a weights file, to pick a structural victim from. */
async function hdf5Paths(bytes: Uint8Array): Promise<{ datasets: string[]; groups: string[] }> {
  const datasets: string[] = [];
  const groups: string[] = [];
  const h5 = await h5wasm();
  const path = `/walk-${process.pid}.h5`;
  h5.FS?.writeFile(path, bytes);
  const file = new h5.File(path, 'r');
  try {
    for (const p of file.paths()) {
      const entity = file.get(p);
      (entity instanceof h5.Dataset ? datasets : groups).push(p.replace(/^\//, ''));
    }
  } finally {
    file.close();
    h5.FS?.unlink(path);
  }
  return { datasets, groups };
}

/** A weights file (either layout, or a .h5 model's) with one structural change. */
export async function hdf5StructureInput(random: Random): Promise<MutatedInput> {
  const base = pick(random, MODELS);
  const [model, weights, modelName] = pick(random, [
    ['json', `${base}.weights.h5`, `${base}.json`],
    ['json', 'residual_keras2.weights.h5', 'residual_keras2.json'],
    ['h5', `${base}.h5`, `${base}.h5`],
  ] as const);
  const bytes = fixture(weights);
  const { datasets, groups } = await hdf5Paths(bytes);
  const victim = pick(
    random,
    datasets.filter((d) => !d.startsWith('optimizer')),
  );
  const group = pick(
    random,
    groups.filter((g) => /layers\/|model_weights\/|^[a-z]/.test(g)),
  );
  const edits: [string, Partial<Hdf5Edits>][] = [
    [`drop ${victim}`, { destination: (p) => (p === victim ? undefined : p) }],
    [
      `drop group ${group}`,
      { destination: (p) => (p === group || p.startsWith(`${group}/`) ? undefined : p) },
    ],
    [`rename group ${group}`, { destination: (p) => (p.startsWith(group) ? `zz_${p}` : p) }],
    [
      `wrong shape ${victim}`,
      {
        destination: (p) => (p === victim ? undefined : p),
        datasets: [{ path: victim, data: new Float32Array(7), shape: [7] }],
      },
    ],
    [
      `int dtype ${victim}`,
      {
        destination: (p) => (p === victim ? undefined : p),
        datasets: [{ path: victim, data: new Int32Array(3), shape: [3], dtype: '<i' }],
      },
    ],
    [
      `extra dataset`,
      { datasets: [{ path: `${group}/zz_extra`, data: new Float32Array(2), shape: [2] }] },
    ],
    [
      `weight_names garbage`,
      {
        attributes: [
          {
            path: group,
            name: 'weight_names',
            value: pick(random, [['../x'], ['a/b/c/d:0', 'a/b/c/d:0'], []]),
          },
        ],
      },
    ],
    [
      `layer_names garbage`,
      {
        attributes: [
          {
            path: groups.includes('model_weights') ? 'model_weights' : '/',
            name: 'layer_names',
            value: ['nope'],
          },
        ],
      },
    ],
  ];
  const [picked, edit] = pick(random, edits);
  let label = picked;
  const broken = await rewriteHdf5(bytes, weights, sameFile(edit)).catch((e: unknown) => {
    label += ` (not writable: ${String(e)}; the file left intact)`;
    return bytes;
  });
  const files: MutatedInput['files'] =
    model === 'json'
      ? [
          [modelName, fixture(modelName)],
          [weights, broken],
        ]
      : [[modelName, broken]];
  return { category: 'hdf5-structure', label: `${weights}: ${label}`, files };
}

/** A tfjs model.json with one change to its topology or manifest, or a damaged shard. */
export function tfjsInput(
  random: Random,
  model: { json: string; weights: Uint8Array },
): MutatedInput {
  const json = JSON.parse(model.json);
  let weights = model.weights;
  const roll = random();
  let label: string;
  if (roll < 0.4) label = mutateManifest(json, random);
  else if (roll < 0.8) label = mutateTopology(json, random);
  else {
    const cut = Math.floor(random() * weights.length);
    weights = pick(random, [weights.subarray(0, cut), new Uint8Array([...weights, 1, 2, 3])]);
    label = `shard of ${weights.length} bytes`;
  }
  const files: MutatedInput['files'] = [['model.json', strToU8(JSON.stringify(json))]];
  if (random() < 0.95) files.push(['weights.bin', weights]);
  else label += '; shard missing';
  return { category: 'tfjs', label, files };
}

/** Random bytes overwritten, or the file cut short: the HDF5, zip and shard parsers' turn. */
export function bytesInput(
  random: Random,
  name: string,
  original: Uint8Array,
  companions: MutatedInput['files'] = [],
): MutatedInput {
  const bytes = Uint8Array.from(original);
  if (random() < 0.25) {
    const cut = Math.floor(random() * bytes.length);
    return {
      category: 'bytes',
      label: `${name} cut at ${cut}`,
      files: [[name, bytes.subarray(0, cut)], ...companions],
    };
  }
  const n = 1 + Math.floor(random() * 8);
  for (let k = 0; k < n; k++)
    bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
  return {
    category: 'bytes',
    label: `${name}: ${n} bytes overwritten`,
    files: [[name, bytes], ...companions],
  };
}

/** Hostile or broken archives: escaping names, duplicates, missing entries, lying sizes. */
export function zipInput(random: Random): MutatedInput {
  const base = pick(random, MODELS);
  const entries = unzipSync(fixture(`${base}.keras`));
  const cases: [string, () => Uint8Array][] = [
    ["'..' entry", () => zipSync({ ...entries, '../escape.txt': strToU8('x') })],
    ['absolute entry', () => zipSync({ ...entries, '/etc/cron.d/x': strToU8('x') })],
    ['no config.json', () => zipSync({ ...entries, 'config.json': undefined as never })],
    ['no weights', () => zipSync({ 'config.json': entries['config.json'] })],
    ['config not JSON', () => zipSync({ ...entries, 'config.json': strToU8('{"class_name": ') })],
    [
      'deeply nested config',
      () => zipSync({ ...entries, 'config.json': strToU8(deeplyNestedSequential(3000)) }),
    ],
    ['weights not HDF5', () => zipSync({ ...entries, 'model.weights.h5': strToU8('HDF5? no') })],
    ['lying sizes', () => lieAboutSizes(zipSync(entries, { level: 0 }), random)],
  ];
  const [label, build] = pick(random, cases);
  return { category: 'zip', label, files: [[`${base}.keras`, build()]] };
}

/** Overwrites the uncompressed-size fields of central directory records. */
function lieAboutSizes(zip: Uint8Array, random: Random): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let i = 0; i + 46 <= zip.length; i++) {
    if (view.getUint32(i, true) === 0x02014b50)
      view.setUint32(i + 24, pick(random, [0xffffffff, 2 ** 30, 1]), true);
  }
  return zip;
}
