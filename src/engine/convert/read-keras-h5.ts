import { BuildOptions, buildKerasModel, BuiltModel } from './keras-build';
import { fail } from './model-errors';
import { MAX_JSON_BYTES, MAX_MODEL_FILE_BYTES, parseJson, readFileBounded } from './read-bytes';
import { Hdf5Reader } from './read-hdf5';

/**
 * A legacy whole-model HDF5 file, `model.save('x.h5')` in Keras 2 or 3: the topology as JSON
 * in the root attribute model_config, the weights under model_weights.
 */
export async function readKerasH5(
  path: string,
  options: BuildOptions = {},
): Promise<BuiltModel & { kerasVersion?: string }> {
  const h5 = await Hdf5Reader.open(await readFileBounded(path, MAX_MODEL_FILE_BYTES), path);
  try {
    const config = h5.attr('/', 'model_config');
    if (config === undefined) {
      const weightsOnly = h5.isGroup('layers') || h5.attr('/', 'layer_names') !== undefined;
      fail(
        { file: path, field: 'model_config' },
        weightsOnly
          ? 'a weights-only file: load the model topology (.json) and give this as its weights'
          : 'missing: not a Keras model file',
      );
    }
    if (typeof config !== 'string' || config.length > MAX_JSON_BYTES) {
      fail({ file: path, field: 'model_config' }, 'expected a JSON string');
    }
    const topology = parseJson(new TextEncoder().encode(config), {
      file: path,
      field: 'model_config',
    });
    if (!h5.isGroup('model_weights')) fail({ file: path, field: 'model_weights' }, 'missing group');
    const version = h5.attr('/', 'keras_version');
    const built = await buildKerasModel(topology, path, h5, 'model_weights', options);
    return { ...built, kerasVersion: typeof version === 'string' ? version : undefined };
  } finally {
    h5.close();
  }
}
