import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/dataset';
import type { StepModel } from '../train/batch-gradients';
import type { OptimizerName } from '../train/config';
import { compileLayers } from './compile-layers';
import { MicroBatchInputs, microBatchGradients, microBatchInputs } from './micro-batch';
import { BatchlessHost, LayerValues, LayerWeight, NativeLayer, batchlessConstants } from './native-layers';
import { HostOptimizer } from './host-optimizer';
import { HostShare, ShareHelpers, ShareRequest, splitBatch } from './step-shares';
import { BatchlessPrepared, Completion, completeOnHost } from './host-completion';
import { NativeOptimizer } from './native-optimizer';
import { PackedTotals, packForHost } from './pack-for-host';
import { ShareTotals, addHostShare, addTotals } from './share-totals';
import { MAX_GRAPH_MICRO_BATCHES, StepGraph, graphFeeds, graphKey, microBatchRanges, syntheticBatch } from './step-graph';
import { VariableSlot, createSlots, keptOnHost } from './variable-slots';
import { Native, NativeOps } from './tf-native';

export interface NativeStepOptions {
  optimizer: OptimizerName;
  learningRate: number;
  /** 0: the same as learningRate. */
  statsLearningRate: number;
  /** Run each step of up to 64 micro-batches as one compiled TensorFlow graph (step-graph.ts); default true. */
  stepGraph?: boolean;
}

/** What a step's graph plan is: the start event reports it. */
export interface GraphPlan {
  compiled: boolean;
  reason: string;
}

/** A batch's gradients on the device, what to read, and how to finish on the host. */
interface Finished extends Pick<PackedTotals, 'grads' | 'packed' | 'vectors'> {
  complete: Completion;
}

export interface NativeStepResult {
  /** [task loss, NLL of each batchless layer, Σ of every gradient element], as batchGradients' caller reads them. */
  values: Float32Array;
  /** False when any value was not finite: the update was not applied. */
  applied: boolean;
  /** Most tensor bytes the step held at once beyond those alive before it (weights and optimizer state are not step memory). */
  peakStepBytes: number;
}

/**
 * A training step on the tensorflow backend with the model's weights in TensorFlow resource
 * variables (normalization layers' per-channel values on the host, see keptOnHost), the forward
 * and backward written out per layer (native-layers.ts), gradients accumulated over micro-batches
 * exactly as batchGradients does, the NLL's μ/σ gradients from the accumulated per-channel sums,
 * and the optimizer as one fused op per variable (host-optimizer.ts for the host-kept values).
 * The tfjs model sees the trained values after `syncToModel()`.
 */
export class NativeStep {
  private constructor(
    private readonly ops: NativeOps,
    private readonly step: StepModel,
    private readonly layers: NativeLayer[],
    private readonly slots: Map<LayerWeight['variable'], VariableSlot>,
    private readonly optimizer: NativeOptimizer,
    private readonly hostOptimizer: HostOptimizer,
    private readonly compileGraphs: boolean,
  ) {}

  /** By batch and micro-batch size: the step's compiled graph, or why it runs op by op. */
  private readonly graphs = new Map<string, StepGraph | { reason: string }>();

  /** The native step for this model, or why there is none (the trainer then takes the generic path). */
  static compile(step: StepModel, options: NativeStepOptions): NativeStep | { reason: string } {
    const ops = NativeOps.forActiveBackend();
    if (!ops) return { reason: `the active backend is '${tf.getBackend()}'` };
    const compiled = compileLayers(step.model);
    if ('reason' in compiled) return compiled;
    const covered = new Set(compiled.layers.flatMap((l) => l.weights.map((w) => w.variable.name)));
    const missing = step.variables.find((v) => !covered.has(v.name));
    if (missing) return { reason: `variable '${missing.name}' is outside the layers the native step runs` };
    const statsNames = new Set(step.batchless.flatMap((l) => l.statisticsVariables().map((v) => v.name)));
    const statsRate = options.statsLearningRate > 0 ? options.statsLearningRate : options.learningRate;
    const slots = createSlots(ops, compiled.layers, (name) => (statsNames.has(name) ? statsRate : options.learningRate));
    const epsilon = tf.backend().epsilon();
    return new NativeStep(ops, step, compiled.layers, slots, new NativeOptimizer(ops, options.optimizer, epsilon), new HostOptimizer(options.optimizer, epsilon), options.stepGraph !== false);
  }

