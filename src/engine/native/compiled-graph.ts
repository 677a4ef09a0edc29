import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { savedModelBytes } from './graph-def';
import type { TracedGraph } from './op-trace';
import type { Native, NativeOps } from './tf-native';

// A traced computation (op-trace.ts) run as one TensorFlow graph. tfjs-node's binding opens
// sessions only on SavedModels, so the graph is written as one to a private temporary folder,
// opened, and the folder removed. The session runs the graph with TensorFlow's graph executor:
// no JavaScript and no per-op dispatch between the ops, independent ops on the inter-op threads
// at once, and the graph optimizer's rewrites (oneDNN kernels, fusions).

const TAG = 'batchless-step';

export class CompiledGraph {
  private session: number | undefined;
  private readonly feedNames: string;
  private readonly outputNames: string;

  private constructor(
    private readonly ops: NativeOps,
    session: number,
    private readonly graph: TracedGraph,
  ) {
    this.session = session;
    this.feedNames = graph.feedNames.join(',');
    this.outputNames = graph.outputNames.join(',');
  }

  /** Opens a session on `graph`; throws TensorFlow's reason when it cannot. */
  static load(ops: NativeOps, graph: TracedGraph): CompiledGraph {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchless-graph-'));
    try {
      fs.writeFileSync(path.join(dir, 'saved_model.pb'), savedModelBytes(graph.nodes, TAG));
      return new CompiledGraph(ops, ops.loadGraph(dir, TAG), graph);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  get nodeCount(): number {
    return this.graph.nodes.length;
  }

  /** The outputs for `feeds` (in the traced order), as tensors of the innermost scope. */
  run(feeds: Native[]): Native[] {
    if (this.session === undefined) throw new Error('CompiledGraph: run after dispose');
    if (feeds.length !== this.graph.feedNames.length) throw new Error(`CompiledGraph: ${feeds.length} feeds for ${this.graph.feedNames.length} placeholders`);
    return this.ops.runGraph(this.session, feeds, this.feedNames, this.outputNames);
  }

  dispose(): void {
    if (this.session === undefined) return;
    this.ops.deleteGraph(this.session);
    this.session = undefined;
  }
}
