import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import type { ModelFileFormat } from '../../../src/engine/convert/load-model';
import { conventionalWeightsPath } from '../../../src/engine/convert/read-keras-json';

// The real Keras fixtures (test/fixtures/make_keras_fixtures.py): each <model>.probe.json holds
// fixed inputs and Keras 3.15.1's own inference predictions for the model saved beside it as
// .keras, .h5 and .json + .weights.h5 (and, for two models, a Keras 2 style _keras2.json).
export const KERAS_FIXTURES = nodePath.resolve(__dirname, '../../../../test/fixtures/keras');

export interface Probe {
  model: string;
  files: Partial<Record<ModelFileFormat, string[]>>;
  inputs: unknown;
  outputs: unknown;
}

export const kerasProbes: Probe[] = readdirSync(KERAS_FIXTURES)
  .filter((f) => f.endsWith('.probe.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(nodePath.join(KERAS_FIXTURES, f), 'utf8')) as Probe);

/** Every (probe, format, file) the fixtures hold. */
export function fixtureCases(): { probe: Probe; format: ModelFileFormat; file: string }[] {
  return kerasProbes.flatMap((probe) =>
    Object.entries(probe.files).flatMap(([format, files]) =>
      (files ?? []).map((file) => ({ probe, format: format as ModelFileFormat, file })),
    ),
  );
}

/** The files a model file consists of: a Keras JSON comes with its weights. */
export function filesOfFixture(file: string): string[] {
  return file.endsWith('.json') ? [file, nodePath.basename(conventionalWeightsPath(file))] : [file];
}

/** Copies a fixture model's files into a fresh temporary folder; returns the model's path there. */
export function copyFixture(file: string, prefix = 'batchless-keras-'): string {
  const dir = mkdtempSync(nodePath.join(os.tmpdir(), prefix));
  for (const f of filesOfFixture(file))
    copyFileSync(nodePath.join(KERAS_FIXTURES, f), nodePath.join(dir, f));
  return nodePath.join(dir, file);
}

/** Every file under `dir` (recursively) with its bytes in base64. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = nodePath.join(d, name);
      if (statSync(full).isDirectory()) walk(full, `${rel}${name}/`);
      else out[rel + name] = readFileSync(full).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

/** Largest |model(probe inputs) − Keras's recorded outputs|. */
export function probeDiff(model: tf.LayersModel, probe: Probe): number {
  return tf.tidy(() => {
    const got = model.predict(tf.tensor(probe.inputs as number[])) as tf.Tensor;
    return tf.max(tf.abs(tf.sub(got, tf.tensor(probe.outputs as number[])))).dataSync()[0];
  });
}
