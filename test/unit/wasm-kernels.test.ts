import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/engine/backend/select';
import {
  missingWasmTrainingKernels,
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from '../../src/engine/backend/wasm-kernels';
import { assertArrayClose } from './helpers/tensors';

// Reference: tfjs-backend-cpu 4.22, whose gradient kernels are plain loops over the definitions
// and are what tfjs's own gradient tests check against. Each case builds the same inputs on both
// backends from a seeded generator and compares every gradient to 1e-4 of the reference's scale.

type Shape4 = [number, number, number, number];
type Padding = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

const missingBeforeRegistration = missingWasmTrainingKernels();

before(async () => {
  await setBackend('cpu');
  await setBackend('wasm');
});

/** Deterministic values in [-1, 1): the same on every backend and every run. */
function seeded(size: number, seed: number): Float32Array {
  const values = new Float32Array(size);
  let state = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seeded(tf.util.sizeFromShape(shape), seed), shape);
}

/** A scalar loss whose upstream gradient differs per output element (a plain sum would not). */
function weightedSum(y: tf.Tensor): tf.Scalar {
  return tf.sum(tf.mul(y, randomTensor(y.shape, 99)));
}

interface Computed {
  shape: number[];
  values: Float32Array;
}

async function computeOn(backend: 'wasm' | 'cpu', run: () => tf.Tensor[]): Promise<Computed[]> {
  await tf.setBackend(backend);
  const outputs = tf.tidy(run);
  const computed = outputs.map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
  tf.dispose(outputs);
  return computed;
}

async function assertWasmMatchesCpu(what: string, run: () => tf.Tensor[]): Promise<void> {
  const wasm = await computeOn('wasm', run);
  const cpu = await computeOn('cpu', run);
  assert.equal(wasm.length, cpu.length);
  cpu.forEach((expected, i) => {
    assert.deepEqual(wasm[i].shape, expected.shape, `${what} #${i}: shape`);
    const scale = Math.max(...expected.values.map(Math.abs));
    assert.ok(scale > 0, `${what} #${i}: the reference is all zeros, the case tests nothing`);
    assertArrayClose(wasm[i].values, expected.values, { rtol: 1e-4, atol: 1e-4 * scale }, what);
  });
}

test('wasm lacks exactly the four training kernels until they are registered, once', () => {
  assert.deepEqual([...missingBeforeRegistration].sort(), [...WASM_TRAINING_KERNELS].sort());
  assert.equal(WASM_TRAINING_KERNELS.length, 4);
  assert.deepEqual(missingWasmTrainingKernels(), []);
  assert.deepEqual(registerWasmTrainingKernels(), [], 'a second registration adds nothing');
});

const convCases: Array<{
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Padding;
}> = [
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'same' },
  { x: [1, 8, 7, 2], filter: [4, 4, 2, 3], strides: 2, pad: 'same' },
  { x: [3, 11, 10, 2], filter: [5, 3, 2, 2], strides: [2, 3], pad: 'valid' },
  {
    x: [2, 6, 5, 2],
    filter: [3, 2, 2, 3],
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { x: [2, 9, 9, 4], filter: [1, 1, 4, 5], strides: 2, pad: 'valid' },
  { x: [1, 5, 5, 1], filter: [5, 5, 1, 1], strides: 3, pad: 'same' },
  { x: [2, 6, 7, 2], filter: [3, 3, 2, 2], strides: 2, pad: 1 },
];

for (const c of convCases) {
  test(`conv2d gradients match cpu: x ${c.x}, filter ${c.filter}, strides ${c.strides}, pad ${JSON.stringify(c.pad)}`, async () => {
    await assertWasmMatchesCpu('conv2d [dx, dW]', () => {
      const loss = (x: tf.Tensor, w: tf.Tensor) =>
        weightedSum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad));
      return tf.grads(loss)([randomTensor(c.x, 1), randomTensor(c.filter, 2)]);
    });
  });
}

const depthwiseCases: Array<{
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Padding;
}> = [
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 1], strides: 1, pad: 'same' },
  { x: [2, 7, 9, 2], filter: [3, 3, 2, 2], strides: 2, pad: 'same' },
  { x: [3, 10, 11, 2], filter: [4, 3, 2, 3], strides: [2, 3], pad: 'valid' },
  { x: [1, 8, 8, 4], filter: [2, 2, 4, 1], strides: 2, pad: 'same' },
  {
    x: [2, 6, 5, 2],
    filter: [3, 2, 2, 2],
    strides: 2,
    pad: [
      [0, 0],
      [2, 0],
      [1, 1],
      [0, 0],
    ],
  },
];

