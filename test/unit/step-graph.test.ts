// The compiled step (src/engine/native/step-graph.ts and what it builds on: graph-def.ts,
// op-trace.ts, compiled-graph.ts). Reference: the same native step with stepGraph off, which runs
// every op eagerly and is itself held to the generic tfjs step in native-step.test.ts. Runs on
// the native TensorFlow backend, the only one the native step exists for.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/engine/backend/select';
import { loadMnist } from '../../src/engine/data/mnist';
import { Batch, reshapeDataset, shuffleDataset, sliceBatch, splitDataset } from '../../src/engine/data/dataset';
import { buildBuiltinModel, BuiltinModelName, NormKind } from '../../src/engine/models/builtin';
import { CompiledGraph } from '../../src/engine/native/compiled-graph';
import { NativeStep } from '../../src/engine/native/native-step';
import { OpTrace } from '../../src/engine/native/op-trace';
import { StepGraph } from '../../src/engine/native/step-graph';
import { maxPoolAttrs } from '../../src/engine/native/process-kernels';
import { NativeOps } from '../../src/engine/native/tf-native';
import { stepModelOf } from '../../src/engine/train/batch-gradients';
import { train } from '../../src/engine/train/trainer';
import type { StartEvent, TrainEvent } from '../../src/shared/train-events';

const mnist = shuffleDataset(loadMnist({ limit: 300 }), 11);

before(async () => {
  await setBackend('tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
});

const opsOrFail = (): NativeOps => {
  const ops = NativeOps.forActiveBackend();
  if (!ops) throw new Error('no native ops on this backend');
  return ops;
};

const graphDirs = () => fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('batchless-graph-')).length;
const savedModels = () => (tf.backend() as unknown as { binding: { getNumOfSavedModels(): number } }).binding.getNumOfSavedModels();

function nativeStep(model: tf.LayersModel, stepGraph: boolean): NativeStep {
  const native = NativeStep.compile(stepModelOf(model, model.inputs[0].shape.slice(1) as number[], 10), { optimizer: 'adam', learningRate: 1e-3, statsLearningRate: 0, stepGraph });
  if (!(native instanceof NativeStep)) throw new Error(`no native step: ${native.reason}`);
  return native;
}

function batchOf(model: tf.LayersModel, from: number, size: number): Batch {
  return sliceBatch(reshapeDataset(mnist, model.inputs[0].shape.slice(1) as number[]), from, from + size);
}

/** Largest |a − b| over every element of every tensor of the two maps, relative to b's largest magnitude per tensor. */
function worstRelative(a: tf.NamedTensorMap, b: tf.NamedTensorMap): number {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  let worst = 0;
  for (const name of Object.keys(b)) {
    const [x, y] = [a[name].dataSync(), b[name].dataSync()];
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < y.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(y[i]));
    }
    assert.ok(scale > 0, `${name}: not all zero`);
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

