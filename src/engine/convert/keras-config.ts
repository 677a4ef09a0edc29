import * as tf from '@tensorflow/tfjs';
import { checkGraph, GraphLayer, translateEndpoints, translateInboundNodes } from './keras-graph';
import { COMMON_HANDLED, copy, isBatchShape, isBool, isLayerName } from './keras-key-rules';
import { CUSTOM_CLASSES, ENTRY_KEYS_IGNORED, LAYER_SPECS } from './keras-layer-table';
import { fail, isRecord, ModelWhere, quote } from './model-errors';

/** A layer as the weight readers see it, in Keras's own layer order. */
export interface LayerPlan {
  name: string;
  /** The Keras class; a functional model is 'Functional' even where Keras 2 wrote 'Model'. */
  className: string;
  /** Variable names in Keras order (empty for models; see `children`). */
  weights: string[];
  /** For a nested Sequential/Functional: its layers, in Keras's order. */
  children?: LayerPlan[];
  trainable: boolean;
}

export interface TranslatedTopology {
  /** A Keras-2-style topology (snake_case) that tf.models.modelFromJSON accepts. */
  topology: Record<string, unknown>;
  plan: LayerPlan;
  notes: string[];
}

export interface TranslateOptions {
  /** Let through classes registered with tf.serialization (tfjs files written by this tool). */
  allowRegisteredClasses?: boolean;
  /**
   * Keras (2 and 3) numbers a nested model's calls without its internal node, tfjs-layers with
   * it (set for files tfjs-layers wrote). Measured: a tfjs-saved nested model's call is node 1.
   */
  rawNodeIndices?: boolean;
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);
/** Keys around a whole model's config; the versions are informational. */
const TOP_LEVEL_KEYS = new Set(['class_name', 'config', 'keras_version', 'backend', 'name']);
const MODEL_CONFIG_KEYS: Record<string, string> = {
  build_input_shape: 'used only when a Sequential has no InputLayer',
  dtype: 'checked to be float32; tfjs takes dtypes per layer',
};

/**
 * Translates a Keras 3, Keras 2 or tfjs-layers topology into the form tfjs's deserializer takes,
 * refusing anything whose meaning it cannot keep (see keras-layer-table.ts).
 */
export function translateTopology(
  raw: unknown,
  file: string,
  options: TranslateOptions = {},
): TranslatedTopology {
  const notes: string[] = [];
  if (!isRecord(raw)) fail({ file }, 'the model topology is not a JSON object');
  for (const key of Object.keys(raw)) {
    if (!TOP_LEVEL_KEYS.has(key) && !(key in ENTRY_KEYS_IGNORED)) {
      fail({ file, field: key }, 'unsupported top-level key');
    }
  }
  if (typeof raw['class_name'] !== 'string' || !MODEL_CLASSES.has(raw['class_name'])) {
    fail(
      { file, field: 'class_name' },
      `expected a Sequential or Functional model, got ${quote(raw['class_name'])}`,
    );
  }
  const { entry, plan } = translateModel(raw, { file }, { notes, options, depth: 0 });
  delete entry['name'];
  delete entry['inbound_nodes'];
  return { topology: entry, plan, notes };
}

interface Ctx {
  notes: string[];
  options: TranslateOptions;
  /** Models enclosing the one being translated. */
  depth: number;
}

/** Real models nest a few levels; thousands would overflow the stack of every recursive reader. */
const MAX_MODEL_DEPTH = 32;

