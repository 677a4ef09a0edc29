import type * as tf from '@tensorflow/tfjs';
import { zipSync, Zippable } from 'fflate';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { LayerPlan, translateTopology } from './keras-config';
import { BatchlessValues, batchlessValuesOf, rewriteKerasTopology } from './keras-topology-rewrite';
import { rewriteKerasWeights } from './keras-weights-rewrite';
import { fail } from './model-errors';
import { MAX_JSON_BYTES, MAX_MODEL_FILE_BYTES, parseJson, readFileBounded } from './read-bytes';
import { Hdf5Reader } from './read-hdf5';
import { readArchiveEntries } from './read-keras-archive';
import { conventionalWeightsPath } from './read-keras-json';
import type { ModelWriter } from './writers';

// The Keras writers start from the user's own files and change only the BatchNormalization
// entries and their variables, so everything else (optimizer state, compile and training
// config, metadata, assets) stays as Keras wrote it. The batchless values come from the
// converted tfjs model: exactly what the parity check ran.

/** The rewritten topology text, with the plan of the original (Keras's layer order and classes). */
function rewriteTopology(
  text: string,
  file: string,
  layers: Map<string, BatchlessValues>,
): { text: string; plan: LayerPlan } {
  const { plan } = translateTopology(parseJson(new TextEncoder().encode(text), { file }), file);
  return { text: rewriteKerasTopology(text, { file }, layers).text, plan };
}

const decode = (bytes: Uint8Array): string => new TextDecoder('utf-8').decode(bytes);
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** `model.to_json()` text with its `<name>.weights.h5` (either weights layout). */
export const kerasJsonWriter: ModelWriter = {
  async write(model, original, stagingDir, mainName) {
    const layers = batchlessValuesOf(model);
    const json = original.sourcePath;
    const topology = rewriteTopology(
      decode(await readFileBounded(json, MAX_JSON_BYTES)),
      json,
      layers,
    );
    const weightsFile = conventionalWeightsPath(json);
    const weights = await rewriteKerasWeights(
      await readFileBounded(weightsFile, MAX_MODEL_FILE_BYTES),
      weightsFile,
      topology.plan,
      layers,
    );
    const main = nodePath.join(stagingDir, mainName);
    const companion = nodePath.join(
      stagingDir,
      nodePath.basename(conventionalWeightsPath(mainName)),
    );
    await fs.writeFile(companion, weights.bytes);
    await fs.writeFile(main, topology.text);
    return { main, companions: [companion], notes: weights.notes };
  },
  async filesOf(original) {
    return [original.sourcePath, conventionalWeightsPath(original.sourcePath)];
  },
};

/** A Keras 3 `.keras` archive: every entry copied in its order, method and time; two rewritten. */
export const kerasArchiveWriter: ModelWriter = {
  async write(model, original, stagingDir, mainName) {
    const layers = batchlessValuesOf(model);
    const file = original.sourcePath;
    const entries = await readArchiveEntries(file);
    const data = (name: string): Uint8Array =>
      entries.find((e) => e.name === name)?.data ??
      fail({ file, field: name }, 'missing from the archive');
    const topology = rewriteTopology(decode(data('config.json')), `${file}!config.json`, layers);
    const weights = await rewriteKerasWeights(
      data('model.weights.h5'),
      `${file}!model.weights.h5`,
      topology.plan,
      layers,
    );
    const replaced: Record<string, Uint8Array> = {
      'config.json': encode(topology.text),
      'model.weights.h5': weights.bytes,
    };
    const zippable: Zippable = {};
    for (const e of entries) {
      const level = e.compression === 0 ? 0 : 6;
      zippable[e.name] = [replaced[e.name] ?? e.data, { level, mtime: e.modified }];
    }
    const main = nodePath.join(stagingDir, mainName);
    await fs.writeFile(main, zipSync(zippable));
    return { main, companions: [], notes: weights.notes };
  },
  async filesOf(original) {
    return [original.sourcePath];
  },
};

/** A legacy whole-model `.h5`: model_config rewritten, model_weights in the legacy layout. */
export const kerasH5Writer: ModelWriter = {
  async write(model: tf.LayersModel, original, stagingDir, mainName) {
    const layers = batchlessValuesOf(model);
    const file = original.sourcePath;
    const bytes = await readFileBounded(file, MAX_MODEL_FILE_BYTES);
    const h5 = await Hdf5Reader.open(bytes, file);
    let config: unknown;
    try {
      config = h5.attr('/', 'model_config');
    } finally {
      h5.close();
    }
    if (typeof config !== 'string') fail({ file, field: 'model_config' }, 'expected a JSON string');
    const topology = rewriteTopology(config, file, layers);
    const weights = await rewriteKerasWeights(bytes, file, topology.plan, layers, {
      legacyRoot: 'model_weights',
      attributes: [{ path: '/', name: 'model_config', value: topology.text }],
    });
    const main = nodePath.join(stagingDir, mainName);
    await fs.writeFile(main, weights.bytes);
    return { main, companions: [], notes: weights.notes };
  },
  async filesOf(original) {
    return [original.sourcePath];
  },
};
