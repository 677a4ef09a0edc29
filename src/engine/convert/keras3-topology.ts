import * as tf from '@tensorflow/tfjs';
import type { LayerPlan } from './keras-config';
import { LAYER_SPECS } from './keras-layer-table';
import { keras3InputEntry, keras3LayerEntry } from './keras3-layer-export';
import { fail, isRecord, ModelWhere, quote } from './model-errors';

/** A model's config.json entry as Keras 3 writes it, with the layer plan its weights follow. */
export interface Keras3Topology {
  entry: Record<string, unknown>;
  plan: LayerPlan;
}

type Json = Record<string, unknown>;
type TfjsRef = [string, number, number, Json?];

const MERGE_CLASSES = new Set(['Add', 'Concatenate']);
const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

/**
 * Translates a tfjs LayersModel into the Keras 3 `config.json` form: `module`/`registered_name`
 * on every entry, an InputLayer leading each Sequential, Keras 3 call nodes (`args` holding
 * `__keras_tensor__`s) in functional models, `build_config` on layers with weights. Node indices
 * of nested models shift by one: tfjs counts the model's internal node, Keras does not (the
 * reader, keras-config.ts, shifts them back).
 */
export function keras3Topology(model: tf.LayersModel, file: string): Keras3Topology {
  const json = model.toJSON(null, false) as unknown as Json;
  return exportModel(json, model, { file });
}

function exportModel(json: Json, container: tf.LayersModel, where: ModelWhere): Keras3Topology {
  const cfg = json['config'];
  if (!isRecord(cfg) || !Array.isArray(cfg['layers']))
    fail({ ...where, layer: container.name }, 'tfjs wrote a model without layers');
  const layers = cfg['layers'] as Json[];
  const at = { ...where, layer: container.name };
  return json['class_name'] === 'Sequential'
    ? exportSequential(layers, container, at)
    : exportFunctional(cfg, layers, container, at);
}

function exportSequential(
  layers: Json[],
  container: tf.LayersModel,
  at: ModelWhere,
): Keras3Topology {
  const batchShape = container.inputs[0].shape;
  const first = layers[0];
  const hasInput = first?.['class_name'] === 'InputLayer';
  const inputName = hasInput
    ? String(configOf(first, at)['name'])
    : uniqueName('input_layer', container);
  const children = (hasInput ? layers.slice(1) : layers).map((l) => exportLayer(l, container, at));
  const config = {
    name: container.name,
    trainable: container.trainable,
    dtype: {
      module: 'keras',
      class_name: 'DTypePolicy',
      config: { name: 'float32' },
      registered_name: null,
    },
    layers: [keras3InputEntry(inputName, batchShape), ...children.map((c) => c.entry)],
    build_input_shape: batchShape,
  };
  return {
    entry: {
      module: 'keras',
      class_name: 'Sequential',
      config,
      registered_name: null,
      build_config: { input_shape: batchShape },
    },
    plan: {
      name: container.name,
      className: 'Sequential',
      weights: [],
      children: children.map((c) => c.plan),
      trainable: container.trainable,
    },
  };
}

