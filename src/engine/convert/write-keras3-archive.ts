import type * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { createHdf5, Hdf5Content } from './create-hdf5';
import type { LayerPlan } from './keras-config';
import { kerasGroupNames } from './keras-weights';
import { keras3Topology } from './keras3-topology';
import { fail } from './model-errors';

/** The Keras release whose `.keras` layout this writer follows (the fixtures' Keras). */
export const KERAS_FORMAT_VERSION = '3.15.1';

/**
 * A Keras 3 `.keras` archive of any tfjs LayersModel (not only one that came from Keras): the
 * config.json Keras 3 would write for the same model, metadata.json, and model.weights.h5 in
 * Keras 3's layout, `layers/<snake_case class>[_n]/vars/<i>` in Keras's variable order, each vars
 * group stamped with the layer's name, nested models nesting their own `layers/`. Entries are
 * stored uncompressed, as Keras stores them. No optimizer state: the model is written uncompiled.
 */
export async function keras3ArchiveBytes(model: tf.LayersModel, file: string): Promise<Uint8Array> {
  const { entry, plan } = keras3Topology(model, file);
  const content: Hdf5Content = { groups: [], datasets: [] };
  collectWeights(model, plan, '', content, `${file}!model.weights.h5`);
  const weights = await createHdf5(content, `${file}!model.weights.h5`);
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const metadata = { keras_version: KERAS_FORMAT_VERSION, date_saved: kerasDate(new Date()) };
  return zipSync({
    'metadata.json': [encode(metadata), { level: 0 }],
    'config.json': [encode(entry), { level: 0 }],
    'model.weights.h5': [weights, { level: 0 }],
  });
}

function collectWeights(
  container: tf.LayersModel,
  plan: LayerPlan,
  prefix: string,
  content: Hdf5Content,
  file: string,
): void {
  content.groups.push({ path: `${prefix}vars`, attributes: { name: plan.name } });
  content.groups.push({ path: `${prefix}layers` });
  const children = plan.children ?? [];
  const groups = kerasGroupNames(children.map((c) => c.className));
  children.forEach((child, i) => {
    const base = `${prefix}layers/${groups[i]}/`;
    if (child.className === 'InputLayer') {
      content.groups.push({ path: `${base}vars`, attributes: { name: child.name } });
      return;
    }
    const layer = container.getLayer(child.name);
    if (child.children !== undefined) {
      collectWeights(layer as tf.LayersModel, child, base, content, file);
      return;
    }
    content.groups.push({ path: `${base}vars`, attributes: { name: child.name } });
    const byName = new Map(layer.weights.map((w) => [w.originalName.split('/').pop(), w]));
    if (byName.size !== child.weights.length) {
      fail(
        { file, layer: child.name },
        `tfjs has variables [${[...byName.keys()].join(', ')}], Keras expects [${child.weights.join(', ')}]`,
      );
    }
    child.weights.forEach((name, k) => {
      const variable =
        byName.get(name) ?? fail({ file, layer: child.name, field: name }, 'no such tfjs variable');
      content.datasets.push({
        path: `${base}vars/${k}`,
        data: Float32Array.from(variable.read().dataSync() as Float32Array),
        shape: variable.shape as number[],
      });
    });
  });
}

/** Keras's own date stamp: `YYYY-MM-DD@HH:MM:SS`. */
function kerasDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}@${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
