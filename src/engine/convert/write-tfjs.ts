import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';

/** The name of the single weight shard written beside model.json. */
export const WEIGHTS_FILE = 'weights.bin';

/**
 * Saves a LayersModel in the TF.js Layers format (model.json + one weight shard) into `folder`,
 * without tfjs-node's file handlers so it works on every backend. Returns the model.json path.
 */
export async function writeTfjsModel(model: tf.LayersModel, folder: string, jsonName = 'model.json', weightsName = WEIGHTS_FILE): Promise<string> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.modelTopology || !artifacts.weightSpecs || !artifacts.weightData) {
    throw new Error(`Saving '${model.name}' produced no topology or weights`);
  }
  const weightData = artifacts.weightData;
  const buffers = Array.isArray(weightData) ? weightData : [weightData];
  const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b)));
  const json = {
    format: 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: 'batchless',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs }],
  };
  await fs.mkdir(folder, { recursive: true });
  const jsonPath = nodePath.join(folder, jsonName);
  await fs.writeFile(nodePath.join(folder, weightsName), bytes);
  await fs.writeFile(jsonPath, JSON.stringify(json));
  return jsonPath;
}
