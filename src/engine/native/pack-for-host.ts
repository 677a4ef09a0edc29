import type { HostLayout, MovingMoment } from './host-completion';
import { reduceAll } from './native-math';
import type { NativeLayer } from './native-layers';
import type { ShareTotals } from './share-totals';
import type { Native, NativeOps } from './tf-native';
import { keptOnHost } from './variable-slots';

/** A HostLayout entry before the step's host values are known: the layer's index stands in for them. */
export type PackedLayout = Omit<HostLayout, 'prepared'> & { layerIndex: number };

/** What a batch leaves on the device: the update's gradients and two tensors for the host to read. */
export interface PackedTotals {
  grads: Map<string, Native>;
  /** [Σ task loss, Σ of each group of device gradients]. */
  packed: Native;
  /** Each batchless layer's Σ(a − μ), Σ(a − μ)², the host-kept weights' gradients and each micro-batch's BN moments, end to end (absent when there are none). */
  vectors?: Native;
  layout: PackedLayout[];
  moving: MovingMoment[];
}

/**
 * Packs the totals into the two tensors the host reads: the task loss and sums of the device
 * gradients (gradients of one shape added first, one reduction per shape), and each batchless
 * layer's per-channel sums and host-kept γ, β gradients, from which the host computes the NLL and
 * its μ/σ gradients (host-completion.ts). The host-kept weights' gradients leave `grads`.
 */
export function packForHost(ops: NativeOps, layers: NativeLayer[], totals: ShareTotals): PackedTotals {
  const { grads, taskSum, sums, moving } = totals;
  const vectorParts: Native[] = [];
  const layout: PackedLayout[] = [];
  for (const [layerIndex, layer] of layers.entries()) {
    const s = sums.get(layer);
    if (layer.batchless && !s) throw new Error(`Layer '${layer.name}' was not called in the forward pass`);
    if (s) vectorParts.push(s.first, s.second);
    const hostGrads: { name: string; size: number }[] = [];
    for (const weight of layer.weights) {
      const g = grads.get(weight.variable.name);
      if (!g || !keptOnHost(layer, weight.role)) continue;
      vectorParts.push(g);
      hostGrads.push({ name: weight.variable.name, size: g.shape.reduce((a, b) => a * b, 1) });
      grads.delete(weight.variable.name);
    }
    if (s || hostGrads.length > 0) layout.push({ layer, layerIndex, count: s?.count ?? 0, hostGrads });
  }
  for (const u of moving) vectorParts.push(u.value);
  const byShape = new Map<string, Native[]>();
  for (const g of grads.values()) {
    const key = g.shape.join('x');
    byShape.set(key, [...(byShape.get(key) ?? []), g]);
  }
  const gradSums = [...byShape.values()].map((group) => reduceAll(ops, group.length === 1 ? group[0] : ops.run('AddN', [ops.float32(), ops.int('N', group.length)], group)[0]));
  const parts = [taskSum, ...gradSums];
  const packed = ops.run('Pack', [ops.float32(), ops.int('N', parts.length), ops.int('axis', 0)], parts)[0];
  const vectors = vectorParts.length === 0 ? undefined : vectorParts.length === 1 ? vectorParts[0] : ops.run('ConcatV2', [ops.float32(), ops.int32('Tidx'), ops.int('N', vectorParts.length)], [...vectorParts, ops.intScalar(0)])[0];
  return { grads, packed, vectors, layout, moving: moving.map(({ held, momentum }) => ({ held, momentum })) };
}
