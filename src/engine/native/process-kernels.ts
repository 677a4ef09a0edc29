import { TF_ATTR_NAMES } from './tf-attr-names';
import type { NativeOps, OpAttr } from './tf-native';

// Facts about the TensorFlow library loaded in this process, learned or arranged once per
// process: which max-pooling kernels eager mode has, and the binding made safe for threads.

/** Whether this libtensorflow runs oneDNN's max pooling in eager mode (probed once, see oneDnnMaxPool). */
let oneDnnPooling: boolean | undefined;
/** Whether prepareForThreads has run in this process (the set it fills is process-wide). */
let attributeNamesStored = false;

/**
 * Makes tfjs-node's binding safe for a second thread. Its executeOp keeps every attribute name
 * it is given in one process-wide std::set (ATTR_NAME_SET in tfjs_backend.cc) and inserts into
 * it without a lock: two threads inserting a new name at once corrupt the tree (seen here as
 * both threads spinning in std::set::insert). Inserting every attribute name TensorFlow's ops
 * have, once, before a helper thread starts, leaves later inserts reading the set only. The op
 * run to do it is NoOp with all the names; TensorFlow ignores them, with one log line on stderr
 * ("NodeDef mentions attribute … which is not in the op definition").
 */
export function prepareForThreads(ops: NativeOps): void {
  if (attributeNamesStored) return;
  // '_kernel' is not an op attribute but a kernel label (oneDnnMaxPool below uses it).
  ops.effect('NoOp', [...TF_ATTR_NAMES, '_kernel'].map((name) => ops.bool(name, false)), []);
  attributeNamesStored = true;
}

/**
 * Whether TensorFlow's oneDNN max pooling (`_MklNativeMaxPool`, `_MklNativeMaxPoolGrad`, kernel
 * label MklNameChangeOp) runs here. Eager execution rewrites convolutions, matrix products and
 * fused batch norm to oneDNN itself, but not max pooling, whose Eigen gradient kernel is the
 * slowest op of a CNN step (MaxPoolGrad ~4 ms against ~0.1 ms for oneDNN's, which keeps the
 * forward's argmax in a workspace). A build without oneDNN lacks the ops: the probe, run once
 * per process, then says no and the layers use MaxPool/MaxPoolGrad. While a step is traced into
 * a graph the answer is no: these ops are eager-only, and a graph gets oneDNN's pooling from
 * TensorFlow's own graph rewrite.
 */
export function oneDnnMaxPool(ops: NativeOps): boolean {
  if (ops.tracing) return false;
  if (oneDnnPooling !== undefined) return oneDnnPooling;
  try {
    ops.scope(() => {
      const x = ops.constant(new Float32Array([1, 3, 2, 3]), [1, 2, 2, 1]);
      const attrs = maxPoolAttrs(ops, [2, 2], [2, 2], 'VALID', true);
      const [y, workspace] = ops.run('_MklNativeMaxPool', attrs, [x], 2);
      const dx = ops.run('_MklNativeMaxPoolGrad', attrs, [x, y, ops.constant(new Float32Array([5]), [1, 1, 1, 1]), workspace])[0];
      // The first of the two maxima gets the gradient, as TensorFlow's MaxPoolGrad does.
      oneDnnPooling = ops.read(y)[0] === 3 && ops.read(dx).join(',') === '0,5,0,0';
    });
  } catch {
    oneDnnPooling = false;
  }
  return oneDnnPooling!;
}

/** MaxPool's attributes; with `oneDnn`, those of its oneDNN twin (kernel label, workspace). */
export function maxPoolAttrs(ops: NativeOps, pool: number[], strides: number[], padding: string, oneDnn: boolean): OpAttr[] {
  const attrs = [ops.float32(), ops.int('ksize', [1, pool[0], pool[1], 1]), ops.int('strides', [1, strides[0], strides[1], 1]), ops.string('padding', padding), ops.string('data_format', 'NHWC')];
  return oneDnn ? [...attrs, ops.string('_kernel', 'MklNameChangeOp'), ops.bool('workspace_enabled', true)] : attrs;
}