function translateModel(
  raw: Record<string, unknown>,
  where: ModelWhere,
  ctx: Ctx,
): { entry: Record<string, unknown>; plan: LayerPlan } {
  const cls = raw['class_name'] as string;
  const cfg = raw['config'];
  if (!isRecord(cfg))
    fail({ ...where, field: 'config' }, `expected an object for the ${cls} config`);
  const name = typeof cfg['name'] === 'string' ? cfg['name'] : (raw['name'] as string | undefined);
  if (typeof name !== 'string' || !isLayerName(name)) {
    fail({ ...where, field: 'name' }, `a model without a valid name (${quote(name)})`);
  }
  const at = { ...where, layer: name };
  if (!Array.isArray(cfg['layers'])) fail({ ...at, field: 'layers' }, 'expected a list of layers');
  const allowed =
    cls === 'Sequential'
      ? ['name', 'trainable', 'layers']
      : ['name', 'trainable', 'layers', 'input_layers', 'output_layers'];
  for (const key of Object.keys(cfg)) {
    if (!allowed.includes(key) && !(key in MODEL_CONFIG_KEYS))
      fail({ ...at, field: key }, 'unsupported model config key');
  }
  if (cfg['dtype'] !== undefined) COMMON_HANDLED.dtype(cfg['dtype'], 'dtype', at);
  const trainable =
    cfg['trainable'] === undefined
      ? true
      : (copy(isBool, 'true or false')(cfg['trainable'], 'trainable', at)['trainable'] as boolean);
  const sequential = cls === 'Sequential';
  const translated = (cfg['layers'] as unknown[]).map((l) =>
    translateLayer(l, at, ctx, sequential),
  );
  const layers = translated.map((t) => t.entry);
  const children = translated
    .filter((t) => !(sequential && t.plan.className === 'InputLayer'))
    .map((t) => t.plan);
  const plan: LayerPlan = {
    name,
    className: cls === 'Model' ? 'Functional' : cls,
    weights: [],
    children,
    trainable,
  };
  if (sequential) {
    if (layers.length === 0) fail({ ...at, field: 'layers' }, 'an empty Sequential');
    giveSequentialAnInput(layers, cfg['build_input_shape'], at);
    return { entry: { class_name: 'Sequential', config: { name, layers } }, plan };
  }
  const inputs = translateEndpoints(cfg['input_layers'], { ...at, field: 'input_layers' });
  const outputs = translateEndpoints(cfg['output_layers'], { ...at, field: 'output_layers' });
  const graph: GraphLayer[] = translated.map((t) => ({
    name: t.plan.name,
    isInput: t.plan.className === 'InputLayer',
    isModel: t.plan.children !== undefined,
    nodes: t.nodes,
  }));
  checkGraph(graph, [...inputs, ...outputs], at, ctx.options.rawNodeIndices ? 0 : 1);
  translated.forEach((t) => (t.entry['inbound_nodes'] = t.nodes));
  const config = { name, layers, input_layers: inputs, output_layers: outputs };
  return { entry: { class_name: 'Model', config }, plan };
}

/** tfjs needs the input shape on the first layer or an InputLayer, as Keras 2 wrote it. */
function giveSequentialAnInput(
  layers: Record<string, unknown>[],
  buildShape: unknown,
  where: ModelWhere,
): void {
  const first = layers[0];
  const firstCfg = first['config'] as Record<string, unknown>;
  if (first['class_name'] === 'InputLayer' || firstCfg['batch_input_shape'] !== undefined) return;
  if (!isBatchShape(buildShape))
    fail({ ...where, field: 'build_input_shape' }, 'a Sequential model without an input shape');
  firstCfg['batch_input_shape'] = buildShape;
}

interface TranslatedLayer {
  entry: Record<string, unknown>;
  plan: LayerPlan;
  nodes: GraphLayer['nodes'];
}

