import * as tf from '@tensorflow/tfjs';
import type { ConstTensor } from './graph-def';
import { type OpTrace, TraceRefusal } from './op-trace';

// The native step talks to TensorFlow's eager runtime through the same N-API binding tfjs-node's
// own kernels use (`binding.executeOp`), without the tfjs engine in between: no tape, no kernel
// registry, no tensor tracking. Each op then costs what TensorFlow costs (~5 µs dispatch), not
// ~25 µs, and ops tfjs does not expose become available: fused softmax cross-entropy, ReluGrad,
// resource variables and the optimizers' one-op updates (ResourceApplyAdam and friends).

/** A TensorFlow eager tensor handle: its id in the binding, shape and TF dtype enum. */
export interface Native {
  readonly id: number;
  readonly shape: number[];
  readonly dtype: number;
}

export type AttrKinds = Record<'type' | 'bool' | 'int' | 'float' | 'string' | 'shape', number>;

export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

interface Binding {
  executeOp(name: string, attrs: OpAttr[], inputs: number[], outputs: number): Native[];
  createTensor(shape: number[], dtype: number, values: Float32Array | Int32Array): number;
  deleteTensor(id: number): void;
  tensorDataSync(id: number): Float32Array | Int32Array;
  loadSavedModel(exportDir: string, tags: string): number;
  runSavedModel(session: number, inputIds: number[], inputNames: string, outputNames: string): Native[];
  deleteSavedModel(session: number): void;
  TF_FLOAT: number;
  TF_INT32: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_STRING: number;
  TF_ATTR_SHAPE: number;
}

interface NodeBackend {
  binding: Binding;
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  createOutputTensor(metadata: Native): tf.Tensor;
}

/** The tfjs-node backend when it is the active one, else undefined. */
function nodeBackend(): NodeBackend | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend() as unknown as Partial<NodeBackend>;
  const ok = typeof backend.binding?.executeOp === 'function' && typeof backend.getInputTensorIds === 'function' && typeof backend.createOutputTensor === 'function';
  return ok ? (backend as NodeBackend) : undefined;
}

const elementCount = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
let variableSerial = 0;
/** Bytes per element by TF_DataType (float32, int32, uint8, int64, bool): what the accounting counts. */
const DTYPE_BYTES: Record<number, number> = { 1: 4, 3: 4, 4: 1, 9: 8, 10: 1 };

/**
 * Typed access to TensorFlow eager ops, with lifetimes in scopes (like `tf.tidy`) and a count of
 * the bytes the scopes hold, so a step's working memory is measured, not guessed.
 */
export class NativeOps {
  private readonly b: Binding;
  private readonly scopes: Set<number>[] = [new Set()];
  private readonly sizes = new Map<number, number>();
  /** Bytes of the tensors the scopes hold now, and the most they held since `resetPeak()`. */
  liveBytes = 0;
  peakBytes = 0;
  /** Bytes of the resource variables alive (weights, optimizer slots). */
  variableBytes = 0;
  private readonly variableSizes = new Map<number, number>();
  private readonly constants = new Map<string, Native>();
  /** Set while `traced` runs: every op is recorded as well as run. */
  private trace?: OpTrace;

  private constructor(private readonly backend: NodeBackend) {
    this.b = backend.binding;
  }

  /** The native ops of the active tfjs-node backend, or undefined on any other backend. */
  static forActiveBackend(): NativeOps | undefined {
    const backend = nodeBackend();
    return backend ? new NativeOps(backend) : undefined;
  }

  // ---- attributes

  readonly float32 = (name = 'T'): OpAttr => ({ name, type: this.b.TF_ATTR_TYPE, value: this.b.TF_FLOAT });
  readonly int32 = (name: string): OpAttr => ({ name, type: this.b.TF_ATTR_TYPE, value: this.b.TF_INT32 });
  readonly bool = (name: string, value: boolean): OpAttr => ({ name, type: this.b.TF_ATTR_BOOL, value });
  readonly int = (name: string, value: number | number[]): OpAttr => ({ name, type: this.b.TF_ATTR_INT, value });
  readonly float = (name: string, value: number): OpAttr => ({ name, type: this.b.TF_ATTR_FLOAT, value });
  readonly string = (name: string, value: string): OpAttr => ({ name, type: this.b.TF_ATTR_STRING, value });