function exportFunctional(
  cfg: Json,
  layers: Json[],
  container: tf.LayersModel,
  at: ModelWhere,
): Keras3Topology {
  const isModel = (name: string): boolean => container.getLayer(name) instanceof tf.LayersModel;
  const children = layers.map((l) => {
    const name = String(l['name']);
    if (l['class_name'] === 'InputLayer') {
      const entry = keras3InputEntry(name, configOf(l, at)['batch_input_shape']);
      const plan: LayerPlan = { name, className: 'InputLayer', weights: [], trainable: true };
      return { entry: { ...entry, name, inbound_nodes: [] }, plan };
    }
    const exported = exportLayer(l, container, at);
    const nodes = (l['inbound_nodes'] as TfjsRef[][]).map((node) =>
      callNode(node, exported.plan.className, container, isModel, { ...at, layer: name }),
    );
    return { entry: { ...exported.entry, name, inbound_nodes: nodes }, plan: exported.plan };
  });
  const endpoints = (value: unknown): unknown => {
    const refs = (value as [string, number, number][]).map(([n, k, t]) => [
      n,
      isModel(n) ? k - 1 : k,
      t,
    ]);
    return refs.length === 1 ? refs[0] : refs;
  };
  const config = {
    name: container.name,
    trainable: container.trainable,
    layers: children.map((c) => c.entry),
    input_layers: endpoints(cfg['input_layers']),
    output_layers: endpoints(cfg['output_layers']),
  };
  return {
    entry: {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config,
      registered_name: 'Functional',
      build_config: { input_shape: null },
    },
    plan: {
      name: container.name,
      className: 'Functional',
      weights: [],
      children: children.map((c) => c.plan),
      trainable: container.trainable,
    },
  };
}

function exportLayer(json: Json, container: tf.LayersModel, at: ModelWhere): Keras3Topology {
  const cls = String(json['class_name']);
  const config = configOf(json, at);
  const name = String(config['name'] ?? json['name']);
  const layer = container.getLayer(name);
  if (MODEL_CLASSES.has(cls)) {
    const nested = exportModel(json, layer as tf.LayersModel, at);
    const input = (layer as tf.LayersModel).inputs[0].shape;
    return { entry: { ...nested.entry, build_config: { input_shape: input } }, plan: nested.plan };
  }
  const entry = keras3LayerEntry(cls, config, { ...at, layer: name });
  const weights = LAYER_SPECS[cls]?.weights(entry['config'] as Json) ?? [];
  if (weights.length > 0) {
    const shapes = layer.inboundNodes[0]?.inputTensors.map((t) => t.shape) ?? [];
    entry['build_config'] = { input_shape: shapes.length === 1 ? shapes[0] : shapes };
  }
  return {
    entry,
    plan: {
      name,
      className: cls,
      weights,
      trainable: (entry['config'] as Json)['trainable'] !== false,
    },
  };
}

/** One call of a layer in Keras 3's form: the input tensors with their history, and kwargs. */
function callNode(
  refs: TfjsRef[],
  cls: string,
  container: tf.LayersModel,
  isModel: (name: string) => boolean,
  where: ModelWhere,
): Json {
  const kwargs = refs[0]?.[3] ?? {};
  for (const ref of refs) {
    if (
      JSON.stringify(ref[3] ?? {}) !== JSON.stringify(kwargs) ||
      Object.keys(kwargs).some((k) => k !== 'training')
    ) {
      fail(
        { ...where, field: 'inbound_nodes' },
        `call arguments ${quote(ref[3])} are not exported`,
      );
    }
  }
  const tensors = refs.map(([name, node, tensor]) => {
    const output = container.getLayer(name).getOutputAt(node);
    if (Array.isArray(output))
      fail({ ...where, field: 'inbound_nodes' }, `'${name}' has several outputs`);
    const keras_history = [name, isModel(name) ? node - 1 : node, tensor];
    return {
      class_name: '__keras_tensor__',
      config: { shape: output.shape, dtype: 'float32', keras_history },
    };
  });
  if (!MERGE_CLASSES.has(cls) && tensors.length !== 1) {
    fail({ ...where, field: 'inbound_nodes' }, `a ${cls} call with ${tensors.length} inputs`);
  }
  return { args: [MERGE_CLASSES.has(cls) ? tensors : tensors[0]], kwargs };
}

function configOf(json: Json, at: ModelWhere): Json {
  const cfg = json['config'];
  return isRecord(cfg)
    ? cfg
    : fail({ ...at, field: 'config' }, 'tfjs wrote a layer without config');
}

function uniqueName(base: string, container: tf.LayersModel): string {
  const taken = new Set(container.layers.map((l) => l.name));
  let name = base;
  for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
  return name;
}
