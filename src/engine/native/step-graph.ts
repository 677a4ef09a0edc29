import type { Batch } from '../data/dataset';
import { seededRandom } from '../data/random';
import { CompiledGraph } from './compiled-graph';
import type { MicroBatchInputs } from './micro-batch';
import type { LayerValues } from './native-layers';
import { OpTrace, TraceRefusal } from './op-trace';
import type { PackedLayout, PackedTotals } from './pack-for-host';
import type { MovingMoment } from './host-completion';
import type { Native, NativeOps } from './tf-native';

/**
 * How far a compiled graph's outputs may be from the same ops run one by one, relative to each
 * output's largest magnitude, before it is not trusted. TensorFlow 2.21 gives bit-identical
 * results here; the margin leaves room for a graph rewrite that sums in another order.
 */
const AGREEMENT = 1e-4;

/**
 * The largest graph compiled: TensorFlow's session setup and first run take ~0.35 ms a node here
 * (builtin:cnn at 64 micro-batches: ~6,400 nodes, 2.2 s), all before a session's first step.
 */
const MAX_GRAPH_NODES = 20_000;

/**
 * The device half of a native step (each micro-batch's forward and backward, the sums over
 * micro-batches, and the packing for the host's read) as one compiled TensorFlow graph. It is
 * traced once from the step's own ops (they run eagerly while recorded, so the traced step's
 * results are real), checked against them, and then run per step with the weights, the host-made
 * per-channel values and the micro-batches fed in. Micro-batches run one after another in it, as
 * op by op (OpTrace.boundary). The optimizer's updates stay eager ops on the resource variables.
 */
export class StepGraph {
  private constructor(
    private readonly graph: CompiledGraph,
    private readonly gradNames: string[],
    private readonly withVectors: boolean,
    private readonly layout: PackedLayout[],
    private readonly moving: MovingMoment[],
    /** The most bytes the traced ops held at once beyond the feeds: reported as each run's working memory. */
    readonly workingBytes: number,
  ) {}

  /**
   * Runs `compute` on `feeds` while tracing it. Returns its (eager) result, and the graph, or why
   * there is none: an op TensorFlow cannot load in a graph, or outputs that disagree.
   */
  static trace(ops: NativeOps, feeds: Native[], compute: () => PackedTotals, maxNodes = MAX_GRAPH_NODES): { totals: PackedTotals; graph: StepGraph | { reason: string } } {
    const trace = new OpTrace(ops, feeds);
    const base = ops.liveBytes;
    const peakBefore = ops.peakBytes;
    ops.resetPeak();
    let totals: PackedTotals;
    try {
      totals = ops.traced(trace, compute);
    } catch (error) {
      if (!(error instanceof TraceRefusal)) throw error;
      // What the trace ran is freed with the caller's scope; the step runs again, op by op.
      ops.peakBytes = Math.max(peakBefore, ops.peakBytes);
      return { totals: compute(), graph: { reason: `the step could not be compiled into a TensorFlow graph: ${error.message}` } };
    }
    const workingBytes = ops.peakBytes - base;
    ops.peakBytes = Math.max(peakBefore, ops.peakBytes);
    const gradNames = [...totals.grads.keys()];
    const outputs = [...totals.grads.values(), totals.packed, ...(totals.vectors ? [totals.vectors] : [])];
    let graph: CompiledGraph | undefined;
    try {
      const traced = trace.finish(outputs);
      if (traced.nodes.length > maxNodes) throw new Error(`${traced.nodes.length} nodes, more than the ${maxNodes} compiled before a first step`);
      graph = CompiledGraph.load(ops, traced);
      const disagreement = ops.scope(() => worstDisagreement(ops, graph!.run(feeds), outputs));
      if (!(disagreement <= AGREEMENT)) throw new Error(`its results differ from the same ops run one by one (relative ${disagreement.toExponential(2)})`);
    } catch (error) {
      graph?.dispose();
      return { totals, graph: { reason: `the step could not be compiled into a TensorFlow graph: ${error instanceof Error ? error.message : String(error)}` } };
    }
    return { totals, graph: new StepGraph(graph, gradNames, totals.vectors !== undefined, totals.layout, totals.moving, workingBytes) };
  }

  get nodeCount(): number {
    return this.graph.nodeCount;
  }

  /** The device totals for `feeds` (the same kinds of tensors, in the same order, as traced). */
  run(ops: NativeOps, feeds: Native[]): PackedTotals {
    ops.notePeak(this.workingBytes);
    const outputs = this.graph.run(feeds);
    const grads = new Map(this.gradNames.map((name, i) => [name, outputs[i]]));
    const packed = outputs[this.gradNames.length];
    const vectors = this.withVectors ? outputs[this.gradNames.length + 1] : undefined;
    return { grads, packed, vectors, layout: this.layout, moving: this.moving };
  }

  dispose(): void {
    this.graph.dispose();
  }
}

/** The largest |graph − eager| of any output, relative to that output's largest magnitude. */
function worstDisagreement(ops: NativeOps, fromGraph: Native[], eager: Native[]): number {
  let worst = 0;
  fromGraph.forEach((t, i) => {
    const [a, b] = [ops.read(t), ops.read(eager[i])];
    if (a.length !== b.length) {
      worst = Infinity;
      return;
    }
    let scale = 0;
    let diff = 0;
    for (let k = 0; k < a.length; k++) {
      if (Number.isFinite(b[k])) scale = Math.max(scale, Math.abs(b[k]));
      // The same non-finite value on both sides agrees (weights that already overflow, say).
      if (a[k] !== b[k] && !(Number.isNaN(a[k]) && Number.isNaN(b[k]))) diff = Math.max(diff, Math.abs(a[k] - b[k]));
    }
    worst = Math.max(worst, scale > 0 ? diff / scale : diff);
  });
  return worst;
}

/**
 * Micro-batches per step up to which a step is compiled: a graph holds every micro-batch's ops
 * (~60 nodes each for builtin:mlp), and TensorFlow's optimizer passes grow with it.
 */
export const MAX_GRAPH_MICRO_BATCHES = 64;

export const graphKey = (batchSize: number, microBatchSize: number) => `${batchSize}/${Math.min(microBatchSize, batchSize)}`;

/** [start, end) of each micro-batch of a batch of `size`. */
export function microBatchRanges(size: number, microBatchSize: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let start = 0; start < size; start += microBatchSize) ranges.push([start, Math.min(start + microBatchSize, size)]);
  return ranges;
}

/** The tensors a step's graph is fed, each once, in a fixed order: the layers' values, then the micro-batches. */
export function graphFeeds(layerWeights: LayerValues[], inputs: MicroBatchInputs[]): Native[] {
  const feeds = new Map<number, Native>();
  for (const values of layerWeights) for (const t of Object.values(values)) if (t && !feeds.has(t.id)) feeds.set(t.id, t);
  for (const micro of inputs) for (const t of [micro.input, micro.oneHot]) feeds.set(t.id, t);
  return [...feeds.values()];
}

/** A batch of fixed pseudo-random inputs in [0, 1) and every class in turn, to trace a step on. */
export function syntheticBatch(size: number, perExample: number, classes: number): Batch {
  const uniform = seededRandom(12345);
  const x = Float32Array.from({ length: size * perExample }, () => uniform());
  return { x, y: Int32Array.from({ length: size }, (_, i) => i % classes), size };
}