  /** One optimizer step over `batch` in micro-batches; the update is skipped when a value is not finite. */
  run(batch: Batch, microBatchSize: number): NativeStepResult {
    const ops = this.ops;
    ops.resetPeak();
    const before = ops.liveBytes;
    return ops.scope(() => {
      // In a scope of its own, so the step's reads of the weights are gone before the update:
      // a variable still read elsewhere is copied before TensorFlow updates it in place.
      const finished = ops.scope(() => this.gradients(batch, microBatchSize));
      return this.conclude(finished, ops.peakBytes - before);
    });
  }

  /** Reads what `finish` packed, and applies the update unless a value is not finite. */
  private conclude(finished: Finished, peakStepBytes: number): NativeStepResult {
    const ops = this.ops;
    const scalars = ops.read(finished.packed);
    const { values, hostGrads, applyMovingUpdates } = finished.complete(scalars, finished.vectors ? ops.read(finished.vectors) : new Float32Array(0));
    // As in tfjs, where the forward pass moves them, BN's moving averages move whatever follows.
    applyMovingUpdates();
    // values' last element sums every gradient, device and host: non-finite when any element is.
    const applied = scalars.every(Number.isFinite) && values.every(Number.isFinite);
    if (applied) this.apply(finished.grads, hostGrads);
    return { values, applied, peakStepBytes };
  }

  private apply(grads: Map<string, Native>, hostGrads: Map<string, Float32Array>): void {
    const slots = [...this.slots.values()].filter((s) => s.trainable);
    this.optimizer.apply(slots.filter((s) => s.native && grads.has(s.name)).map((s) => ({ variable: s.native!, grad: grads.get(s.name)!, learningRate: s.learningRate })));
    this.hostOptimizer.apply(slots.filter((s) => s.host && hostGrads.has(s.name)).map((s) => ({ key: s.name, values: s.host!, grad: hostGrads.get(s.name)!, learningRate: s.learningRate })));
  }

  /**
   * `run` with the batch split in contiguous shares (splitBatch): this thread computes the first
   * while `helpers` compute the others from the same weights, and their sums are added here before
   * the NLL's gradients, the health read and the update. Exact: every sum is a sum over instances.
   */
  async runShared(batch: Batch, microBatchSize: number, helpers: ShareHelpers): Promise<NativeStepResult> {
    const ranges = splitBatch(batch.size, microBatchSize, 1 + helpers.count);
    if (ranges.some(([start, end]) => start === end)) return this.run(batch, microBatchSize);
    const ops = this.ops;
    ops.resetPeak();
    const before = ops.liveBytes;
    const { helperBytes, ...finished } = await ops.scopeAsync(async () => {
      const read = this.readWeights();
      const prepared = this.layerValues(read, (slot) => slot.host!);
      const layerWeights = prepared.values;
      const weights = [...this.slots.values()].map((slot) => (slot.native ? ops.read(read.get(slot.tfjs)!) : slot.host!.slice()));
      const per = this.perExample();
      const pending = helpers.compute(
        ranges.slice(1).map(([start, end]) => ({
          x: batch.x.slice(start * per, end * per),
          y: batch.y.slice(start, end),
          batchSize: batch.size,
          microBatchSize,
          weights,
        })),
      );
      // Settled either way before this scope ends, so a failed share never leaves a rejection behind.
      const shares = pending.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      const [start, end] = ranges[0];
      const totals = this.shareTotals(batch.x.subarray(start * per, end * per), batch.y.subarray(start, end), batch.size, microBatchSize, layerWeights);
      const settled = await shares;
      if ('error' in settled) throw settled.error;
      for (const share of settled.value) addHostShare(ops, totals, share, [...this.slots.values()], this.layers);
      const helperBytes = settled.value.reduce((sum, share) => sum + share.peakStepBytes, 0);
      return { ...this.withCompletion(packForHost(ops, this.layers, totals), prepared.batchless, batch.size), helperBytes };
    });
    return ops.scope(() => this.conclude(finished, ops.peakBytes - before + helperBytes));
  }

