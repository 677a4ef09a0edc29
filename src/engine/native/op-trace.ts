import type { AttrValue, GraphNode } from './graph-def';
import type { AttrKinds, Native, NativeOps, OpAttr } from './tf-native';

// A record of eager ops as they run (NativeOps.traced), turned into a graph of the same ops: the
// tensors fed in become placeholders, each op a node, each fixed constant it met a Const node.

/** Why a computation cannot become a graph as it stands (the step then runs op by op). */
export class TraceRefusal extends Error {}

/** A traced computation as a graph: its nodes, and the names to feed and fetch, in order. */
export interface TracedGraph {
  nodes: GraphNode[];
  feedNames: string[];
  outputNames: string[];
}

export class OpTrace {
  private readonly nodes: GraphNode[] = [];
  /** Tensor id → "node:output". */
  private readonly names = new Map<number, string>();
  private readonly feedNames: string[];
  /** Index of the first node after the last boundary, and that boundary's NoOp (see `boundary`). */
  private segmentStart = 0;
  private barrier?: string;
  /** Op node name → its position in `nodes`. */
  private readonly opIndex = new Map<string, number>();
  private readonly kinds: AttrKinds;

  /** `feeds` are the tensors whose values change from run to run (distinct tensors). */
  constructor(
    private readonly ops: NativeOps,
    feeds: Native[],
  ) {
    this.kinds = ops.attrKinds;
    this.feedNames = feeds.map((t, i) => {
      if (this.names.has(t.id)) throw new TraceRefusal(`OpTrace: tensor ${t.id} is fed twice`);
      const name = `feed${i}`;
      this.nodes.push({ name, op: 'Placeholder', inputs: [], attrs: { dtype: { type: t.dtype }, shape: { shape: t.shape } } });
      this.names.set(t.id, `${name}:0`);
      return `${name}:0`;
    });
  }

  /** One op as it ran: its graph attributes, inputs and outputs. */
  record(op: string, attrs: OpAttr[], inputs: Native[], outputs: Native[]): void {
    const name = `op${this.nodes.length}`;
    const names = inputs.map((t) => this.nameOf(t));
    // A node that depends on nothing since the last boundary waits for it (control input).
    const sinceBoundary = names.some((input) => this.indexOf(input) >= this.segmentStart);
    this.opIndex.set(name, this.nodes.length);
    this.nodes.push({ name, op, inputs: this.barrier && !sinceBoundary ? [...names, `^${this.barrier}`] : names, attrs: this.graphAttrs(attrs) });
    outputs.forEach((t, i) => this.names.set(t.id, `${name}:${i}`));
  }

  /**
   * Orders the graph here: nothing recorded after this runs before everything recorded before it
   * has. The executor would otherwise start the next micro-batch while this one runs, holding the
   * activations of two at once (the memory micro-batches exist to save).
   */
  boundary(): void {
    const before = this.nodes.slice(this.segmentStart).filter((n) => n.op !== 'Placeholder' && n.op !== 'Const');
    if (before.length === 0) return;
    const name = `boundary${this.nodes.length}`;
    this.nodes.push({ name, op: 'NoOp', inputs: before.map((n) => `^${n.name}`), attrs: {} });
    this.barrier = name;
    this.segmentStart = this.nodes.length;
  }

  /** The graph that computes `outputs` from the feeds (each output through an Identity node of its own). */
  finish(outputs: Native[]): TracedGraph {
    const outputNames = outputs.map((t, i) => {
      const name = `output${i}`;
      this.nodes.push({ name, op: 'Identity', inputs: [this.nameOf(t)], attrs: { T: { type: t.dtype } } });
      return `${name}:0`;
    });
    return { nodes: this.nodes, feedNames: this.feedNames, outputNames };
  }

  /** Position of the op node behind "name:output", or -1 (a feed or a constant). */
  private indexOf(input: string): number {
    return this.opIndex.get(input.slice(0, input.lastIndexOf(':'))) ?? -1;
  }

  private nameOf(t: Native): string {
    const known = this.names.get(t.id);
    if (known) return known;
    // The fixed constants (NativeOps' cached scalars and shapes) never change: Const nodes.
    const value = this.ops.fixedValue(t);
    // A tensor made before the trace that is neither fed nor fixed would be frozen at its
    // current value: exactly the kind of bug a graph hides, so it is refused.
    if (!value) throw new TraceRefusal(`OpTrace: tensor ${t.id} (shape [${t.shape.join(', ')}]) was neither fed, made by a traced op, nor a fixed constant`);
    const name = `const${this.nodes.length}`;
    this.nodes.push({ name, op: 'Const', inputs: [], attrs: { dtype: { type: value.dtype }, value: { tensor: value } } });
    this.names.set(t.id, `${name}:0`);
    return `${name}:0`;
  }

  /** An op's attributes as a graph node holds them. */
  private graphAttrs(attrs: OpAttr[]): Record<string, AttrValue> {
    const k = this.kinds;
    const out: Record<string, AttrValue> = {};
    for (const a of attrs) {
      const v = a.value;
      if (a.type === k.type) out[a.name] = { type: v as number };
      else if (a.type === k.bool) out[a.name] = { b: v as boolean };
      else if (a.type === k.int) out[a.name] = Array.isArray(v) ? { ints: v as number[] } : { i: v as number };
      else if (a.type === k.float) out[a.name] = { f: v as number };
      else if (a.type === k.string) out[a.name] = { s: v as string };
      else if (a.type === k.shape) out[a.name] = { shape: v as number[] };
      else throw new TraceRefusal(`OpTrace: attribute '${a.name}' has a kind graphs here do not carry (${a.type})`);
    }
    return out;
  }
}
