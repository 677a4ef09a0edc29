import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { BuildOptions, buildTopology, BuiltModel } from './keras-build';
import { fail, isRecord, ModelWhere, quote } from './model-errors';
import { MAX_MODEL_FILE_BYTES, readFileBounded } from './read-bytes';
import { MAX_DATASET_ELEMENTS } from './read-hdf5';

const TOP_LEVEL_KEYS = new Set([
  'format',
  'generatedBy',
  'convertedBy',
  'modelTopology',
  'weightsManifest',
  'trainingConfig',
  'userDefinedMetadata',
  'signature',
  'modelInitializer',
]);
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };

/**
 * A TF.js Layers model: model.json (topology + weightsManifest) and binary weight shards beside
 * it. Every shard path must stay inside the model's folder; every declared size must add up to
 * the shard bytes before anything is decoded.
 */
export async function readTfjsModel(
  jsonPath: string,
  json: unknown,
  options: BuildOptions = {},
): Promise<BuiltModel & { kerasVersion?: string }> {
  const where = { file: jsonPath };
  if (!isRecord(json)) fail(where, 'model.json is not a JSON object');
  for (const key of Object.keys(json))
    if (!TOP_LEVEL_KEYS.has(key)) fail({ ...where, field: key }, 'unsupported model.json key');
  if (json['format'] !== undefined && json['format'] !== 'layers-model') {
    fail(
      { ...where, field: 'format' },
      `${quote(json['format'])} is not a Layers model (graph models have no layers to convert)`,
    );
  }
  const manifest = json['weightsManifest'];
  if (!Array.isArray(manifest))
    fail({ ...where, field: 'weightsManifest' }, 'expected a list of weight groups');
  const dir = nodePath.dirname(nodePath.resolve(jsonPath));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (let g = 0; g < manifest.length; g++) {
    const group = manifest[g];
    const at = { ...where, field: `weightsManifest[${g}]` };
    if (!isRecord(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights']))
      fail(at, 'expected {paths, weights}');
    const groupSpecs = group['weights'].map((s, i) =>
      checkSpec(s, { ...where, field: `weightsManifest[${g}].weights[${i}]` }),
    );
    const declared = groupSpecs.reduce((n, s) => n + specBytes(s), 0);
    const paths = group['paths'].map((p, i) =>
      shardPath(p, dir, { ...where, field: `weightsManifest[${g}].paths[${i}]` }),
    );
    let actual = 0;
    for (const p of paths)
      actual +=
        (await fs.stat(p).catch(() => undefined))?.size ??
        fail({ ...at, field: p }, 'shard file not found');
    if (actual !== declared)
      fail(at, `shards hold ${actual} bytes, the listed weights need ${declared}`);
    for (const p of paths)
      shards.push(await readFileBounded(p, MAX_MODEL_FILE_BYTES, { ...at, field: p }));
    specs.push(...groupSpecs);
  }
  const topology = json['modelTopology'];
  // The Python converter (tensorflowjs) wraps Keras's config as {model_config, training_config}.
  const modelConfig =
    isRecord(topology) && isRecord(topology['model_config']) ? topology['model_config'] : topology;
  const version = [topology, modelConfig]
    .map((t) => (isRecord(t) ? t['keras_version'] : undefined))
    .find((v): v is string => typeof v === 'string');
  const { model, notes } = await buildTopology(modelConfig, jsonPath, {
    ...options,
    allowRegisteredClasses: true,
    // tfjs numbers nested-model calls counting their internal node; Keras (and so the
    // converter, which copies Keras's config) does not.
    rawNodeIndices: version?.startsWith('tfjs-layers') ?? false,
  });
  try {
    checkAgainstModel(model, specs, where);
    const weights = tf.io.decodeWeights(concat(shards), specs);
    try {
      model.loadWeights(weights, true);
    } finally {
      tf.dispose(Object.values(weights));
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, notes, kerasVersion: version };
}

/** Resolves a manifest path, refusing anything that could leave the model's folder. */
function shardPath(value: unknown, dir: string, where: ModelWhere): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0'))
    fail(where, `expected a file name, got ${quote(value)}`);
  if (nodePath.isAbsolute(value) || /^[\\/]/.test(value) || /^[A-Za-z]:/.test(value))
    fail(where, `absolute path ${quote(value)} refused`);
  if (value.split(/[\\/]/).includes('..'))
    fail(where, `path ${quote(value)} leaves the model's folder ('..')`);
  const resolved = nodePath.resolve(dir, value);
  if (!resolved.startsWith(dir + nodePath.sep))
    fail(where, `path ${quote(value)} resolves outside the model's folder`);
  return resolved;
}

function checkSpec(spec: unknown, where: ModelWhere): tf.io.WeightsManifestEntry {
  if (!isRecord(spec) || typeof spec['name'] !== 'string')
    fail(where, 'expected {name, shape, dtype}');
  const shape = spec['shape'];
  if (
    !Array.isArray(shape) ||
    shape.length > 8 ||
    !shape.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_DATASET_ELEMENTS)
  ) {
    fail({ ...where, field: `${where.field}.shape` }, `bad shape ${quote(shape)}`);
  }
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  if (count > MAX_DATASET_ELEMENTS)
    fail({ ...where, field: `${where.field}.shape` }, `${count} elements is too many`);
  if (typeof spec['dtype'] !== 'string' || !(spec['dtype'] in BYTES_PER_ELEMENT)) {
    fail({ ...where, field: `${where.field}.dtype` }, `unsupported dtype ${quote(spec['dtype'])}`);
  }
  const q = spec['quantization'];
  if (
    q !== undefined &&
    (!isRecord(q) || typeof q['dtype'] !== 'string' || !(q['dtype'] in QUANTIZED_BYTES))
  ) {
    fail(
      { ...where, field: `${where.field}.quantization` },
      `unsupported quantization ${quote(q)}`,
    );
  }
  return spec as unknown as tf.io.WeightsManifestEntry;
}

function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  return (
    count *
    (spec.quantization ? QUANTIZED_BYTES[spec.quantization.dtype] : BYTES_PER_ELEMENT[spec.dtype])
  );
}

/** Reports the first weight missing, extra or of the wrong shape, by layer and weight name. */
function checkAgainstModel(
  model: tf.LayersModel,
  specs: tf.io.WeightsManifestEntry[],
  where: ModelWhere,
): void {
  const byName = new Map<string, tf.io.WeightsManifestEntry>();
  for (const s of specs) {
    if (byName.has(s.name))
      fail({ ...where, field: s.name }, 'weight listed twice in the manifest');
    byName.set(s.name, s);
  }
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const spec = byName.get(w.originalName);
      const at = { ...where, layer: layer.name, field: w.originalName };
      if (spec === undefined) fail(at, 'weight missing from the manifest');
      if (spec.shape.length !== w.shape.length || spec.shape.some((d, i) => d !== w.shape[i])) {
        fail(
          at,
          `shape [${spec.shape.join(', ')}] in the manifest, the model expects [${w.shape.join(', ')}]`,
        );
      }
      if (spec.dtype !== w.dtype)
        fail(at, `dtype ${spec.dtype} in the manifest, the model has ${w.dtype}`);
      byName.delete(w.originalName);
    }
  }
  const extra = [...byName.keys()];
  if (extra.length > 0)
    fail({ ...where, field: extra[0] }, 'manifest weight that the model does not have');
}

function concat(parts: Uint8Array[]): ArrayBuffer {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out.buffer;
}