  /**
   * A helper thread's part of `runShared`: the share's gradients and sums from the given weights
   * (constants, not this step's variables), as host arrays for the thread that asked.
   */
  computeShare(request: ShareRequest): HostShare {
    const ops = this.ops;
    ops.resetPeak();
    const before = ops.liveBytes;
    return ops.scope(() => {
      const slots = [...this.slots.values()];
      if (request.weights.length !== slots.length) throw new Error(`NativeStep: ${request.weights.length} weights for ${slots.length} variables`);
      const values = new Map<tf.Variable, Native>();
      const weightOf = new Map(slots.map((slot, i) => [slot, request.weights[i]]));
      for (const slot of slots) if (slot.native) values.set(slot.tfjs, ops.constant(weightOf.get(slot)!, slot.shape));
      const layerWeights = this.layerValues(values, (slot) => weightOf.get(slot)!).values;
      const totals = this.shareTotals(request.x, request.y, request.batchSize, request.microBatchSize, layerWeights);
      const share: HostShare = {
        grads: slots.map((slot) => {
          const g = totals.grads.get(slot.name);
          return g ? ops.read(g).slice() : null;
        }),
        taskSum: ops.read(totals.taskSum)[0],
        sums: this.layers.filter((l) => l.batchless).map((layer) => {
          const s = totals.sums.get(layer);
          if (!s) throw new Error(`Layer '${layer.name}' was not called in the forward pass`);
          return { first: ops.read(s.first).slice(), second: ops.read(s.second).slice(), count: s.count };
        }),
        peakStepBytes: 0,
      };
      share.peakStepBytes = ops.peakBytes - before;
      return share;
    });
  }

  /** The variables' shapes in slot order: a helper thread checks that it rebuilt the same model. */
  slotShapes(): number[][] {
    return [...this.slots.values()].map((slot) => slot.shape);
  }

  /** True when the model has a convolution (the steps worth spreading over threads, step-threads.ts). */
  get convolutional(): boolean {
    return this.layers.some((layer) => layer.kind === 'conv');
  }

  /** True when a batch may be split across threads exactly: no layer keeps batch statistics. */
  get splittable(): boolean {
    return this.layers.every((layer) => !layer.usesBatchStatistics);
  }

  /** The batch's gradients as tfjs tensors by variable name, and [task, NLL…] (for tests and messages). Caller disposes. */
  gradientsAsTfjs(batch: Batch, microBatchSize: number): { grads: tf.NamedTensorMap; lossParts: tf.Tensor1D } {
    const ops = this.ops;
    const finished = ops.scope(() => this.gradients(batch, microBatchSize));
    const { grads, packed, vectors } = finished;
    const { values, hostGrads } = finished.complete(ops.read(packed), vectors ? ops.read(vectors) : new Float32Array(0));
    ops.dispose(packed, vectors);
    const out: tf.NamedTensorMap = {};
    for (const v of this.step.variables) {
      const g = grads.get(v.name);
      const host = hostGrads.get(v.name);
      if (g) out[v.name] = ops.toTfjs(g);
      else if (host) out[v.name] = tf.tensor(host, v.shape);
    }
    ops.dispose(...[...grads].filter(([name]) => !(name in out)).map(([, g]) => g));
    const lossParts = tf.tensor1d(values.subarray(0, values.length - 1));
    return { grads: out, lossParts };
  }

  /** Copies the model's tfjs variables into the native ones (after data-driven initialization). */
  loadFromModel(): void {
    this.ops.scope(() => {
      for (const slot of this.slots.values()) {
        if (slot.native) this.ops.assign(slot.native, this.ops.fromTfjs(slot.tfjs));
        else slot.host!.set(slot.tfjs.dataSync() as Float32Array);
      }
    });
  }

