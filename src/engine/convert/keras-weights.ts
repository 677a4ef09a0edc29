import * as tf from '@tensorflow/tfjs';
import { LayerPlan } from './keras-config';
import { fail } from './model-errors';
import { Hdf5Reader } from './read-hdf5';

/** Dataset path of each Keras variable, per leaf layer. */
type Locations = Map<LayerPlan, Map<string, string>>;

/**
 * Assigns every variable of `model` from a Keras weights HDF5 file (either layout), after
 * checking that the file holds exactly the model's variables with the model's shapes. Nothing
 * is assigned unless everything checks; the first mismatch is reported by layer and weight.
 */
export function assignKerasWeights(
  model: tf.LayersModel,
  plan: LayerPlan,
  h5: Hdf5Reader,
  root?: string,
): void {
  const locations = root === undefined ? detectAndLocate(h5, plan) : locateLegacy(h5, plan, root);
  // Read and check everything as plain arrays first: no tensor exists until nothing can fail.
  const pending: { layer: tf.layers.Layer; shapes: number[][]; data: Float32Array[] }[] = [];
  forEachLeaf(plan, model, h5.file, (leaf, layer) => {
    const where = locations.get(leaf) ?? new Map<string, string>();
    const names = layer.weights.map((w) => w.originalName.split('/').pop() as string);
    if ([...names].sort().join(', ') !== [...leaf.weights].sort().join(', ')) {
      fail(
        h5.where('', leaf.name),
        `tfjs built variables [${names.join(', ')}], Keras has [${leaf.weights.join(', ')}]`,
      );
    }
    const shapes = layer.weights.map((w) => w.shape as number[]);
    const data = names.map((name, i) => {
      const path =
        where.get(name) ??
        fail({ file: h5.file, layer: leaf.name, field: name }, 'weight missing from the file');
      return h5.readFloat32(path, shapes[i], leaf.name, name);
    });
    pending.push({ layer, shapes, data });
  });
  const assigned = pending.reduce((n, p) => n + p.data.length, 0);
  if (assigned !== model.weights.length) {
    fail(
      { file: h5.file },
      `assigned ${assigned} of the model's ${model.weights.length} variables`,
    );
  }
  for (const { layer, shapes, data } of pending) {
    const values = data.map((d, i) => tf.tensor(d, shapes[i], 'float32'));
    try {
      layer.setWeights(values);
    } finally {
      tf.dispose(values);
    }
  }
}

/** Visits leaf layers that own variables, with the tfjs layer of the same name. */
function forEachLeaf(
  plan: LayerPlan,
  container: tf.LayersModel,
  file: string,
  visit: (leaf: LayerPlan, layer: tf.layers.Layer) => void,
): void {
  for (const child of plan.children ?? []) {
    let layer: tf.layers.Layer;
    try {
      layer = container.getLayer(child.name);
    } catch (e) {
      fail({ file, layer: child.name }, 'tfjs built no layer of this name', e);
    }
    if (child.children !== undefined) forEachLeaf(child, layer as tf.LayersModel, file, visit);
    else if (child.weights.length > 0) visit(child, layer);
  }
}

function detectAndLocate(h5: Hdf5Reader, plan: LayerPlan): Locations {
  if (h5.isGroup('layers')) return locateKeras3(h5, plan, '');
  if (h5.stringListAttr('/', 'layer_names') !== undefined) return locateLegacy(h5, plan, '');
  if (h5.isGroup('model_weights')) return locateLegacy(h5, plan, 'model_weights');
  return fail(
    { file: h5.file, field: 'layers' },
    'not a Keras weights file (no layers group, no layer_names attribute)',
  );
}

/** Keras's naming.to_snake_case, which names each layer's group in a Keras 3 weights file. */
export function kerasSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** The group of each layer of a container in a Keras 3 weights file: snake_case class, _1, _2... */
export function kerasGroupNames(classNames: string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((cls) => {
    const base = kerasSnakeCase(cls);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    return n === undefined ? base : `${base}_${n + 1}`;
  });
}

/**
 * Keras 3 (`.weights.h5`, and `model.weights.h5` in a `.keras` archive): each layer is stored at
 * layers/<snake_case class name, numbered _1, _2... in layer order>/vars/0..n in Keras's variable
 * order; a nested model's layers nest under its own group. A Sequential does not list its
 * InputLayer. Keras 3.9+ also stamps the layer's real name on the vars group: checked when there.
 */
