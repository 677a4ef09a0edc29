import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/engine/backend/select';
import { assertArrayClose } from './helpers/tensors';

// tfjs-core refuses gradients of dilated convolutions and the cpu backend's backprop kernels
// ignore dilations, so neither is a reference here. The reference is the definition instead: a
// convolution is linear in each argument, so element k of a backprop kernel's result is
// Σ dy · conv(e_k) for the k-th unit tensor e_k, computed with cpu's forward convolutions (which
// do honour dilations). The wasm kernels are called directly with dilations in their attrs.

type Shape4 = [number, number, number, number];

before(async () => {
  await setBackend('cpu');
  await setBackend('wasm');
});

function seeded(size: number, seed: number): number[] {
  const values: number[] = [];
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values.push(state / 2 ** 31 - 1);
  }
  return values;
}

/** Σ dy · forward(e_k) for every k in a tensor of `shape`: the definition of the adjoint. */
function adjointByDefinition(
  shape: number[],
  dy: number[],
  forward: (unit: tf.Tensor4D) => tf.Tensor,
): number[] {
  const size = tf.util.sizeFromShape(shape);
  const result: number[] = [];
  for (let k = 0; k < size; k++) {
    const unit = new Array<number>(size).fill(0);
    unit[k] = 1;
    result.push(
      tf.tidy(() => {
        const y = forward(tf.tensor4d(unit, shape as Shape4));
        return tf.sum(tf.mul(y, tf.tensor(dy, y.shape))).dataSync()[0];
      }),
    );
  }
  return result;
}

function shapeOf(compute: () => tf.Tensor): number[] {
  const out = tf.tidy(compute);
  out.dispose();
  return out.shape;
}

async function runOnWasm(
  kernel: string,
  makeInputs: () => Record<string, tf.Tensor>,
  attrs: object,
): Promise<{ values: number[]; shape: number[] }> {
  await tf.setBackend('wasm');
  const out = tf.tidy(
    () => tf.engine().runKernel(kernel, makeInputs(), attrs as tf.NamedAttrMap) as tf.Tensor,
  );
  const values = Array.from(out.dataSync());
  out.dispose();
  return { values, shape: out.shape };
}

const cases: Array<{
  x: Shape4;
  filter: Shape4;
  strides: number;
  dilations: [number, number];
  pad: 'same' | 'valid';
}> = [
  { x: [2, 7, 8, 2], filter: [3, 3, 2, 2], strides: 1, dilations: [2, 2], pad: 'same' },
  { x: [1, 9, 7, 2], filter: [2, 3, 2, 1], strides: 1, dilations: [3, 2], pad: 'valid' },
];

for (const c of cases) {
  const label = `x ${c.x}, filter ${c.filter}, dilations ${c.dilations}, pad ${c.pad}`;
  const conv = (x: tf.Tensor4D, w: tf.Tensor4D) =>
    tf.conv2d(x, w, c.strides, c.pad, 'NHWC', c.dilations);
  const depthwise = (x: tf.Tensor4D, w: tf.Tensor4D) =>
    tf.depthwiseConv2d(x, w, c.strides, c.pad, 'NHWC', c.dilations);
  const xValues = seeded(tf.util.sizeFromShape(c.x), 1);
  const wValues = seeded(tf.util.sizeFromShape(c.filter), 2);

  test(`Conv2DBackpropFilter honours dilations: ${label}`, async () => {
    await tf.setBackend('cpu');
    const x = tf.tensor4d(xValues, c.x);
    const outShape = shapeOf(() => conv(x, tf.zeros(c.filter)));
    const dy = seeded(tf.util.sizeFromShape(outShape), 3);
    const expected = adjointByDefinition(c.filter, dy, (unit) => conv(x, unit));
    x.dispose();
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations };
    const actual = await runOnWasm(
      'Conv2DBackpropFilter',
      () => ({ x: tf.tensor4d(xValues, c.x), dy: tf.tensor(dy, outShape) }),
      { ...attrs, filterShape: c.filter },
    );
    assert.deepEqual(actual.shape, c.filter);
    assertArrayClose(actual.values, expected, { rtol: 1e-4, atol: 1e-5 }, 'dW');
  });

  test(`depthwise backprop kernels honour dilations: ${label}`, async () => {
    await tf.setBackend('cpu');
    const x = tf.tensor4d(xValues, c.x);
    const w = tf.tensor4d(wValues, c.filter);
    const outShape = shapeOf(() => depthwise(x, w));
    const dy = seeded(tf.util.sizeFromShape(outShape), 4);
    const expectedDw = adjointByDefinition(c.filter, dy, (unit) => depthwise(x, unit));
    const expectedDx = adjointByDefinition(c.x, dy, (unit) => depthwise(unit, w));
    tf.dispose([x, w]);
    const attrs = { strides: c.strides, pad: c.pad, dilations: c.dilations };
    const dw = await runOnWasm(
      'DepthwiseConv2dNativeBackpropFilter',
      () => ({ x: tf.tensor4d(xValues, c.x), dy: tf.tensor(dy, outShape) }),
      { ...attrs, filterShape: c.filter },
    );
    const dx = await runOnWasm(
      'DepthwiseConv2dNativeBackpropInput',
      () => ({ dy: tf.tensor(dy, outShape), filter: tf.tensor4d(wValues, c.filter) }),
      { ...attrs, inputShape: c.x },
    );
    assert.deepEqual(dw.shape, c.filter);
    assert.deepEqual(dx.shape, c.x);
    assertArrayClose(dw.values, expectedDw, { rtol: 1e-4, atol: 1e-5 }, 'depthwise dW');
    assertArrayClose(dx.values, expectedDx, { rtol: 1e-4, atol: 1e-5 }, 'depthwise dx');
  });
}

test('Conv2DBackpropInput (the faster replacement) honours dilations', async () => {
  const c = cases[0];
  await tf.setBackend('cpu');
  const w = tf.tensor4d(seeded(tf.util.sizeFromShape(c.filter), 2), c.filter);
  const conv = (x: tf.Tensor4D) => tf.conv2d(x, w, c.strides, c.pad, 'NHWC', c.dilations);
  const outShape = shapeOf(() => conv(tf.zeros(c.x)));
  const dy = seeded(tf.util.sizeFromShape(outShape), 5);
  const expected = adjointByDefinition(c.x, dy, conv);
  const filterValues = Array.from(w.dataSync());
  w.dispose();
  const actual = await runOnWasm(
    'Conv2DBackpropInput',
    () => ({ dy: tf.tensor(dy, outShape), filter: tf.tensor4d(filterValues, c.filter) }),
    { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations, inputShape: c.x },
  );
  assert.deepEqual(actual.shape, c.x);
  assertArrayClose(actual.values, expected, { rtol: 1e-4, atol: 1e-5 }, 'dx');
});