  /** Bytes held between steps: the native weights and optimizer state, TensorFlow's and the host's. */
  residentBytes(): number {
    const host = [...this.slots.values()].reduce((bytes, slot) => bytes + (slot.host?.byteLength ?? 0), 0);
    return this.ops.variableBytes + host + this.hostOptimizer.stateBytes;
  }

  /** Writes the trained values into the model's tfjs variables. */
  syncToModel(): void {
    for (const slot of this.slots.values()) {
      const value = slot.native ? this.ops.toTfjs(this.ops.scope(() => this.ops.readVariable(slot.native!))) : tf.tensor(slot.host!, slot.shape);
      slot.tfjs.assign(value);
      value.dispose();
    }
  }

  dispose(): void {
    for (const graph of this.graphs.values()) if (graph instanceof StepGraph) graph.dispose();
    this.graphs.clear();
    this.optimizer.dispose();
    for (const slot of this.slots.values()) if (slot.native) this.ops.destroyVariable(slot.native);
    this.slots.clear();
    this.ops.release();
  }

  /**
   * Compiles the graph for steps of `batchSize` before the first (tracing a synthetic batch), and
   * says whether steps will run on it, or why not.
   */
  prepareGraph(batchSize: number, microBatchSize: number): GraphPlan {
    if (!this.graphable(batchSize, microBatchSize)) {
      const reason = this.compileGraphs ? `${Math.ceil(batchSize / microBatchSize)} micro-batches per step: a graph of more than ${MAX_GRAPH_MICRO_BATCHES} takes too long to compile` : 'turned off (stepGraph false)';
      return { compiled: false, reason };
    }
    const key = graphKey(batchSize, microBatchSize);
    if (!this.graphs.has(key)) {
      const synthetic = syntheticBatch(batchSize, this.perExample(), this.step.numClasses);
      this.ops.scope(() => {
        this.onGraph(synthetic, microBatchSize, this.layerValues(this.readWeights(), (slot) => slot.host!).values);
      });
    }
    const graph = this.graphs.get(key)!;
    return graph instanceof StepGraph ? { compiled: true, reason: `${graph.nodeCount} nodes, traced from the step's own ops and checked against them` } : { compiled: false, reason: graph.reason };
  }

  private gradients(batch: Batch, microBatchSize: number): Finished {
    const prepared = this.layerValues(this.readWeights(), (slot) => slot.host!);
    const device = this.graphable(batch.size, microBatchSize)
      ? this.onGraph(batch, microBatchSize, prepared.values)
      : packForHost(this.ops, this.layers, this.shareTotals(batch.x, batch.y, batch.size, microBatchSize, prepared.values));
    return this.withCompletion(device, prepared.batchless, batch.size);
  }

  /** Whether steps of these sizes run on a compiled graph (when it compiles). */
  private graphable(batchSize: number, microBatchSize: number): boolean {
    return this.compileGraphs && Math.ceil(batchSize / microBatchSize) <= MAX_GRAPH_MICRO_BATCHES;
  }

  /** A step on its compiled graph, traced at the first step of its batch and micro-batch sizes. */
  private onGraph(batch: Batch, microBatchSize: number, layerWeights: LayerValues[]): PackedTotals {
    const ops = this.ops;
    const per = this.perExample();
    const inputs = microBatchRanges(batch.size, microBatchSize).map(([start, end]) => microBatchInputs(ops, this.step, batch.x.subarray(start * per, end * per), batch.y.subarray(start, end)));
    const feeds = graphFeeds(layerWeights, inputs);
    const key = graphKey(batch.size, microBatchSize);
    const known = this.graphs.get(key);
    if (known instanceof StepGraph) return known.run(ops, feeds);
    const compute = () => packForHost(ops, this.layers, this.accumulate(inputs.length, batch.size, layerWeights, (k) => inputs[k]));
    if (known) return compute();
    const traced = StepGraph.trace(ops, feeds, compute);
    this.graphs.set(key, traced.graph);
    return traced.totals;
  }

  /** The device totals plus the host's completion, with this step's host values. */
  private withCompletion(device: PackedTotals, prepared: (BatchlessPrepared | undefined)[], batchSize: number): Finished {
    const layout = device.layout.map(({ layerIndex, ...entry }) => ({ ...entry, prepared: prepared[layerIndex] }));
    return { grads: device.grads, packed: device.packed, vectors: device.vectors, complete: completeOnHost(layout, device.moving, batchSize) };
  }

