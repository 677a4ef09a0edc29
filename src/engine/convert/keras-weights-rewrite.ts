import { ConversionError } from './bn-config';
import { LayerPlan } from './keras-config';
import { BatchlessValues } from './keras-topology-rewrite';
import { kerasGroupNames } from './keras-weights';
import { fail } from './model-errors';
import { Hdf5Reader } from './read-hdf5';
import { Hdf5Edits, rewriteHdf5 } from './write-hdf5';

export interface WeightsRewriteOptions {
  /** The legacy layout's root group ('model_weights' in a .h5 model); detected when absent. */
  legacyRoot?: string;
  /** Attributes to set besides the weights' own (the .h5 model's model_config). */
  attributes?: Hdf5Edits['attributes'];
}

/**
 * Rewrites a Keras weights file (either layout) for the converted model: each BatchNormalization's
 * variables are replaced by the batchless layer's (mean, std as stored, gamma, beta, the values
 * parity was checked on), named and placed where Keras itself puts a BatchlessNormalization's;
 * every other group, dataset and attribute is copied as it was, optimizer state included.
 */
export async function rewriteKerasWeights(
  bytes: Uint8Array,
  file: string,
  plan: LayerPlan,
  layers: Map<string, BatchlessValues>,
  options: WeightsRewriteOptions = {},
): Promise<{ bytes: Uint8Array; notes: string[] }> {
  const h5 = await Hdf5Reader.open(bytes, file);
  const edits = new EditList(options.attributes ?? []);
  const notes: string[] = [];
  try {
    const keras3 = options.legacyRoot === undefined && h5.isGroup('layers');
    if (keras3) keras3Edits(h5, plan, '', '', '', layers, edits);
    else {
      const root =
        options.legacyRoot ??
        (h5.stringListAttr('/', 'layer_names') !== undefined ? '' : 'model_weights');
      legacyEdits(h5, plan, root, layers, edits);
    }
    if (h5.isGroup(keras3 ? 'optimizer' : 'optimizer_weights')) {
      notes.push(
        `${file}: the saved optimizer state is kept as it was; it was for the BatchNormalization variables, so Keras skips it with a warning and starts the optimizer afresh`,
      );
    }
  } finally {
    h5.close();
  }
  return { bytes: await rewriteHdf5(bytes, file, edits), notes };
}

class EditList implements Hdf5Edits {
  readonly renames = new Map<string, string>();
  readonly drops = new Set<string>();
  readonly datasets: Hdf5Edits['datasets'] = [];

  constructor(readonly attributes: Hdf5Edits['attributes']) {}

  destination(path: string): string | undefined {
    if (this.drops.has(path)) return undefined;
    let best: [string, string] | undefined;
    for (const [from, to] of this.renames) {
      if ((path === from || path.startsWith(`${from}/`)) && from.length > (best?.[0].length ?? -1))
        best = [from, to];
    }
    return best === undefined ? path : best[1] + path.slice(best[0].length);
  }
}

function targetOf(layers: Map<string, BatchlessValues>, path: string): BatchlessValues {
  const target = layers.get(path);
  if (target === undefined) {
    throw new ConversionError(
      path,
      'weights',
      'a BatchNormalization the converted model has no batchless layer for',
    );
  }
  return target;
}

/**
 * Keras 3 layout: groups are named after classes, so a converted layer's group is renamed to
 * batchless_normalization[_n], and its siblings' numbers are recomputed the way Keras numbers them.
 */
function keras3Edits(
  h5: Hdf5Reader,
  plan: LayerPlan,
  oldPrefix: string,
  newPrefix: string,
  pathPrefix: string,
  layers: Map<string, BatchlessValues>,
  edits: EditList,
): void {
  const children = plan.children ?? [];
  const isBn = (c: LayerPlan): boolean =>
    c.children === undefined && c.className === 'BatchNormalization';
  const oldGroups = kerasGroupNames(children.map((c) => c.className));
  const newGroups = kerasGroupNames(
    children.map((c) => (isBn(c) ? 'BatchlessNormalization' : c.className)),
  );
  children.forEach((child, i) => {
    const from = `${oldPrefix}layers/${oldGroups[i]}`;
    const to = `${newPrefix}layers/${newGroups[i]}`;
    if (from !== to) edits.renames.set(from, to);
    const path = pathPrefix + child.name;
    if (child.children !== undefined) {
      keras3Edits(h5, child, `${from}/`, `${to}/`, `${path}/`, layers, edits);
      return;
    }
    if (!isBn(child)) return;
    const target = targetOf(layers, path);
    for (const key of h5.keys(`${from}/vars`)) edits.drops.add(`${from}/vars/${key}`);
    target.weights.forEach((w, k) => edits.datasets.push({ path: `${to}/vars/${k}`, ...w }));
  });
}

