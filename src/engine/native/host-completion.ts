import type { NativeLayer } from './native-layers';
import { nllOnHost } from './native-nll';

// The host's half of a native step's end: the step reads two tensors (scalars, and each
// normalization layer's per-channel vectors end to end), and this turns them into the numbers the
// trainer reports, the gradients of the values the step keeps on the host, and BN's moving averages.

/** A batchless layer's per-step host values: what the NLL needs besides the sums. */
export interface BatchlessPrepared {
  stored: Float32Array;
  invStd: Float64Array;
}

/** Where a layer's numbers sit in the vectors read, in order: its sums (batchless), then its host-kept weights' gradients. */
export interface HostLayout {
  layer: NativeLayer;
  prepared?: BatchlessPrepared;
  /** Elements per channel the sums add up (batchless). */
  count: number;
  hostGrads: { name: string; size: number }[];
}

/** One micro-batch's BN moment for a host-kept moving average (`held`), read after every layout entry. */
export interface MovingMoment {
  held: Float32Array;
  momentum: number;
}

/** What is left once the two tensors are read: the numbers the step reports, the host gradients, BN's moving averages. */
export type Completion = (
  scalars: Float32Array,
  vectors: Float32Array,
) => { values: Float32Array; hostGrads: Map<string, Float32Array>; applyMovingUpdates: () => void };

/**
 * [task loss, NLL of each batchless layer, Σ of every gradient] from the read: `scalars` is
 * [Σ task loss, Σ of each group of device gradients], `vectors` the layout's numbers end to end,
 * then each moving moment's.
 */
export function completeOnHost(layout: HostLayout[], moving: MovingMoment[], batchSize: number): Completion {
  return (scalars, read) => {
    const hostGrads = new Map<string, Float32Array>();
    const nll: number[] = [];
    let at = 0;
    const take = (n: number) => read.subarray(at, (at += n));
    for (const { layer, prepared: p, count, hostGrads: names } of layout) {
      if (layer.batchless && p) {
        const channels = p.stored.length;
        const [first, second] = [take(channels), take(channels)];
        const result = nllOnHost(layer.batchless, p.stored, p.invStd, first, second, count);
        nll.push(result.value);
        const [mean, std] = layer.batchless.statisticsVariables();
        hostGrads.set(mean.name, result.meanGrad);
        hostGrads.set(std.name, result.stdGrad);
      }
      for (const { name, size } of names) hostGrads.set(name, take(size).slice());
    }
    const moments = moving.map((u) => ({ ...u, value: take(u.held.length).slice() }));
    // moving ← moving − (moving − batch value)·(1 − momentum), micro-batch by micro-batch as tfjs does.
    const applyMovingUpdates = () => {
      for (const { held, momentum, value } of moments) {
        const rate = Math.fround(1 - momentum); // float32 arithmetic, as tfjs's update does it
        for (let c = 0; c < held.length; c++) held[c] = held[c] - Math.fround(Math.fround(held[c] - value[c]) * rate);
      }
    };
    let gradTotal = 0;
    for (let k = 1; k < scalars.length; k++) gradTotal += scalars[k];
    for (const g of hostGrads.values()) for (let k = 0; k < g.length; k++) gradTotal += g[k];
    return { values: Float32Array.from([scalars[0] / batchSize, ...nll, gradTotal]), hostGrads, applyMovingUpdates };
  };
}