describe('graphs written here', () => {
  test('run in TensorFlow with the results of the same ops run one by one', () => {
    const ops = opsOrFail();
    const dirs = graphDirs();
    const models = savedModels();
    ops.scope(() => {
      const x = ops.constant(Float32Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.sin(i)), [2, 6, 6, 3]);
      const kernel = ops.constant(Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)), [3, 3, 3, 4]);
      const feeds = [x, kernel];
      const trace = new OpTrace(ops, feeds);
      // Attributes of every kind the native layers use: type, int list, string, bool, float, int.
      const outputs = ops.traced(trace, () => {
        const conv = ops.run('Conv2D', [ops.float32(), ops.int('strides', [1, 1, 1, 1]), ops.string('padding', 'SAME'), ops.string('data_format', 'NHWC'), ops.bool('use_cudnn_on_gpu', true), ops.int('dilations', [1, 1, 1, 1])], [x, kernel])[0];
        const pooled = ops.run('MaxPool', maxPoolAttrs(ops, [2, 2], [2, 2], 'VALID', false), [conv])[0];
        const scaled = ops.unary('Mul', pooled, ops.scalar(0.25));
        const sums = ops.run('Sum', [ops.float32(), ops.int32('Tidx'), ops.bool('keep_dims', false)], [scaled, ops.ints([0, 1, 2])])[0];
        const leaky = ops.run('LeakyRelu', [ops.float32(), ops.float('alpha', 0.3)], [sums])[0];
        return [ops.run('Pack', [ops.float32(), ops.int('N', 2), ops.int('axis', 0)], [leaky, sums])[0], scaled];
      });
      const graph = CompiledGraph.load(ops, trace.finish(outputs));
      try {
        assert.equal(savedModels(), models + 1, 'one session open');
        const fromGraph = graph.run(feeds);
        assert.deepEqual(fromGraph.map((t) => t.shape), outputs.map((t) => t.shape));
        fromGraph.forEach((t, i) => assert.deepEqual(Array.from(ops.read(t)), Array.from(ops.read(outputs[i])), `output ${i}`));
        // New values through the same graph: it computes, it does not replay.
        const other = ops.constant(Float32Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.cos(3 * i)), [2, 6, 6, 3]);
        const again = graph.run([other, kernel])[1];
        assert.notDeepEqual(Array.from(ops.read(again)), Array.from(ops.read(fromGraph[1])));
      } finally {
        graph.dispose();
      }
    });
    assert.equal(savedModels(), models, 'the session is closed');
    assert.equal(graphDirs(), dirs, 'no temporary folder left behind');
  });

  test('a boundary makes everything after it wait for everything before it, and the graph still computes the same', () => {
    const ops = opsOrFail();
    ops.scope(() => {
      const a = ops.constant(new Float32Array([1, 2, 3]), [3]);
      const trace = new OpTrace(ops, [a]);
      const outputs = ops.traced(trace, () => {
        const before = ops.unary('Mul', a, ops.scalar(2));
        const total = ops.run('Sum', [ops.float32(), ops.int32('Tidx'), ops.bool('keep_dims', false)], [before, ops.ints([0])])[0];
        ops.traceBoundary();
        const after = ops.unary('Mul', a, ops.scalar(3)); // independent of `before`: only the boundary orders it
        return [ops.unary('AddV2', after, total)];
      });
      const graph = trace.finish(outputs);
      const ops_ = graph.nodes.filter((n) => n.name.startsWith('op'));
      const boundary = graph.nodes.find((n) => n.op === 'NoOp');
      assert.ok(boundary, 'a NoOp marks the boundary');
      assert.deepEqual(boundary.inputs, [`^${ops_[0].name}`, `^${ops_[1].name}`], 'it waits for both ops before it');
      assert.deepEqual(ops_[2].inputs.slice(-1), [`^${boundary.name}`], 'the first op after it waits for it');
      assert.ok(!ops_[3].inputs.some((i) => i.startsWith('^')), 'an op fed by one after the boundary needs no extra edge');
      const compiled = CompiledGraph.load(ops, graph);
      try {
        assert.deepEqual(Array.from(ops.read(compiled.run([a])[0])), [15, 18, 21]);
      } finally {
        compiled.dispose();
      }
    });
  });

  test("a graph over the node limit is not compiled, with why; the traced step's results still count", () => {
    const ops = opsOrFail();
    const models = savedModels();
    ops.scope(() => {
      const a = ops.constant(new Float32Array([1, 2, 3]), [3]);
      const compute = () => {
        let x = a;
        for (let i = 0; i < 10; i++) x = ops.unary('Mul', x, ops.scalar(2));
        return { grads: new Map([['w', x]]), packed: ops.unary('AddV2', x, ops.scalar(1)), layout: [], moving: [] };
      };
      const refused = StepGraph.trace(ops, [a], compute, 8);
      assert.ok('reason' in refused.graph);
      assert.match(refused.graph.reason, /could not be compiled into a TensorFlow graph: \d+ nodes, more than the 8 compiled before a first step/);
      assert.deepEqual(Array.from(ops.read(refused.totals.packed)), [1025, 2049, 3073]);
      const compiled = StepGraph.trace(ops, [a], compute);
      assert.ok(compiled.graph instanceof StepGraph, 'under the default limit it compiles');
      compiled.graph.dispose();
      // A step that makes a tensor from host values mid-way cannot be a graph: it runs op by op.
      const hostValues = () => ({ ...compute(), packed: ops.unary('AddV2', compute().packed, ops.constant(new Float32Array([1, 1, 1]), [3])) });
      const refusedHost = StepGraph.trace(ops, [a], hostValues);
      assert.ok('reason' in refusedHost.graph);
      assert.match(refusedHost.graph.reason, /tensor made from host values inside a traced computation/);
      assert.deepEqual(Array.from(ops.read(refusedHost.totals.packed)), [1026, 2050, 3074]);
    });
    assert.equal(savedModels(), models);
  });

  test('a trace refuses what a graph would freeze: host values, variable reads, tensors from outside', () => {
    const ops = opsOrFail();
    ops.scope(() => {
      const fed = ops.constant(new Float32Array([1, 2]), [2]);
      const outside = ops.constant(new Float32Array([3, 4]), [2]);
      const trace = () => new OpTrace(ops, [fed]);
      assert.throws(() => ops.traced(trace(), () => ops.constant(new Float32Array([5]), [1])), /host values inside a traced computation/);
      const variable = ops.variable(fed);
      try {
        assert.throws(() => ops.traced(trace(), () => ops.readVariable(variable)), /variable read inside a traced computation/);
      } finally {
        ops.destroyVariable(variable);
      }
      assert.throws(() => ops.traced(trace(), () => ops.unary('AddV2', fed, outside)), /neither fed, made by a traced op, nor a fixed constant/);
      // Fixed constants are fine: they become Const nodes.
      assert.doesNotThrow(() => ops.traced(trace(), () => ops.unary('AddV2', fed, ops.scalar(1))));
      assert.throws(() => new OpTrace(ops, [fed, fed]), /fed twice/);
    });
  });
});

