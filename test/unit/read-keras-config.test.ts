import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { test } from 'node:test';
import { translateTopology } from '../../src/engine/convert/keras-config';
import { COMMON_HANDLED } from '../../src/engine/convert/keras-key-rules';
import { LAYER_SPECS } from '../../src/engine/convert/keras-layer-table';
import { ModelFormatError } from '../../src/engine/convert/model-errors';

// References: topologies Keras 3.15.1 wrote with to_json() (test/fixtures/keras/*.json), and the
// Keras 2 style rewrite of residual.json that Keras 3.15.1's legacy loader reloaded to the same
// predictions (see residual.probe.json's notes).
// Fixture JSON is edited freely here; its shape is Keras's and the code under test checks it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const FIXTURES = nodePath.resolve(__dirname, '../../../test/fixtures/keras');
const json = (name: string): Json =>
  JSON.parse(readFileSync(nodePath.join(FIXTURES, name), 'utf8'));

function* layerEntries(model: Json): Generator<Json> {
  for (const layer of model.config.layers as Json[]) {
    if (Array.isArray(layer.config?.layers)) yield* layerEntries(layer);
    else yield layer;
  }
}

test('Keras 3 and Keras 2 style of one functional model translate to the same tfjs topology', () => {
  const k3 = translateTopology(json('residual.json'), 'residual.json');
  const k2 = translateTopology(json('residual_keras2.json'), 'residual_keras2.json');
  assert.deepEqual(k3.topology, k2.topology);
  assert.deepEqual(k3.plan, k2.plan);
});

test("Keras 3 call nodes become tfjs's [[name, node, tensor, kwargs]] (Add takes two)", () => {
  const { topology } = translateTopology(json('residual.json'), 'residual.json');
  const layers = (topology.config as Json).layers as Json[];
  const add = layers.find((l) => l.name === 'add') as Json;
  assert.deepEqual(add.inbound_nodes, [
    [
      ['branch_bn', 0, 0, {}],
      ['shortcut_bn', 0, 0, {}],
    ],
  ]);
  assert.deepEqual((topology.config as Json).input_layers, [['image', 0, 0]]);
  assert.equal(topology.class_name, 'Model');
  // No Keras 3 wrapper keys survive anywhere.
  assert.doesNotMatch(JSON.stringify(topology), /"(module|registered_name|build_config)"/);
});

test("calls of a nested model move to node 1: tfjs counts the model's internal node 0", () => {
  const { topology, plan } = translateTopology(json('nested.json'), 'nested.json');
  const layers = (topology.config as Json).layers as Json[];
  const concat = layers.find((l) => l.name === 'concat') as Json;
  assert.deepEqual(concat.inbound_nodes, [
    [
      ['entry_conv', 0, 0, {}],
      ['block', 1, 0, {}],
    ],
  ]);
  const block = plan.children?.find((c) => c.name === 'block');
  // A Sequential's InputLayer is not one of its Keras layers (nor in its weights file).
  assert.deepEqual(
    block?.children?.map((c) => [c.name, c.weights]),
    [
      ['block_conv', ['kernel', 'bias']],
      ['block_bn', ['gamma', 'beta', 'moving_mean', 'moving_variance']],
      ['block_relu', []],
    ],
  );
});

test('the key tables cover every config key Keras 3.15.1 wrote, each key in one table', () => {
  for (const [cls, spec] of Object.entries(LAYER_SPECS)) {
    for (const key of Object.keys(spec.handled)) {
      assert.ok(!(key in spec.ignored), `${cls}.${key} is both handled and ignored`);
    }
  }
  const seen = new Set<string>();
  for (const file of [
    'cnn.json',
    'residual.json',
    'mlp.json',
    'nested.json',
    'channels_first.json',
  ]) {
    for (const layer of layerEntries(json(file))) {
      const spec = LAYER_SPECS[layer.class_name];
      assert.ok(spec, `${file}: no spec for ${layer.class_name}`);
      seen.add(layer.class_name);
      for (const key of Object.keys(layer.config)) {
        const known = key in spec.handled || key in spec.ignored || key in COMMON_HANDLED;
        assert.ok(known, `${file}: ${layer.class_name}.${key} is in no table`);
      }
    }
  }
  assert.equal(seen.size, 14, [...seen].join(', '));
});

test('a Sequential without an InputLayer takes its input shape from build_input_shape', () => {
  const cnn = json('cnn.json');
  cnn.config.layers.shift(); // Keras 3 writes this form for Sequential([...]) built by calling it
  const { topology } = translateTopology(cnn, 'cnn.json');
  const first = ((topology.config as Json).layers as Json[])[0];
  assert.equal(first.name, 'conv1');
  assert.deepEqual(first.config.batch_input_shape, [null, 8, 8, 1]);
});

test('semantics tfjs cannot keep are refused: mixed precision, groups, channels_first, renorm', () => {
  const cases: [string, (bn: Json, conv: Json) => void, string, string][] = [
    ['dtype', (bn) => (bn.config.dtype.config.name = 'mixed_float16'), 'bn1', 'dtype'],
    ['groups', (_bn, conv) => (conv.config.groups = 2), 'conv1', 'groups'],
    [
      'data_format',
      (_bn, conv) => (conv.config.data_format = 'channels_first'),
      'conv1',
      'data_format',
    ],
    ['renorm', (bn) => (bn.config.renorm = true), 'bn1', 'renorm'],
    ['axis', (bn) => (bn.config.axis = [1, 2]), 'bn1', 'axis'],
  ];
  for (const [what, edit, layer, field] of cases) {
    const cnn = json('cnn.json');
    edit(cnn.config.layers[2], cnn.config.layers[1]);
    assert.throws(
      () => translateTopology(cnn, 'cnn.json'),
      (e: unknown) =>
        e instanceof ModelFormatError &&
        e.layer === layer &&
        e.field === field &&
        e.file === 'cnn.json',
      what,
    );
  }
});

test('L2 regularizers are carried as tfjs L1L2, not dropped', () => {
  const mlp = json('mlp.json');
  mlp.config.layers[1].config.kernel_regularizer = {
    module: 'keras.regularizers',
    class_name: 'L2',
    config: { l2: 0.01 },
    registered_name: null,
  };
  const { topology } = translateTopology(mlp, 'mlp.json');
  const hidden = ((topology.config as Json).layers as Json[]).find((l) => l.name === 'hidden');
  assert.deepEqual(hidden?.config.kernel_regularizer, {
    class_name: 'L1L2',
    config: { l1: 0, l2: 0.01 },
  });
});
