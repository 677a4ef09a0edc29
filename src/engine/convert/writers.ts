import type * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import type { LoadedModel, ModelFileFormat } from './load-model';
import { kerasArchiveWriter, kerasH5Writer, kerasJsonWriter } from './write-keras';
import { writeTfjsModel } from './write-tfjs';

export interface StagedFiles {
  /** The file that describes the model (model.json, the .keras archive, ...). */
  main: string;
  /** Files the main file refers to (weight shards), staged beside it. */
  companions: string[];
  /** What the user should know about the written files. */
  notes?: string[];
}

/** Writes a converted model back in the format it came in. */
export interface ModelWriter {
  write(model: tf.LayersModel, original: LoadedModel, stagingDir: string, mainName: string): Promise<StagedFiles>;
  /** Every file of the original model (to back up before replacing it). */
  filesOf(original: LoadedModel): Promise<string[]>;
}

const tfjsWriter: ModelWriter = {
  async write(model, _original, stagingDir, mainName) {
    // A name of its own: renaming it into place must never overwrite a shard the original
    // model.json still points to (that file is replaced last).
    const weightsName = `${mainName.replace(/\.json$/i, '')}.batchless.bin`;
    const main = await writeTfjsModel(model, stagingDir, mainName, weightsName);
    return { main, companions: [nodePath.join(stagingDir, weightsName)] };
  },
  async filesOf(original) {
    const json = JSON.parse(await fs.readFile(original.sourcePath, 'utf8')) as { weightsManifest?: { paths: string[] }[] };
    const dir = nodePath.dirname(original.sourcePath);
    const shards = (json.weightsManifest ?? []).flatMap((g) => g.paths.map((p) => nodePath.join(dir, p)));
    return [original.sourcePath, ...shards];
  },
};

const WRITERS: Record<ModelFileFormat, ModelWriter> = {
  tfjs: tfjsWriter,
  'keras-json': kerasJsonWriter,
  keras: kerasArchiveWriter,
  h5: kerasH5Writer,
};

/** The writer that writes a converted model back in the format it came in. */
export function modelWriterFor(format: ModelFileFormat): ModelWriter {
  return WRITERS[format];
}