describe('a step on its compiled graph', () => {
  const cases: [BuiltinModelName, NormKind, number][] = [
    ['mlp', 'batchless', 24],
    ['mlp', 'batch', 24],
    ['cnn', 'batchless', 24],
    ['cnn', 'batch', 24],
    ['mlp', 'batchless', 5],
    ['cnn', 'batchless', 1],
    ['cnn', 'batch', 7],
  ];
  for (const [name, norm, micro] of cases) {
    test(`${name}, ${norm}, micro-batches of ${micro}: the same gradients and losses as op by op`, () => {
      const model = buildBuiltinModel(name, { norm, seed: 3 });
      const [onGraph, opByOp] = [nativeStep(model, true), nativeStep(model, false)];
      const runGraph = NativeOps.prototype.runGraph;
      let graphRuns = 0;
      NativeOps.prototype.runGraph = function (...args) {
        graphRuns++;
        return runGraph.apply(this, args);
      };
      try {
        const plan = onGraph.prepareGraph(24, micro);
        assert.equal(plan.compiled, true, plan.reason);
        assert.match(plan.reason, /\d+ nodes/);
        for (const from of [0, 24]) {
          const batch = batchOf(model, from, 24);
          const a = onGraph.gradientsAsTfjs(batch, micro);
          const b = opByOp.gradientsAsTfjs(batch, micro);
          try {
            assert.ok(worstRelative(a.grads, b.grads) <= 1e-6, `${worstRelative(a.grads, b.grads)} apart`);
            assert.deepEqual(Array.from(a.lossParts.dataSync()), Array.from(b.lossParts.dataSync()));
          } finally {
            tf.dispose([a.grads, a.lossParts, b.grads, b.lossParts]);
          }
        }
        // One run to check the graph when it was compiled, then one per batch: the graph computed them.
        assert.equal(graphRuns, 3);
      } finally {
        NativeOps.prototype.runGraph = runGraph;
        onGraph.dispose();
        opByOp.dispose();
        model.dispose();
      }
    });
  }

  test('reports the working memory of the same ops run one by one, and leaves no tensor or session behind', () => {
    const model = buildBuiltinModel('cnn', { seed: 3 });
    const ops = opsOrFail();
    const models = savedModels();
    const [onGraph, opByOp] = [nativeStep(model, true), nativeStep(model, false)];
    try {
      assert.equal(onGraph.prepareGraph(16, 16).compiled, true);
      const batch = batchOf(model, 0, 16);
      const [a, b] = [onGraph.run(batch, 16), opByOp.run(batch, 16)];
      assert.ok(a.applied && b.applied);
      assert.ok(a.peakStepBytes > 0);
      assert.ok(Math.abs(a.peakStepBytes - b.peakStepBytes) <= 0.01 * b.peakStepBytes, `${a.peakStepBytes} against ${b.peakStepBytes} bytes`);
      assert.deepEqual(Array.from(a.values), Array.from(b.values));
    } finally {
      onGraph.dispose();
      opByOp.dispose();
      model.dispose();
    }
    assert.equal(savedModels(), models, "dispose closes the step's sessions");
    assert.equal(ops.liveBytes, 0, 'no native tensor left in the scopes');
  });

  test('says why there is no graph: too many micro-batches, turned off, or TensorFlow refusing it (the step then runs op by op)', () => {
    const model = buildBuiltinModel('mlp', { seed: 3 });
    const steps = [nativeStep(model, true), nativeStep(model, false), nativeStep(model, true), nativeStep(model, false)];
    const original = NativeOps.prototype.loadGraph;
    try {
      assert.equal(steps[0].prepareGraph(130, 2).compiled, false);
      assert.match(steps[0].prepareGraph(130, 2).reason, /65 micro-batches per step/);
      assert.equal(steps[0].prepareGraph(128, 2).compiled, true, '64 are compiled');
      assert.match(steps[1].prepareGraph(16, 16).reason, /turned off/);
      NativeOps.prototype.loadGraph = () => {
        throw new Error('Failed to load SavedModel: simulated');
      };
      const refused = steps[2].prepareGraph(16, 16);
      assert.equal(refused.compiled, false);
      assert.match(refused.reason, /could not be compiled into a TensorFlow graph: Failed to load SavedModel: simulated/);
      NativeOps.prototype.loadGraph = original;
      const batch = batchOf(model, 0, 16);
      const [a, b] = [steps[2].run(batch, 16), steps[3].run(batch, 16)];
      assert.deepEqual(Array.from(a.values), Array.from(b.values), 'the refused step ran op by op, as one without a graph');
    } finally {
      NativeOps.prototype.loadGraph = original;
      for (const step of steps) step.dispose();
      model.dispose();
    }
  });
});