  // ---- lifetimes

  /** Runs an op; its outputs belong to the innermost scope. */
  run(op: string, attrs: OpAttr[], inputs: Native[], outputs = 1): Native[] {
    const result = this.b.executeOp(op, attrs, inputs.map((t) => t.id), outputs);
    for (const t of result) this.own(t);
    this.trace?.record(op, attrs, inputs, result);
    return result;
  }

  /** `run` for the common single-output float op with only a T attribute. */
  unary(op: string, ...inputs: Native[]): Native {
    return this.run(op, [this.float32()], inputs)[0];
  }

  /** A tensor from host values, owned by the innermost scope. */
  constant(values: Float32Array | Int32Array | number[], shape: number[] = [values.length]): Native {
    this.refuseInTrace('a tensor made from host values');
    const data = Array.isArray(values) ? Float32Array.from(values) : values;
    const dtype = data instanceof Int32Array ? this.b.TF_INT32 : this.b.TF_FLOAT;
    const t: Native = { id: this.b.createTensor(shape, dtype, data), shape, dtype };
    this.own(t);
    return t;
  }

  /** A float scalar that changes from call to call (Adam's βᵗ), owned by the innermost scope. */
  freshScalar(value: number): Native {
    return this.constant(new Float32Array([value]), []);
  }

  /** A fixed float scalar, made once and kept until `release`: constants cost a dispatch each too. */
  scalar(value: number): Native {
    return this.cached(`s${value}`, () => new Float32Array([value]), []);
  }

  /** A fixed int32 scalar (an axis), made once and kept until `release`. */
  intScalar(value: number): Native {
    return this.cached(`n${value}`, () => Int32Array.from([value]), []);
  }

  /** A fixed int32 vector (shapes, axes), made once and kept until `release`. */
  ints(values: readonly number[]): Native {
    return this.cached(`i${values.join(',')}`, () => Int32Array.from(values), [values.length]);
  }

  /** A fixed float tensor of one value (ones, zeros), made once and kept until `release`. */
  filled(value: number, shape: number[]): Native {
    return this.cached(`f${value}:${shape.join(',')}`, () => new Float32Array(elementCount(shape)).fill(value), shape);
  }

  private cached(key: string, values: () => Float32Array | Int32Array, shape: number[]): Native {
    let t = this.constants.get(key);
    if (!t) {
      const data = values();
      t = { id: this.b.createTensor(shape, data instanceof Int32Array ? this.b.TF_INT32 : this.b.TF_FLOAT, data), shape, dtype: data instanceof Int32Array ? this.b.TF_INT32 : this.b.TF_FLOAT };
      this.constants.set(key, t);
    }
    return t;
  }

  /** Deletes the cached constants; the instance must not be used afterwards. */
  release(): void {
    for (const t of this.constants.values()) this.b.deleteTensor(t.id);
    this.constants.clear();
  }

