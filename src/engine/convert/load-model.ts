import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { fail, isRecord } from './model-errors';
import { readJsonFile } from './read-bytes';
import { readKerasArchive } from './read-keras-archive';
import { readKerasH5 } from './read-keras-h5';
import { readKerasJson } from './read-keras-json';
import { readTfjsModel } from './read-tfjs';

export type { ModelFileFormat } from '../../shared/conversion';
import type { ModelFileFormat } from '../../shared/conversion';

/** A model from any supported file, as a tfjs LayersModel with its trained weights. */
export interface LoadedModel {
  model: tf.LayersModel;
  format: ModelFileFormat;
  /** The path as given (for a folder: its model.json). */
  sourcePath: string;
  /** As recorded in the file (for tfjs files, the writer, e.g. "tfjs-layers 4.22.0"). */
  kerasVersion?: string;
  /** Things the user should know that did not stop the load. */
  notes: string[];
}

export interface LoadModelOptions {
  /** Weights for a Keras JSON topology; default: `<name>.weights.h5` beside the JSON. */
  weightsPath?: string;
  /**
   * Loading to convert: a BatchNormalization over a non-last axis, which tfjs cannot run, is
   * loaded with an inference-only call as the parity reference instead of being refused.
   */
  forConversion?: boolean;
}

/**
 * Loads a TF.js Layers model (model.json or its folder), a Keras to_json() topology with its
 * weights file, a Keras 3 `.keras` archive, or a legacy Keras `.h5`. Anything it cannot load
 * without changing the model's meaning throws a ModelFormatError naming file, layer and field.
 */
export async function loadModel(
  path: string,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  const stat = await fs.stat(path).catch(() => undefined);
  if (stat === undefined) fail({ file: path }, 'no such file or folder');
  const sourcePath = stat.isDirectory() ? nodePath.join(path, 'model.json') : path;
  const format = await detectFormat(sourcePath);
  const build = { batchNormAnyAxis: options.forConversion === true };
  if (format === 'keras') {
    return { ...(await readKerasArchive(sourcePath, build)), format, sourcePath };
  }
  if (format === 'h5') return { ...(await readKerasH5(sourcePath, build)), format, sourcePath };
  const json = await readJsonFile(sourcePath);
  if (isRecord(json) && 'modelTopology' in json) {
    return { ...(await readTfjsModel(sourcePath, json, build)), format: 'tfjs', sourcePath };
  }
  const { model, notes, kerasVersion } = await readKerasJson(
    sourcePath,
    json,
    options.weightsPath,
    build,
  );
  return { model, notes, kerasVersion, format: 'keras-json', sourcePath };
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46];

/** By content first (extensions get renamed), by extension for what content cannot tell. */
async function detectFormat(path: string): Promise<'keras' | 'h5' | 'json'> {
  const head = new Uint8Array(8);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, 'r');
    await handle.read(head, 0, 8, 0);
  } catch (e) {
    fail({ file: path }, 'cannot be read', e);
  } finally {
    await handle?.close();
  }
  const starts = (magic: number[]): boolean => magic.every((b, i) => head[i] === b);
  if (starts(ZIP_MAGIC)) return 'keras';
  if (starts(HDF5_MAGIC)) {
    if (/\.weights\.h5$/i.test(path)) {
      fail(
        { file: path, field: 'model_config' },
        'a weights-only file: load the model topology (.json) and give this as its weights',
      );
    }
    return 'h5';
  }
  const ext = nodePath.extname(path).toLowerCase();
  if (ext === '.keras') return 'keras';
  if (ext === '.h5' || ext === '.hdf5') return 'h5';
  return 'json';
}