for (const c of depthwiseCases) {
  test(`depthwiseConv2d gradients match cpu: x ${c.x}, filter ${c.filter}, strides ${c.strides}, pad ${JSON.stringify(c.pad)}`, async () => {
    await assertWasmMatchesCpu('depthwiseConv2d [dx, dW]', () => {
      const loss = (x: tf.Tensor, w: tf.Tensor) =>
        weightedSum(tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad));
      return tf.grads(loss)([randomTensor(c.x, 3), randomTensor(c.filter, 4)]);
    });
  });
}

test('unsortedSegmentSum matches cpu, dropping negative and out-of-range ids', async () => {
  await assertWasmMatchesCpu('unsortedSegmentSum', () => [
    tf.unsortedSegmentSum(randomTensor([6, 3], 5), tf.tensor1d([0, 2, 0, -1, 2, 4], 'int32'), 4),
    tf.unsortedSegmentSum(randomTensor([5, 2, 3], 6), tf.tensor1d([1, 1, 0, 1, 2], 'int32'), 3),
  ]);
});

test('unsortedSegmentSum sums int32 values by the definition', async () => {
  await tf.setBackend('wasm');
  const sums = tf.tidy(() =>
    tf.unsortedSegmentSum(
      tf.tensor2d(
        [
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
        ],
        [4, 2],
        'int32',
      ),
      tf.tensor1d([2, 0, 2, -1], 'int32'),
      3,
    ),
  );
  assert.equal(sums.dtype, 'int32');
  assert.deepEqual(sums.arraySync(), [
    [3, 4],
    [0, 0],
    [6, 8],
  ]);
  sums.dispose();
});

test('gather gradient (embedding lookup, repeated indices) matches cpu', async () => {
  await assertWasmMatchesCpu('gather dParams', () => {
    const indices = tf.tensor1d([0, 3, 3, 1, 0, 4, 3], 'int32');
    const loss = (params: tf.Tensor) => weightedSum(tf.gather(params, indices));
    return [tf.grad(loss)(randomTensor([5, 4], 7))];
  });
});

/** conv2d + depthwiseConv2d + dense, with seeded weights so both backends hold the same model. */
function buildModel(): tf.Sequential {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [9, 9, 2],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tf.layers.depthwiseConv2d({
        kernelSize: 3,
        depthMultiplier: 2,
        strides: 2,
        padding: 'same',
        activation: 'tanh',
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  });
  const weights = model.getWeights().map((w, i) => randomTensor(w.shape, 100 + i));
  model.setWeights(weights);
  tf.dispose(weights);
  return model;
}

test('a small CNN (conv2d, depthwiseConv2d, dense) has the same full gradient as on cpu', async () => {
  const models: tf.Sequential[] = [];
  await assertWasmMatchesCpu('CNN [loss, ...grads]', () => {
    const model = buildModel();
    models.push(model);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = randomTensor([4, 9, 9, 2], 8);
    const labels = tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3);
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.apply(x, { training: true }) as tf.Tensor;
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    }, variables);
    assert.equal(Object.keys(grads).length, 6, 'kernel and bias of each of the three layers');
    return [value, ...variables.map((v) => grads[v.name])];
  });
  models.forEach((m) => m.dispose());
});

test('the wasm kernels leak neither tensors nor backend data ids', async () => {
  await tf.setBackend('wasm');
  const backend = tf.backend();
  // Kernel intermediates are raw data ids, invisible to numTensors: count both.
  const count = () => ({ tensors: tf.memory().numTensors, dataIds: backend.numDataIds() });
  const start = count();
  for (let round = 0; round < 3; round++) {
    tf.tidy(() => {
      const x = randomTensor([2, 7, 9, 3], 1);
      tf.grads((a: tf.Tensor, w: tf.Tensor) =>
        weightedSum(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, 'same')),
      )([x, randomTensor([3, 3, 3, 2], 2)]);
      tf.grads((a: tf.Tensor, w: tf.Tensor) =>
        weightedSum(tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, 'same')),
      )([x, randomTensor([3, 3, 3, 2], 4)]);
      tf.grad((p: tf.Tensor) => weightedSum(tf.gather(p, tf.tensor1d([0, 1, 1], 'int32'))))(
        randomTensor([3, 2], 7),
      );
    });
    assert.deepEqual(count(), start, `after round ${round}`);
  }
});
