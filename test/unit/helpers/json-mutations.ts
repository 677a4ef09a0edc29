// Mutations of parsed JSON (Keras topologies, tfjs model.json) for the reader fuzz test: one
// random change anywhere in the tree, or one targeted at the things readers must check.
// Mutated JSON is edited freely here; the readers under test check its shape.
/* eslint-disable @typescript-eslint/no-explicit-any */

export type Random = () => number;

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

/** Values that break type, range or size expectations. */
const POOL: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53,
  1e300,
  -1e-300,
  '',
  'x',
  '../../etc/passwd',
  'A'.repeat(5000),
  [],
  [null],
  [2 ** 30, 2 ** 30],
  [-1, 3],
  {},
  { class_name: 'X', config: {} },
];

interface Position {
  parent: any;
  key: string | number;
}

function positions(root: unknown, limit = 20000): Position[] {
  const out: Position[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0 && out.length < limit) {
    const node = stack.pop() as any;
    if (node === null || typeof node !== 'object') continue;
    for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) {
      out.push({ parent: node, key });
      stack.push(node[key]);
    }
  }
  return out;
}

/** One random change at a random place: delete, replace, rename a key, or duplicate. */
export function mutateAnywhere(root: any, random: Random): string {
  const all = positions(root);
  if (all.length === 0) return 'nothing to mutate';
  const { parent, key } = pick(random, all);
  const op = pick(random, ['delete', 'replace', 'replace', 'rename', 'duplicate'] as const);
  if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (op === 'replace') {
    parent[key] = structuredClone(pick(random, POOL));
  } else if (op === 'rename' && !Array.isArray(parent)) {
    parent[pick(random, ['class_name', 'config', 'name', 'zz', `${String(key)}_`])] = parent[key];
    delete parent[key];
  } else if (Array.isArray(parent)) {
    parent.splice(key as number, 0, structuredClone(parent[key as number]));
  } else {
    parent[key] = [parent[key], parent[key]];
  }
  return `${op} at '${String(key)}'`;
}

/** Every layer entry of a Keras topology, nested models included. */
export function layerEntries(root: any): any[] {
  const out: any[] = [];
  const walk = (model: any): void => {
    const layers = model?.config?.layers;
    if (!Array.isArray(layers)) return;
    for (const entry of layers) {
      out.push(entry);
      walk(entry);
    }
  };
  walk(root?.modelTopology?.model_config ?? root?.modelTopology ?? root);
  return out;
}

/** One change aimed at what a layer entry's readers check (classes, sizes, axes, graph). */
export function mutateLayer(root: any, random: Random): string {
  const entries = layerEntries(root);
  if (entries.length === 0) return mutateAnywhere(root, random);
  const entry = pick(random, entries);
  const config = entry.config ?? (entry.config = {});
  const edits: [string, () => void][] = [
    [
      'unknown class',
      () => (entry.class_name = pick(random, ['FancyNorm', 'Lambda', '', 'Model'])),
    ],
    [
      'other class',
      () =>
        (entry.class_name = pick(random, [
          'Dense',
          'Conv2D',
          'BatchNormalization',
          'Sequential',
          'batchless>BatchlessNormalization',
        ])),
    ],
    ['huge units', () => (config.units = pick(random, [2 ** 30, 2 ** 20, -3, 0.5]))],
    [
      'huge input',
      () => (config.batch_shape = config.batch_input_shape = [null, 2 ** 20, 2 ** 20, 3]),
    ],
    ['bad axis', () => (config.axis = pick(random, [7, -9, [1, 1], [], 'x', 1]))],
    ['bad epsilon', () => (config.epsilon = pick(random, [-1, 0, 1e300, 'x']))],
    ['bad kernel', () => (config.kernel_size = pick(random, [[2 ** 20, 2 ** 20], 0, [3]]))],
    [
      'dangling input',
      () => (entry.inbound_nodes = pick(random, [[[['nope', 0, 0, {}]]], 'x', [{ args: [] }]])),
    ],
    [
      'bad name',
      () => (config.name = entry.name = pick(random, ['../x', '', 'a b', entries[0].name])),
    ],
    [
      'custom module',
      () => Object.assign(entry, { module: 'evil', registered_name: 'Evil>Layer' }),
    ],
    ['no config', () => delete entry.config],
  ];
  const [label, apply] = pick(random, edits);
  apply();
  return `${label} on '${String(entry.name ?? config.name)}'`;
}

/** One change to a tfjs weightsManifest: escaping paths, dtypes, shapes, missing entries. */
export function mutateManifest(json: any, random: Random): string {
  const group = json.weightsManifest?.[0];
  if (!group) return mutateAnywhere(json, random);
  const spec = pick(random, group.weights as any[]);
  const edits: [string, () => void][] = [
    [
      'escaping path',
      () =>
        (group.paths = [
          pick(random, ['../weights.bin', '/etc/passwd', 'sub/../../x', 'C:\\w.bin', '']),
        ]),
    ],
    [
      'wrong dtype',
      () => (spec.dtype = pick(random, ['int32', 'float16', 'complex64', 'string', 'bool'])),
    ],
    ['huge shape', () => (spec.shape = pick(random, [[65536, 65536], [2 ** 28, 16], [1e9]]))],
    ['wrong shape', () => (spec.shape = [...spec.shape].reverse().concat([1]))],
    ['missing weight', () => group.weights.splice(group.weights.indexOf(spec), 1)],
    ['duplicate weight', () => group.weights.push({ ...spec })],
    [
      'quantized',
      () =>
        (spec.quantization = pick(random, [
          { dtype: 'uint8', scale: 1, min: 0 },
          { dtype: 'int4' },
        ])),
    ],
  ];
  const [label, apply] = pick(random, edits);
  apply();
  return `${label} (${String(spec.name)})`;
}

/** A topology of `depth` Sequentials nested in each other, as text (too deep to build as objects). */
export function deeplyNestedSequential(depth: number): string {
  const open = (i: number): string =>
    `{"class_name": "Sequential", "config": {"name": "m${i}", "layers": [`;
  let text = '';
  for (let i = 0; i < depth; i++) text += open(i);
  text += '{"class_name": "Dense", "config": {"name": "d", "units": 1}}';
  return text + ']}}'.repeat(depth);
}