  /** One micro-batch's results as totals. */
  private totalsOf(micro: ReturnType<typeof microBatchGradients>): ShareTotals {
    const moving = micro.movingUpdates.map((u) => ({ held: this.slots.get(u.variable)!.host!, value: u.value, momentum: u.momentum }));
    return { grads: micro.grads, taskSum: micro.loss, sums: new Map(micro.sums), moving };
  }

  /** The resource variables' current values (host-kept values are not read: they are at hand). */
  private readWeights(): Map<tf.Variable, Native> {
    const values = new Map<tf.Variable, Native>();
    for (const slot of this.slots.values()) if (slot.native) values.set(slot.tfjs, this.ops.readVariable(slot.native));
    return values;
  }

  /** Each layer's inputs for the step; a batchless layer's from its host values (`hostOf`), made once here. */
  private layerValues(values: Map<tf.Variable, Native>, hostOf: (slot: VariableSlot) => Float32Array): { values: LayerValues[]; batchless: (BatchlessPrepared | undefined)[] } {
    const batchlessPrepared: (BatchlessPrepared | undefined)[] = [];
    const layerWeights = this.layers.map((layer) => {
      const w: LayerValues = {};
      for (const weight of layer.weights) {
        const slot = this.slots.get(weight.variable)!;
        if (slot.native) w[weight.role] = values.get(weight.variable);
        // Batch normalization's γ and β enter as constants (its moving statistics are not read in training).
        else if (!layer.batchless && (weight.role === 'gamma' || weight.role === 'beta')) w[weight.role] = this.ops.constant(hostOf(slot).slice(), slot.shape);
      }
      if (!layer.batchless) {
        batchlessPrepared.push(undefined);
        return w;
      }
      const host: Partial<BatchlessHost> = {};
      for (const weight of layer.weights) if (keptOnHost(layer, weight.role)) host[weight.role as keyof BatchlessHost] = hostOf(this.slots.get(weight.variable)!);
      const made = batchlessConstants(this.ops, layer.batchless, host as BatchlessHost, layer.fused === true);
      batchlessPrepared.push({ stored: host.std!, invStd: made.invStd });
      return { ...w, ...made.values };
    });
    return { values: layerWeights, batchless: batchlessPrepared };
  }

  private perExample(): number {
    return this.step.inputShape.reduce((a, b) => a * b, 1);
  }

  /** Σ over the rows of x (some or all of a batch of `batchSize`) in micro-batches: gradients, task loss, sums. */
  private shareTotals(x: Float32Array, y: Int32Array, batchSize: number, microBatchSize: number, layerWeights: LayerValues[]): ShareTotals {
    const per = this.perExample();
    // Each micro-batch's inputs are made inside its scope: gone with its activations.
    const ranges = microBatchRanges(y.length, microBatchSize);
    return this.accumulate(ranges.length, batchSize, layerWeights, (k) => microBatchInputs(this.ops, this.step, x.subarray(ranges[k][0] * per, ranges[k][1] * per), y.subarray(ranges[k][0], ranges[k][1])));
  }

  /** Σ over `count` micro-batches (the inputs of micro-batch k from `inputsOf(k)`), one after another. */
  private accumulate(count: number, batchSize: number, layerWeights: LayerValues[], inputsOf: (k: number) => MicroBatchInputs): ShareTotals {
    const ops = this.ops;
    let totals: ShareTotals | undefined;
    for (let k = 0; k < count; k++) {
      // In a compiled graph, micro-batch k starts once k − 1 is done (as here).
      if (k > 0) ops.traceBoundary();
      const micro = this.totalsOf(ops.scope(() => microBatchGradients(ops, this.layers, inputsOf(k), batchSize, layerWeights)));
      if (totals) addTotals(ops, totals, micro);
      else totals = micro;
    }
    if (!totals) throw new Error('NativeStep: the batch is empty');
    return totals;
  }
}
