import type { BatchlessNormalization } from '../layers/batchless-normalization';
import { reduceAll } from './native-math';
import type { LayerValues, StatisticsSums } from './native-layers';
import type { Native, NativeOps } from './tf-native';

/** A layer's NLL as device scalars to read (`parts`) and the host arithmetic that finishes it (`value`). */
export interface NllResult {
  meanGrad: Native;
  stdGrad: Native;
  parts: Native[];
  value(parts: number[]): number;
}

/**
 * A layer's NLL over the batch and its μ/σ gradients from Σ(a − μ) = S1 and Σ(a − μ)² = S2 per
 * channel (K elements each, C channels), with 1/σ from the layer's per-step values, in closed form (batch-gradients.ts has the same loss
 * through autodiff):
 *   NLL = mean_c log σ_c + (1/2KC) Σ_c S2_c/σ_c²,   ∂/∂μ_c = −S1_c/(KC σ_c²),
 *   ∂/∂σ_c = 1/(Cσ_c) − S2_c/(KC σ_c³), then through the stored parametrization.
 * The NLL itself is only reported: its two sums are read with the step's other values and the
 * scaling is done on the host, a few dispatches fewer per layer and step.
 */
export function nllFromSums(ops: NativeOps, layer: BatchlessNormalization, w: LayerValues, s: StatisticsSums): NllResult {
  const stored = w.std!;
  const inv = w.invStd!;
  const channels = stored.shape.reduce((a, b) => a * b, 1);
  const kc = s.count * channels;
  const inv2 = ops.unary('Square', inv);
  const weighted = ops.unary('Mul', s.second, inv2);
  const meanGrad = ops.unary('Mul', ops.unary('Mul', s.first, inv2), ops.scalar(-1 / kc));
  const eps = () => ops.scalar(layer.epsilon);
  let stdGrad: Native;
  let logStd: Native;
  switch (layer.stdParametrization) {
    case 'log':
      logStd = stored;
      stdGrad = ops.unary('AddV2', ops.unary('Mul', weighted, ops.scalar(-1 / kc)), ops.scalar(1 / channels));
      break;
    case 'abs': {
      logStd = ops.unary('Log', ops.unary('AddV2', ops.unary('Abs', stored), eps()));
      const perSigma = ops.unary('Sub', ops.unary('Mul', inv, ops.scalar(1 / channels)), ops.unary('Mul', ops.unary('Mul', weighted, inv), ops.scalar(1 / kc)));
      stdGrad = ops.unary('Mul', perSigma, signLikeTfjs(ops, stored));
      break;
    }
    case 'inv': {
      const magnitude = ops.unary('AddV2', ops.unary('Abs', stored), eps());
      logStd = ops.unary('Neg', ops.unary('Log', magnitude));
      const fromLog = ops.unary('Mul', ops.unary('Reciprocal', magnitude), ops.scalar(-1 / channels));
      stdGrad = ops.unary('AddV2', ops.unary('Mul', fromLog, signLikeTfjs(ops, stored)), ops.unary('Mul', ops.unary('Mul', s.second, stored), ops.scalar(1 / kc)));
      break;
    }
  }
  const weightedSum = reduceAll(ops, weighted);
  if (layer.gauge) return { meanGrad, stdGrad, parts: [weightedSum], value: ([ws]) => (0.5 * ws) / kc - 0.5 };
  return { meanGrad, stdGrad, parts: [weightedSum, reduceAll(ops, logStd)], value: ([ws, logSum]) => logSum / channels + (0.5 * ws) / kc };
}

/** d|x|/dx as tfjs takes it: 1 where x > 0, −1 elsewhere (0 included). */
function signLikeTfjs(ops: NativeOps, x: Native): Native {
  const positive = ops.run('Greater', [ops.float32()], [x, ops.scalar(0)])[0];
  return ops.run('SelectV2', [ops.float32()], [positive, ops.scalar(1), ops.scalar(-1)])[0];
}
