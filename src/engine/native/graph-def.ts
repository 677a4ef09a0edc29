// TensorFlow's GraphDef and SavedModel as protocol-buffer bytes, for the compiled step
// (compiled-graph.ts). Only the fields a graph of plain ops needs are written; the numbers are
// those of TensorFlow's graph.proto, node_def.proto, attr_value.proto, tensor.proto,
// tensor_shape.proto, meta_graph.proto and saved_model.proto.

/** A node attribute's value. Data types are TF_DataType numbers (the same as DataType in types.proto). */
export type AttrValue =
  | { s: string }
  | { i: number }
  | { ints: number[] }
  | { f: number }
  | { b: boolean }
  | { type: number }
  | { shape: number[] }
  | { tensor: ConstTensor };

export interface ConstTensor {
  dtype: number;
  shape: number[];
  values: Float32Array | Int32Array;
}

export interface GraphNode {
  name: string;
  op: string;
  /** "node:output" of each input, in order. */
  inputs: string[];
  attrs: Record<string, AttrValue>;
}

/** The GraphDef producer version written: TensorFlow fills in attributes' defaults for graphs it can read. */
const GRAPH_PRODUCER = 1700;

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/** Appends protocol-buffer fields to a growing list of byte chunks. */
class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new Error(`graph-def: ${value} is not an integer protocol buffers can hold here`);
    // Negative int64 values are ten bytes of two's complement.
    let n = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n) byte |= 0x80;
      out.push(byte);
    } while (n);
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, value: number): this {
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_BYTES);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, write: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

/** TensorShapeProto: dim (2) { size (1) }. */
function writeShape(w: ProtoWriter, shape: number[]): void {
  for (const size of shape) w.message(2, (d) => d.int(1, size));
}

/** TensorProto: dtype (1), tensor_shape (2), tensor_content (4, little-endian bytes). */
function writeTensor(w: ProtoWriter, t: ConstTensor): void {
  w.int(1, t.dtype).message(2, (s) => writeShape(s, t.shape));
  const values = t.values;
  w.bytes(4, new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice());
}

/** AttrValue: list (1) { i (3) }, s (2), i (3), f (4), b (5), type (6), shape (7), tensor (8). */
function writeAttr(w: ProtoWriter, value: AttrValue): void {
  if ('s' in value) w.string(2, value.s);
  else if ('i' in value) w.int(3, value.i);
  else if ('ints' in value) w.message(1, (list) => value.ints.forEach((i) => list.int(3, i)));
  else if ('f' in value) w.float(4, value.f);
  else if ('b' in value) w.int(5, value.b ? 1 : 0);
  else if ('type' in value) w.int(6, value.type);
  else if ('shape' in value) w.message(7, (s) => writeShape(s, value.shape));
  else w.message(8, (t) => writeTensor(t, value.tensor));
}

/** GraphDef: node (1) { name (1), op (2), input (3), attr (5) map }, versions (4) { producer (1) }. */
function writeGraph(w: ProtoWriter, nodes: GraphNode[]): void {
  for (const node of nodes) {
    w.message(1, (n) => {
      n.string(1, node.name).string(2, node.op);
      for (const input of node.inputs) n.string(3, input);
      for (const [name, value] of Object.entries(node.attrs)) n.message(5, (entry) => entry.string(1, name).message(2, (a) => writeAttr(a, value)));
    });
  }
  w.message(4, (v) => v.int(1, GRAPH_PRODUCER));
}

/**
 * A SavedModel holding one MetaGraphDef (meta_info_def (1) { tags (4) }, graph_def (2)) with
 * `nodes` and no variables: what TF_LoadSessionFromSavedModel needs to open a session on the graph.
 */
export function savedModelBytes(nodes: GraphNode[], tag: string): Uint8Array {
  return new ProtoWriter()
    .int(1, 1) // saved_model_schema_version
    .message(2, (meta) => meta.message(1, (info) => info.string(4, tag)).message(2, (g) => writeGraph(g, nodes)))
    .finish();
}

/** The GraphDef alone (tests decode it with TensorFlow's own parser). */
export function graphDefBytes(nodes: GraphNode[]): Uint8Array {
  const w = new ProtoWriter();
  writeGraph(w, nodes);
  return w.finish();
}