function translateLayer(
  raw: unknown,
  where: ModelWhere,
  ctx: Ctx,
  inSequential: boolean,
): TranslatedLayer {
  if (!isRecord(raw))
    fail({ ...where, field: 'layers' }, `expected a layer object, got ${quote(raw)}`);
  const cls = raw['class_name'];
  const cfg = raw['config'];
  const name = raw['name'] ?? (isRecord(cfg) ? cfg['name'] : undefined);
  if (typeof name !== 'string' || !isLayerName(name))
    fail({ ...where, field: 'name' }, `a layer without a valid name (${quote(name)})`);
  const at: ModelWhere = { file: where.file, layer: name };
  // tfjs names the layer from its config but wires the graph by the entry's name.
  if (isRecord(cfg) && cfg['name'] !== undefined && cfg['name'] !== name) {
    fail({ ...at, field: 'config.name' }, `differs from the entry's name (${quote(cfg['name'])})`);
  }
  if (typeof cls !== 'string')
    fail({ ...at, field: 'class_name' }, `expected a class name, got ${quote(cls)}`);
  const kind = checkEntryKeys(raw, cls, at);
  const nodes = inSequential ? [] : translateInboundNodes(raw['inbound_nodes'] ?? [], at);
  if (MODEL_CLASSES.has(kind)) {
    if (ctx.depth >= MAX_MODEL_DEPTH)
      fail({ ...at, field: 'layers' }, `models nested more than ${MAX_MODEL_DEPTH} deep`);
    const nested = translateModel(raw, where, { ...ctx, depth: ctx.depth + 1 });
    return { entry: { ...nested.entry, name }, plan: nested.plan, nodes };
  }
  if (!isRecord(cfg)) fail({ ...at, field: 'config' }, 'expected an object');
  const spec = LAYER_SPECS[kind];
  if (spec === undefined) return passThroughRegistered(raw, kind, name, at, ctx, nodes);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cfg)) {
    const rule = spec.handled[key] ?? COMMON_HANDLED[key];
    if (rule !== undefined) Object.assign(out, rule(value, key, at));
    else if (!(key in spec.ignored))
      fail({ ...at, field: key }, `unsupported ${kind} config key (value ${quote(value)})`);
  }
  out['name'] = name;
  const trainable = out['trainable'] !== false;
  if (kind === 'BatchNormalization' && !trainable) {
    ctx.notes.push(
      `${name}: Keras runs a BatchNormalization with trainable=false in inference mode; tfjs only freezes its weights`,
    );
  }
  const entry: Record<string, unknown> = { class_name: kind, config: out, name };
  return { entry, plan: { name, className: kind, weights: spec.weights(cfg), trainable }, nodes };
}

/** Checks the keys around `config`; returns the class, known custom classes resolved. */
function checkEntryKeys(raw: Record<string, unknown>, cls: string, at: ModelWhere): string {
  for (const key of Object.keys(raw)) {
    if (
      ['class_name', 'config', 'name', 'inbound_nodes'].includes(key) ||
      key in ENTRY_KEYS_IGNORED
    )
      continue;
    fail({ ...at, field: key }, 'unsupported layer entry key');
  }
  const module = raw['module'];
  const registered = raw['registered_name'];
  const custom = CUSTOM_CLASSES[typeof registered === 'string' ? registered : cls];
  if (custom !== undefined) {
    // Keras 3 writes class_name + registered_name + module; Keras 2 the registered name alone.
    const keras2 = registered === undefined && module === undefined && cls !== custom.className;
    if (keras2 || (cls === custom.className && (module === undefined || module === custom.module)))
      return custom.className;
    fail(
      { ...at, field: 'class_name' },
      `class ${quote(cls)} from module ${quote(module)} does not match the registered name ${quote(registered)}`,
    );
  }
  // Built-in Keras 3 classes carry a keras.* module and a null (or equal) registered name.
  if (
    (module !== undefined && (typeof module !== 'string' || !/^keras(\.|$)/.test(module))) ||
    (registered !== undefined && registered !== null && registered !== cls)
  ) {
    fail(
      { ...at, field: 'class_name' },
      `custom layer class '${String(registered ?? cls)}' from module ${quote(module)} is not supported`,
    );
  }
  return cls;
}

/** Only for tfjs-format files: classes tfjs itself knows (registered), loaded as tfjs saved them. */
function passThroughRegistered(
  raw: Record<string, unknown>,
  cls: string,
  name: string,
  at: ModelWhere,
  ctx: Ctx,
  nodes: GraphLayer['nodes'],
): TranslatedLayer {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[cls] !== undefined;
  if (!ctx.options.allowRegisteredClasses || !registered) {
    fail({ ...at, field: 'class_name' }, `unknown layer class '${cls}'`);
  }
  ctx.notes.push(`${name}: class ${cls} loaded as registered with tfjs, without key checks`);
  const entry = { class_name: cls, config: raw['config'], name };
  return { entry, plan: { name, className: cls, weights: [], trainable: true }, nodes };
}