function locateKeras3(
  h5: Hdf5Reader,
  plan: LayerPlan,
  prefix: string,
  out: Locations = new Map(),
): Locations {
  const children = plan.children ?? [];
  const groups = kerasGroupNames(children.map((c) => c.className));
  const expectedGroups = new Set(groups);
  for (const [i, child] of children.entries()) {
    const group = groups[i];
    const path = `${prefix}layers/${group}`;
    const hasWeights =
      child.children !== undefined ? subtreeHasWeights(child) : child.weights.length > 0;
    if (!h5.isGroup(path)) {
      if (hasWeights)
        fail(
          { file: h5.file, layer: child.name, field: path },
          'layer missing from the weights file',
        );
      continue;
    }
    const stamped = h5.isGroup(`${path}/vars`) ? h5.attr(`${path}/vars`, 'name') : undefined;
    if (stamped !== undefined && stamped !== child.name) {
      fail(
        { file: h5.file, layer: child.name, field: path },
        `the file has layer '${String(stamped)}' here (layer order differs)`,
      );
    }
    if (child.children !== undefined) {
      locateKeras3(h5, child, `${path}/`, out);
      continue;
    }
    const vars = h5.isGroup(`${path}/vars`) ? h5.keys(`${path}/vars`) : [];
    if (vars.length !== child.weights.length) {
      fail(
        { file: h5.file, layer: child.name, field: `${path}/vars` },
        `${vars.length} variables in the file, the model has ${child.weights.length} (${child.weights.join(', ')})`,
      );
    }
    out.set(child, new Map(child.weights.map((w, i) => [w, `${path}/vars/${i}`])));
  }
  const extra = h5.isGroup(`${prefix}layers`)
    ? h5.keys(`${prefix}layers`).filter((g) => !expectedGroups.has(g))
    : [];
  if (extra.length > 0)
    fail(
      { file: h5.file, field: `${prefix}layers/${extra[0]}` },
      'a layer the model does not have',
    );
  return out;
}

function subtreeHasWeights(plan: LayerPlan): boolean {
  return (plan.children ?? []).some((c) =>
    c.children !== undefined ? subtreeHasWeights(c) : c.weights.length > 0,
  );
}

/**
 * Legacy HDF5 (Keras 2 `save_weights('x.h5')`, and `model_weights` in a Keras 2/3 `.h5` model):
 * one group per top-level layer, its attribute weight_names listing datasets under it as
 * `[outer/]layer/var[:0]`. Matched by name, so Keras 2's trainable-first order does not matter.
 */
function locateLegacy(h5: Hdf5Reader, plan: LayerPlan, root: string): Locations {
  const out: Locations = new Map();
  const prefix = root === '' ? '' : `${root}/`;
  const fileLayers =
    h5.stringListAttr(root === '' ? '/' : root, 'layer_names') ??
    fail({ file: h5.file, field: `${root}@layer_names` }, 'missing');
  const planNames = new Set((plan.children ?? []).map((c) => c.name));
  for (const name of fileLayers) {
    const names = h5.stringListAttr(`${prefix}${name}`, 'weight_names') ?? [];
    if (!planNames.has(name) && names.length > 0)
      fail({ file: h5.file, layer: name }, 'a layer with weights that the model does not have');
  }
  for (const child of plan.children ?? []) {
    const hasWeights =
      child.children !== undefined ? subtreeHasWeights(child) : child.weights.length > 0;
    if (!hasWeights) continue;
    if (!fileLayers.includes(child.name))
      fail({ file: h5.file, layer: child.name }, 'layer missing from the weights file');
    const group = `${prefix}${child.name}`;
    const names =
      h5.stringListAttr(group, 'weight_names') ??
      fail({ file: h5.file, layer: child.name, field: 'weight_names' }, 'missing');
    for (const weightName of names) {
      const parts = weightName.split('/');
      const variable = (parts.pop() ?? '').replace(/:\d+$/, '');
      const owner =
        child.children === undefined ? child : findLeaf(child, parts.pop(), h5.file, weightName);
      if (!owner.weights.includes(variable)) {
        fail(
          { file: h5.file, layer: owner.name, field: weightName },
          `not a variable of this ${owner.className} (${owner.weights.join(', ')})`,
        );
      }
      const slot = out.get(owner) ?? new Map<string, string>();
      if (slot.has(variable))
        fail({ file: h5.file, layer: owner.name, field: weightName }, 'stored twice');
      slot.set(variable, `${group}/${weightName}`);
      out.set(owner, slot);
    }
  }
  return out;
}

function findLeaf(
  plan: LayerPlan,
  name: string | undefined,
  file: string,
  weightName: string,
): LayerPlan {
  const found: LayerPlan[] = [];
  const walk = (p: LayerPlan): void =>
    (p.children ?? []).forEach((c) => (c.children ? walk(c) : c.name === name && found.push(c)));
  walk(plan);
  if (found.length !== 1)
    fail(
      { file, layer: plan.name, field: weightName },
      `${found.length} layers named '${name}' in this model`,
    );
  return found[0];
}