describe('in the trainer', () => {
  const data = splitDataset(mnist, { trainCount: 240 });
  const startOf = (events: TrainEvent[]) => events.find((e): e is StartEvent => e.type === 'start')!;
  const session = async (name: BuiltinModelName, config: { stepGraph: boolean; microBatchSize?: number; stepThreads?: number }) => {
    const model = buildBuiltinModel(name, { seed: 2 });
    const events: TrainEvent[] = [];
    const summary = await train(model, data, { batchSize: 16, maxSteps: 5, initSamples: 64, seed: 4, statsEvery: 2, ...config }, { onEvent: (e) => events.push(e) });
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    return { summary, start: startOf(events), weights };
  };

  test('a session on the graph trains to the weights of one op by op, and its start event says which ran', async () => {
    for (const name of ['mlp', 'cnn'] as const) {
      // Op by op on one thread too: by default a batchless CNN would be spread over step threads.
      const [graph, eager] = [await session(name, { stepGraph: true }), await session(name, { stepGraph: false, stepThreads: 1 })];
      assert.equal(graph.summary.stopped, 'completed');
      assert.deepEqual([graph.start.stepGraph, eager.start.stepGraph], [true, false]);
      assert.match(graph.start.stepGraphReason ?? '', /nodes/);
      assert.match(eager.start.stepGraphReason ?? '', /turned off/);
      assert.equal(graph.start.stepThreads, 1, graph.start.stepThreadsReason);
      let worst = 0;
      graph.weights.forEach((w, i) => w.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - eager.weights[i][k])))));
      assert.ok(worst <= 1e-6, `${name}: weights ${worst} apart`);
    }
    const [micro, microEager] = [await session('cnn', { stepGraph: true, microBatchSize: 5 }), await session('cnn', { stepGraph: false, microBatchSize: 5, stepThreads: 1 })];
    assert.equal(micro.start.stepGraph, true, micro.start.stepGraphReason);
    let worst = 0;
    micro.weights.forEach((w, i) => w.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - microEager.weights[i][k])))));
    assert.ok(worst <= 1e-6, `micro-batches of 5: weights ${worst} apart`);
  });
});