/** One leaf layer inside a legacy top-level group, with its entries in weight_names. */
interface LegacyLeaf {
  plan: LayerPlan;
  path: string;
  /** False when an enclosing model is not trainable (its weights then count as non-trainable). */
  chainTrainable: boolean;
  entries: string[];
}

/**
 * Legacy layout: one group per top-level layer whose weight_names Keras reads in order, matching
 * trainable variables first, then non-trainable ones (`layer.trainable_weights +
 * layer.non_trainable_weights`). The list is rebuilt by that same rule, after checking that the
 * rule reproduces the file's own list.
 */
function legacyEdits(
  h5: Hdf5Reader,
  plan: LayerPlan,
  root: string,
  layers: Map<string, BatchlessValues>,
  edits: EditList,
): void {
  const prefix = root === '' ? '' : `${root}/`;
  for (const child of plan.children ?? []) {
    const leaves = leavesOf(child, '', true);
    if (!leaves.some((l) => l.plan.className === 'BatchNormalization')) continue;
    const group = `${prefix}${child.name}`;
    const names =
      h5.stringListAttr(group, 'weight_names') ??
      fail({ file: h5.file, layer: child.name, field: 'weight_names' }, 'missing');
    for (const entry of names) {
      const owner =
        child.children === undefined ? leaves[0] : ownerOf(leaves, entry, h5.file, child.name);
      owner.entries.push(entry);
    }
    const order = (trainable: (leaf: LegacyLeaf, entry: string) => boolean, list: LegacyLeaf[]) => [
      ...list.flatMap((l) => l.entries.filter((e) => trainable(l, e))),
      ...list.flatMap((l) => l.entries.filter((e) => !trainable(l, e))),
    ];
    const wasTrainable = (l: LegacyLeaf, e: string): boolean =>
      l.chainTrainable &&
      l.plan.trainable &&
      !(l.plan.className === 'BatchNormalization' && /^moving_/.test(variableOf(e)));
    if (order(wasTrainable, leaves).join('\n') !== names.join('\n')) {
      fail(
        { file: h5.file, layer: child.name, field: 'weight_names' },
        'not in the order Keras writes (trainable variables first, layer by layer); refusing to guess how Keras would assign the converted weights',
      );
    }
    const converted = leaves.map((leaf) => {
      if (leaf.plan.className !== 'BatchNormalization') return leaf;
      const target = targetOf(layers, leaf.path);
      // New entries follow the old ones' form: 'outer/bn/var' or Keras 2's 'bn/var:0'.
      const [, head, suffix] = /^(.*\/)?[^/]*?(:\d+)?$/.exec(leaf.entries[0]) ?? [];
      const entries = target.weights.map((w) => `${head ?? ''}${w.name}${suffix ?? ''}`);
      leaf.entries.forEach((e) => edits.drops.add(`${group}/${e}`));
      target.weights.forEach((w, k) =>
        edits.datasets.push({ ...w, path: `${group}/${entries[k]}` }),
      );
      return {
        ...leaf,
        entries,
        plan: {
          ...leaf.plan,
          trainable: target.layer.trainable,
          className: 'BatchlessNormalization',
        },
      };
    });
    // The same rule: a batchless layer's variables are all trainable when the layer is.
    edits.attributes.push({
      path: group,
      name: 'weight_names',
      value: order(wasTrainable, converted),
    });
  }
}

function leavesOf(plan: LayerPlan, prefix: string, chainTrainable: boolean): LegacyLeaf[] {
  if (plan.children === undefined) {
    return plan.weights.length === 0
      ? []
      : [{ plan, path: prefix + plan.name, chainTrainable, entries: [] }];
  }
  const chain = chainTrainable && plan.trainable;
  return plan.children.flatMap((c) => leavesOf(c, `${prefix}${plan.name}/`, chain));
}

function ownerOf(leaves: LegacyLeaf[], entry: string, file: string, group: string): LegacyLeaf {
  const parts = entry.split('/');
  const found = leaves.filter((l) => l.plan.name === parts[parts.length - 2]);
  if (found.length !== 1) {
    fail({ file, layer: group, field: entry }, `${found.length} layers of this name in the model`);
  }
  return found[0];
}

function variableOf(entry: string): string {
  return (entry.split('/').pop() ?? '').replace(/:\d+$/, '');
}
