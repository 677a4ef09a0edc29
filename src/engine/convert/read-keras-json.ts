import { BuildOptions, buildKerasModel, BuiltModel } from './keras-build';
import { fail, isRecord } from './model-errors';
import { fileExists, MAX_MODEL_FILE_BYTES, readFileBounded } from './read-bytes';
import { Hdf5Reader } from './read-hdf5';

export interface KerasJsonResult extends BuiltModel {
  weightsPath: string;
  kerasVersion?: string;
}

/** Where Keras's own convention puts the weights of `x.json`: `x.weights.h5` beside it. */
export function conventionalWeightsPath(jsonPath: string): string {
  return `${jsonPath.replace(/\.json$/i, '')}.weights.h5`;
}

/**
 * A `model.to_json()` topology (Keras 3 or Keras 2 style) with its weights file, which is
 * required: a model whose weights are invented here would not be the user's model.
 */
export async function readKerasJson(
  jsonPath: string,
  topology: unknown,
  weightsPath?: string,
  options: BuildOptions = {},
): Promise<KerasJsonResult> {
  const path = weightsPath ?? conventionalWeightsPath(jsonPath);
  if (!(await fileExists(path))) {
    fail(
      { file: jsonPath, field: 'weights' },
      weightsPath === undefined
        ? `no weights file: expected ${path} beside it (or pass the weights path)`
        : `weights file ${path} not found`,
    );
  }
  const h5 = await Hdf5Reader.open(await readFileBounded(path, MAX_MODEL_FILE_BYTES), path);
  try {
    const version = isRecord(topology) ? topology['keras_version'] : undefined;
    const fileVersion = h5.attr('/', 'keras_version');
    const built = await buildKerasModel(topology, jsonPath, h5, undefined, options);
    const kerasVersion =
      typeof version === 'string'
        ? version
        : typeof fileVersion === 'string'
          ? fileVersion
          : undefined;
    return { ...built, weightsPath: path, kerasVersion };
  } finally {
    h5.close();
  }
}
