import * as tf from '@tensorflow/tfjs';
import { BatchlessNormalization, isBatchlessLayer } from '../layers/batchless-normalization';
import { flattenLayers } from '../models/norm-layers';
import { ConversionError } from './bn-config';
import {
  member,
  parseJsonSpans,
  PyFloat,
  pyJson,
  PyJsonValue,
  RawJson,
  SpanNode,
  stringOf,
} from './json-spans';
import { CUSTOM_CLASSES } from './keras-layer-table';
import { ModelWhere } from './model-errors';

/** What the converted tfjs model holds for one batchless layer: what parity was checked on. */
export interface BatchlessValues {
  /** Name path through nested models, e.g. 'block/block_bn'. */
  path: string;
  layer: BatchlessNormalization;
  /** Variables by name (mean, std as stored, gamma, beta), in the layer's order. */
  weights: { name: string; data: Float32Array; shape: number[] }[];
}

/** The batchless layers of a converted model with their variable values, by name path. */
export function batchlessValuesOf(model: tf.LayersModel): Map<string, BatchlessValues> {
  const out = new Map<string, BatchlessValues>();
  for (const { layer, path } of flattenLayers(model)) {
    if (!isBatchlessLayer(layer)) continue;
    const weights = layer.weights.map((w) => ({
      name: w.originalName.split('/').pop() as string,
      data: Float32Array.from(w.read().dataSync() as Float32Array),
      shape: w.shape as number[],
    }));
    out.set(path, { path, layer, weights });
  }
  return out;
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);
const [REGISTERED_NAME, BATCHLESS] = Object.entries(CUSTOM_CLASSES)[0];
/** Config keys of the BN entry carried over verbatim (besides name and trainable). */
const CARRIED_KEYS = ['dtype', 'batch_input_shape', 'axis'];

/**
 * Rewrites a Keras topology (config.json, model_config, to_json() text) so that each
 * BatchNormalization entry becomes the BatchlessNormalization entry Keras itself would write for
 * the converted layer (python/README.md); every other byte stays as it was. Returns the text and
 * the name paths of the rewritten entries.
 */
export function rewriteKerasTopology(
  text: string,
  where: ModelWhere,
  layers: Map<string, BatchlessValues>,
): { text: string; rewritten: string[] } {
  const root = parseJsonSpans(text, where);
  const edits: { start: number; end: number; text: string }[] = [];
  const rewritten: string[] = [];
  const visit = (model: SpanNode, prefix: string): void => {
    const entries = member(member(model, 'config'), 'layers');
    if (entries?.kind !== 'array') return;
    for (const entry of entries.items) {
      const cls = stringOf(member(entry, 'class_name'));
      const name =
        stringOf(member(entry, 'name')) ?? stringOf(member(member(entry, 'config'), 'name'));
      if (cls === undefined || name === undefined) continue;
      if (MODEL_CLASSES.has(cls)) visit(entry, `${prefix}${name}/`);
      if (cls !== 'BatchNormalization') continue;
      const target = layers.get(prefix + name);
      if (target === undefined) {
        throw new ConversionError(
          prefix + name,
          'class_name',
          'a BatchNormalization the converted model has no batchless layer for',
        );
      }
      edits.push({ start: entry.start, end: entry.end, text: batchlessEntry(entry, text, target) });
      rewritten.push(target.path);
    }
  };
  visit(root, '');
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  }
  return { text: out, rewritten };
}

/** The entry in the style of the one it replaces: Keras 3 (module, registered_name) or Keras 2. */
function batchlessEntry(entry: SpanNode, text: string, target: BatchlessValues): string {
  if (entry.kind !== 'object') throw new ConversionError(target.path, 'config', 'not an object');
  const keras3 = entry.entries.some((e) => e.key === 'module' || e.key === 'registered_name');
  const raw = (node: SpanNode): RawJson => new RawJson(text.slice(node.start, node.end));
  const out: Record<string, PyJsonValue> = {};
  for (const { key, value } of entry.entries) {
    if (key === 'module') out[key] = BATCHLESS.module;
    // Keras 2 wrote a registered class under its registered name; Keras 3 resolves both.
    else if (key === 'class_name') out[key] = keras3 ? BATCHLESS.className : REGISTERED_NAME;
    else if (key === 'registered_name') out[key] = REGISTERED_NAME;
    else if (key === 'config') out[key] = batchlessConfig(value, raw, target);
    else out[key] = raw(value);
  }
  if (keras3 && !('registered_name' in out)) out['registered_name'] = REGISTERED_NAME;
  return pyJson(out);
}

function batchlessConfig(
  bn: SpanNode,
  raw: (node: SpanNode) => RawJson,
  target: BatchlessValues,
): Record<string, PyJsonValue> {
  const layer = target.layer;
  const carried = (key: string): PyJsonValue | undefined => {
    const node = member(bn, key);
    return node === undefined ? undefined : raw(node);
  };
  // Keras's own key order: name, trainable, dtype, then the layer's arguments.
  const config: Record<string, PyJsonValue> = {};
  const name = carried('name');
  if (name !== undefined) config['name'] = name;
  config['trainable'] = layer.trainable;
  for (const key of CARRIED_KEYS) {
    const value = carried(key);
    if (value !== undefined) config[key] = value;
  }
  // The BN's axis as the file wrote it (an int, or Keras 2's one-element list): the same axis
  // the converted layer normalizes.
  config['axis'] ??= layer.axis.length === 1 ? layer.axis[0] : [...layer.axis];
  return {
    ...config,
    epsilon: new PyFloat(layer.epsilon),
    std_parametrization: layer.stdParametrization,
    gauge: layer.gauge,
    center: layer.center,
    scale: layer.scale,
    initial_mean: new PyFloat(layer.initialMean),
    initial_std: new PyFloat(layer.initialStd),
  };
}
