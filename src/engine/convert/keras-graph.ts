import { fail, isRecord, ModelWhere, quote } from './model-errors';

/** One input of a layer call, in tfjs's form: [layerName, nodeIndex, tensorIndex, kwargs]. */
export type NodeRef = [string, number, number, Record<string, unknown>];

const MAX_INDEX = 1 << 16;

/**
 * Translates one layer's inbound_nodes to tfjs's `[[name, node, tensor, kwargs], ...]` form.
 * Keras 2 and tfjs already write that; Keras 3 writes `{args, kwargs}` with one keras tensor
 * (or a list of them, for merge layers) whose `keras_history` is [name, node, tensor].
 */
export function translateInboundNodes(nodes: unknown, where: ModelWhere): NodeRef[][] {
  const w = { ...where, field: 'inbound_nodes' };
  if (!Array.isArray(nodes)) fail(w, `expected a list, got ${quote(nodes)}`);
  return nodes.map((node) => {
    if (Array.isArray(node)) {
      // tfjs skips an empty call without creating its node, then waits forever for it.
      if (node.length === 0) fail(w, 'a call without input tensors');
      return node.map((ref) => keras2Ref(ref, w));
    }
    if (!isRecord(node)) fail(w, `expected a node, got ${quote(node)}`);
    const extra = Object.keys(node).filter((k) => k !== 'args' && k !== 'kwargs');
    if (extra.length > 0)
      fail({ ...w, field: `inbound_nodes.${extra[0]}` }, 'unsupported node key');
    const args = node['args'];
    if (!Array.isArray(args) || args.length !== 1) {
      fail(w, 'expected exactly one positional argument (a tensor or a list of tensors)');
    }
    const kwargs = translateKwargs(node['kwargs'] ?? {}, w);
    const tensors = Array.isArray(args[0]) ? args[0] : [args[0]];
    if (tensors.length === 0) fail(w, 'a call without input tensors');
    return tensors.map((t) => {
      const history =
        isRecord(t) && t['class_name'] === '__keras_tensor__' && isRecord(t['config'])
          ? t['config']['keras_history']
          : undefined;
      if (!Array.isArray(history)) fail(w, `expected a keras tensor argument, got ${quote(t)}`);
      return checkRef([...history, kwargs], w);
    });
  });
}

function keras2Ref(ref: unknown, where: ModelWhere): NodeRef {
  if (!Array.isArray(ref) || ref.length < 3 || ref.length > 4) {
    fail(where, `expected [layer, node, tensor, kwargs], got ${quote(ref)}`);
  }
  return checkRef([ref[0], ref[1], ref[2], translateKwargs(ref[3] ?? {}, where)], where);
}

function checkRef(ref: unknown[], where: ModelWhere): NodeRef {
  const [name, node, tensor, kwargs] = ref;
  const isIndex = (v: unknown): v is number =>
    typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < MAX_INDEX;
  if (typeof name !== 'string' || !isIndex(node) || !isIndex(tensor) || ref.length !== 4) {
    fail(where, `malformed tensor reference ${quote(ref.slice(0, 3))}`);
  }
  // Every layer class the loader accepts has exactly one output.
  if (tensor !== 0) fail(where, `reference to output ${tensor} of '${name}', which has one output`);
  return [name, node, 0, kwargs as Record<string, unknown>];
}

/** Call arguments: `training` is honoured by tfjs; a null `mask` is what Keras adds by default. */
function translateKwargs(kwargs: unknown, where: ModelWhere): Record<string, unknown> {
  if (!isRecord(kwargs)) fail(where, `expected call kwargs, got ${quote(kwargs)}`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    if (key === 'mask' && value === null) continue;
    if (key === 'training' && (value === null || typeof value === 'boolean')) {
      if (value !== null) out['training'] = value;
      continue;
    }
    fail(
      { ...where, field: `inbound_nodes.kwargs.${key}` },
      `unsupported call argument ${quote(value)}`,
    );
  }
  return out;
}

/** Normalizes input_layers/output_layers: Keras 3 writes a single ref flat, Keras 2 nested. */
export function translateEndpoints(value: unknown, where: ModelWhere): [string, number, number][] {
  const list = Array.isArray(value) && typeof value[0] === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0)
    fail(where, `expected layer references, got ${quote(value)}`);
  return list.map((ref) => {
    const [name, node, tensor] = keras2Ref(
      Array.isArray(ref) ? [...ref.slice(0, 3), {}] : ref,
      where,
    );
    return [name, node, tensor];
  });
}

/** What graph validation needs to know about one layer of a functional model. */
export interface GraphLayer {
  name: string;
  isInput: boolean;
  /** A nested model: tfjs gives it an internal node 0, so its calls start at node 1. */
  isModel: boolean;
  nodes: NodeRef[][];
}

/**
 * Checks that tfjs can build the graph and shifts Keras's node indices of nested models. tfjs's
 * Container.fromConfig re-queues a node whose inputs do not exist yet and loops until none
 * are left, so a dangling reference or a cycle would hang it: simulate that loop first.
 */
export function checkGraph(
  layers: GraphLayer[],
  endpoints: [string, number, number][],
  where: ModelWhere,
  /** Added to references to nested models: 1 for Keras files, 0 for tfjs's own. */
  nestedOffset: number,
): void {
  const byName = new Map<string, GraphLayer>();
  for (const layer of layers) {
    if (byName.has(layer.name)) fail({ ...where, layer: layer.name }, 'duplicate layer name');
    byName.set(layer.name, layer);
  }
  const offset = (name: string): number => (byName.get(name)?.isModel ? nestedOffset : 0);
  for (const layer of layers) {
    for (const node of layer.nodes) {
      for (const ref of node) {
        if (!byName.has(ref[0])) {
          fail(
            { ...where, layer: layer.name, field: 'inbound_nodes' },
            `unknown layer '${ref[0]}'`,
          );
        }
        ref[1] += offset(ref[0]);
      }
    }
  }
  const built = new Map(layers.map((l) => [l.name, l.isInput || l.isModel ? 1 : 0]));
  const pending = new Map(layers.map((l) => [l.name, [...l.nodes]]));
  let left = layers.reduce((n, l) => n + l.nodes.length, 0);
  while (left > 0) {
    let progress = false;
    for (const layer of layers) {
      const queue = pending.get(layer.name) ?? [];
      while (queue.length > 0 && queue[0].every(([n, k]) => (built.get(n) ?? 0) > k)) {
        queue.shift();
        built.set(layer.name, (built.get(layer.name) ?? 0) + 1);
        left--;
        progress = true;
      }
    }
    if (!progress) {
      const stuck = layers.find((l) => (pending.get(l.name) ?? []).length > 0);
      fail(
        { ...where, layer: stuck?.name, field: 'inbound_nodes' },
        'inputs never become available (a cycle or a missing node)',
      );
    }
  }
  for (const ref of endpoints) {
    if (!byName.has(ref[0])) fail(where, `model input/output names unknown layer '${ref[0]}'`);
    ref[1] += offset(ref[0]);
    if ((built.get(ref[0]) ?? 0) <= ref[1]) fail(where, `layer '${ref[0]}' has no node ${ref[1]}`);
  }
}
