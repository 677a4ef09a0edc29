import type { MovingMoment } from './host-completion';
import type { NativeLayer, StatisticsSums } from './native-layers';
import type { HostShare } from './step-shares';
import type { Native, NativeOps } from './tf-native';
import type { VariableSlot } from './variable-slots';

// What a step adds up over its micro-batches (and over the shares of helper threads): exact
// gradient accumulation is these sums, added micro-batch by micro-batch in a fixed order.

/** A batch's (or a share's) sums on the device: gradients by variable name, Σ task loss, per-channel sums, BN moments. */
export interface ShareTotals {
  grads: Map<string, Native>;
  taskSum: Native;
  sums: Map<NativeLayer, StatisticsSums>;
  /** Each micro-batch's BN moments, in order: the moving averages move toward them once they are read. */
  moving: (MovingMoment & { value: Native })[];
}

/** Adds `more` (one micro-batch's totals) into `totals`, freeing what the sums replace. */
export function addTotals(ops: NativeOps, totals: ShareTotals, more: ShareTotals): void {
  // Variable by variable, so one extra gradient tensor at most is alive on top of the two sets.
  for (const [name, g] of more.grads) addInto(ops, totals.grads, name, g);
  const loss = ops.unary('AddV2', totals.taskSum, more.taskSum);
  ops.dispose(totals.taskSum, more.taskSum);
  totals.taskSum = loss;
  for (const [layer, s] of more.sums) addSums(ops, totals.sums, layer, s);
  totals.moving.push(...more.moving);
}

/** Adds a helper thread's share (host arrays, by slot index) into this thread's totals. */
export function addHostShare(ops: NativeOps, totals: ShareTotals, share: HostShare, slots: VariableSlot[], layers: NativeLayer[]): void {
  slots.forEach((slot, i) => {
    const g = share.grads[i];
    if (g) addInto(ops, totals.grads, slot.name, ops.constant(g, slot.shape));
  });
  const loss = ops.unary('AddV2', totals.taskSum, ops.constant(new Float32Array([share.taskSum]), []));
  ops.dispose(totals.taskSum);
  totals.taskSum = loss;
  layers
    .filter((l) => l.batchless)
    .forEach((layer, i) => {
      const s = share.sums[i];
      const shape = [s.first.length];
      addSums(ops, totals.sums, layer, { first: ops.constant(s.first, shape), second: ops.constant(s.second, shape), count: s.count });
    });
}

function addInto(ops: NativeOps, grads: Map<string, Native>, name: string, g: Native): void {
  const current = grads.get(name);
  if (!current) {
    grads.set(name, g);
    return;
  }
  grads.set(name, ops.unary('AddV2', current, g));
  ops.dispose(current, g);
}

function addSums(ops: NativeOps, sums: Map<NativeLayer, StatisticsSums>, layer: NativeLayer, s: StatisticsSums): void {
  const total = sums.get(layer);
  if (!total) {
    sums.set(layer, s);
    return;
  }
  sums.set(layer, { first: ops.unary('AddV2', total.first, s.first), second: ops.unary('AddV2', total.second, s.second), count: total.count + s.count });
  ops.dispose(total.first, total.second, s.first, s.second);
}