  /**
   * Runs `fn` in a new scope: every tensor it creates is deleted at the end except those it
   * returns (anywhere in an array or a plain object), which move to the enclosing scope.
   */
  scope<T>(fn: () => T): T {
    const scope = this.openScope();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.closeScope(scope, undefined);
      throw err;
    }
    return this.closeScope(scope, result);
  }

  /**
   * `scope` for an async `fn` (a step waiting on helper threads). Only one caller may use this
   * instance while it waits: the scopes are a stack, and the trainer runs one step at a time.
   */
  async scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
    const scope = this.openScope();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.closeScope(scope, undefined);
      throw err;
    }
    return this.closeScope(scope, result);
  }

  private openScope(): Set<number> {
    const scope = new Set<number>();
    this.scopes.push(scope);
    return scope;
  }

  /** Ends `scope`: what `result` holds moves to the enclosing scope, the rest is deleted. */
  private closeScope<T>(scope: Set<number>, result: T): T {
    if (this.scopes[this.scopes.length - 1] !== scope) throw new Error('NativeOps: scopes closed out of order');
    this.scopes.pop();
    const kept = new Set<number>();
    collectIds(result, kept);
    const outer = this.scopes[this.scopes.length - 1];
    for (const id of scope) {
      if (kept.has(id)) outer.add(id);
      else this.free(id);
    }
    return result;
  }

  /** Moves a tensor out of every scope: the caller deletes it with `dispose`. */
  keep<T extends Native>(t: T): T {
    for (const scope of this.scopes) scope.delete(t.id);
    return t;
  }

  dispose(...tensors: (Native | undefined)[]): void {
    for (const t of tensors) {
      if (!t) continue;
      for (const scope of this.scopes) scope.delete(t.id);
      this.free(t.id);
    }
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  private own(t: Native, bytes = (DTYPE_BYTES[t.dtype] ?? 4) * elementCount(t.shape)): void {
    this.scopes[this.scopes.length - 1].add(t.id);
    this.sizes.set(t.id, bytes);
    this.liveBytes += bytes;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
  }

  private free(id: number): void {
    const bytes = this.sizes.get(id);
    if (bytes === undefined) return;
    this.sizes.delete(id);
    this.liveBytes -= bytes;
    this.b.deleteTensor(id);
  }

  // ---- host and tfjs transfers

  read(t: Native): Float32Array {
    return this.b.tensorDataSync(t.id) as Float32Array;
  }

  /** A tfjs tensor that takes over `t` (no copy): `t` leaves the scopes and tfjs disposes it. */
  toTfjs(t: Native): tf.Tensor {
    this.keep(t);
    this.liveBytes -= this.sizes.get(t.id) ?? 0;
    this.sizes.delete(t.id);
    return this.backend.createOutputTensor(t);
  }

  /** A copy of a tfjs tensor's value as a scoped native tensor. */
  fromTfjs(t: tf.Tensor): Native {
    const [id] = this.backend.getInputTensorIds([t]);
    return this.run('Identity', [this.float32()], [{ id, shape: t.shape, dtype: this.b.TF_FLOAT }])[0];
  }

  // ---- resource variables (they live outside the scopes until destroyed)

  /** A TensorFlow resource variable holding a copy of `initial`. */
  variable(initial: Native): Native {
    const handle = this.b.executeOp(
      'VarHandleOp',
      [this.float32('dtype'), { name: 'shape', type: this.b.TF_ATTR_SHAPE, value: initial.shape }, this.string('container', ''), this.string('shared_name', `batchless_native_${variableSerial++}`)],
      [],
      1,
    )[0];
    const variable: Native = { id: handle.id, shape: initial.shape, dtype: handle.dtype };
    this.assign(variable, initial);
    this.variableSizes.set(variable.id, 4 * elementCount(initial.shape));
    this.variableBytes += 4 * elementCount(initial.shape);
    return variable;
  }

  assign(variable: Native, value: Native): void {
    this.b.executeOp('AssignVariableOp', [this.float32('dtype')], [variable.id, value.id], 0);
  }

  assignAdd(variable: Native, value: Native): void {
    this.b.executeOp('AssignAddVariableOp', [this.float32('dtype')], [variable.id, value.id], 0);
  }

  /** The variable's current value, scoped. It shares the variable's buffer, so it adds no bytes. */
  readVariable(variable: Native): Native {
    this.refuseInTrace('a variable read');
    const [t] = this.b.executeOp('ReadVariableOp', [this.float32('dtype')], [variable.id], 1);
    this.own(t, 0);
    return { id: t.id, shape: variable.shape, dtype: t.dtype };
  }

  /** Runs an op that returns nothing (the optimizers' resource updates). */
  effect(op: string, attrs: OpAttr[], inputs: Native[]): void {
    this.refuseInTrace(`an op run for its effect (${op})`);
    this.b.executeOp(op, attrs, inputs.map((t) => t.id), 0);
  }

  destroyVariable(variable: Native): void {
    this.b.executeOp('DestroyResourceOp', [this.bool('ignore_lookup_error', true)], [variable.id], 0);
    this.b.deleteTensor(variable.id);
    this.variableBytes -= this.variableSizes.get(variable.id) ?? 0;
    this.variableSizes.delete(variable.id);
  }

  // ---- graphs (compiled-graph.ts)

  /**
   * Runs `fn` (its ops run as usual) while `trace` records them. Inside, tensors made from host
   * values, variable reads and effects are refused: a graph would freeze or lose them.
   */
  traced<T>(trace: OpTrace, fn: () => T): T {
    if (this.trace) throw new Error('NativeOps: traces do not nest');
    this.trace = trace;
    try {
      return fn();
    } finally {
      this.trace = undefined;
    }
  }

  /** The binding's numbers for attribute kinds (OpAttr.type), for turning attributes into graph form. */
  get attrKinds(): AttrKinds {
    const b = this.b;
    return { type: b.TF_ATTR_TYPE, bool: b.TF_ATTR_BOOL, int: b.TF_ATTR_INT, float: b.TF_ATTR_FLOAT, string: b.TF_ATTR_STRING, shape: b.TF_ATTR_SHAPE };
  }

  /** True while `traced` runs. */
  get tracing(): boolean {
    return this.trace !== undefined;
  }

  /** In a traced computation, orders what follows after what came before (OpTrace.boundary). */
  traceBoundary(): void {
    this.trace?.boundary();
  }

  /** The value of one of the fixed constants (scalar, ints, filled), or undefined for any other tensor. */
  fixedValue(t: Native): ConstTensor | undefined {
    const c = [...this.constants.values()].find((k) => k.id === t.id);
    const data = c && this.b.tensorDataSync(c.id);
    return c && data && { dtype: c.dtype, shape: c.shape, values: data instanceof Int32Array ? data.slice() : Float32Array.from(data) };
  }

  /** Opens a session on the SavedModel in `dir`; its id runs it. */
  loadGraph(dir: string, tag: string): number {
    return this.b.loadSavedModel(dir, tag);
  }

  /** Runs a session: `feeds` under `feedNames`, the outputs `outputNames` as tensors of the innermost scope. */
  runGraph(session: number, feeds: Native[], feedNames: string, outputNames: string): Native[] {
    const result = this.b.runSavedModel(session, feeds.map((t) => t.id), feedNames, outputNames);
    for (const t of result) this.own(t);
    return result;
  }

  deleteGraph(session: number): void {
    this.b.deleteSavedModel(session);
  }

  /** Counts `bytes` as held on top of what is alive now, for the peak (a graph's working memory). */
  notePeak(bytes: number): void {
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes + bytes);
  }

  private refuseInTrace(what: string): void {
    if (this.trace) throw new TraceRefusal(`NativeOps: ${what} inside a traced computation would be frozen into the graph; feed it instead`);
  }

}

function collectIds(value: unknown, into: Set<number>, seen = new Set<object>()): void {
  // tfjs tensors (a tf.Variable named in a result, say) hold no native handles of ours.
  if (!value || typeof value !== 'object' || value instanceof tf.Tensor) return;
  // Host arrays hold no handles either, and walking their elements one by one would cost
  // milliseconds for a kernel's gradient (a helper thread's share returns several).
  if (ArrayBuffer.isView(value) || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value) || value instanceof Map) {
    for (const v of value.values()) collectIds(v, into, seen);
    return;
  }
  const maybe = value as Partial<Native>;
  if (typeof maybe.id === 'number' && Array.isArray(maybe.shape) && typeof maybe.dtype === 'number') {
    into.add(maybe.id);
    return;
  }
  for (const v of Object.values(value as Record<string, unknown>)) collectIds(v, into, seen);
}
