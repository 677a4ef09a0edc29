import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/dataset';
import type { BatchlessNormalization } from '../layers/batchless-normalization';
import { withInputObserver } from '../layers/input-observers';
import { invStd, logStd } from '../layers/std-parametrization';
import { findBatchlessLayers } from '../models/norm-layers';
import { outputIsProbability, taskLoss } from './task-loss';

/** What a training step differentiates, resolved once per session. */
export interface StepModel {
  model: tf.LayersModel;
  /** Batchless layers in topological order; their NLL terms join the loss. */
  batchless: BatchlessNormalization[];
  /** Every trainable variable (network weights, γ, β, μ, σ). */
  variables: tf.Variable[];
  inputShape: number[];
  numClasses: number;
  fromProbabilities: boolean;
}

/** The StepModel of a single-input model: its batchless layers, trainable variables and loss form. */
export function stepModelOf(model: tf.LayersModel, inputShape: number[], numClasses: number): StepModel {
  return {
    model,
    batchless: findBatchlessLayers(model),
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    inputShape,
    numClasses,
    fromProbabilities: outputIsProbability(model),
  };
}

/**
 * Watches one step from the inside (memory breakdowns): told when the step moves between phases,
 * and shown every set of gradients (a micro-batch's, and each accumulated sum) as it appears.
 */
export interface StepProbe {
  phase(phase: 'input' | 'forward' | 'backward' | 'accumulate'): void;
  markGradients(tensors: tf.Tensor[]): void;
}

export interface BatchGradients {
  /** Gradients of the batch's mean loss, by variable name. Caller disposes. */
  grads: tf.NamedTensorMap;
  /** [task loss, NLL of each batchless layer], means over the batch, still on the device. Caller disposes. */
  lossParts: tf.Tensor1D;
}

/**
 * Gradients of one effective batch, computed as micro-batches of `microBatchSize` instances whose
 * gradients accumulate. Both losses are means over instances, so micro-batch i contributes with
 * weight m_i/B and the result equals the full-batch gradient up to float rounding (method.md,
 * "Why memory falls"). Only one micro-batch's activations are alive at a time.
 *
 * The two gradient streams are computed apart. The task loss is differentiated per micro-batch
 * with respect to every variable except μ/σ (the layer's stop-gradients keep it off them). The NLL
 * depends on the data only through per-channel sums Σ(a − μ) and Σ(a − μ)², which accumulate
 * across micro-batches like the gradients do (μ does not change within a step); its value and its
 * μ/σ gradients are computed once per effective batch from them. That is the same NLL, mean over
 * the batch, as the layer's `nll()`, at a fraction of the kernels per micro-batch. Layers whose
 * statistics axes are not in ascending order take the general path (the NLL through autodiff).
 */
export function batchGradients(step: StepModel, batch: Batch, microBatchSize: number, probe?: StepProbe): BatchGradients {
  const sums = step.batchless.length > 0 && step.batchless.every(hasSortedAxes) ? new StatisticsSums(step) : undefined;
  let grads: tf.NamedTensorMap | undefined;
  let lossParts: tf.Tensor1D | undefined;
  try {
    for (let start = 0; start < batch.size; start += microBatchSize) {
      const end = Math.min(start + microBatchSize, batch.size);
      const weight = (end - start) / batch.size;
      const micro = microBatchGradients(step, batch, start, end, weight, probe, sums);
      if (!grads || !lossParts) {
        grads = micro.grads;
        lossParts = micro.lossParts;
        continue;
      }
      probe?.phase('accumulate');
      // Variable by variable, so at most one extra gradient tensor is alive on top of the two sets.
      for (const name of Object.keys(grads)) {
        const sum = tf.add(grads[name], micro.grads[name]);
        probe?.markGradients([sum]);
        tf.dispose([grads[name], micro.grads[name]]);
        grads[name] = sum;
      }
      const parts = tf.add(lossParts, micro.lossParts) as tf.Tensor1D;
      tf.dispose([lossParts, micro.lossParts]);
      lossParts = parts;
    }
    if (!grads || !lossParts) throw new Error('batchGradients: the batch is empty');
    if (!sums) return { grads, lossParts };
    probe?.phase('accumulate');
    const nll = sums.nll();
    probe?.markGradients(Object.values(nll.grads));
    const all: tf.NamedTensorMap = {};
    // In the order of step.variables, every step: Adam keeps its state by position.
    for (const v of step.variables) {
      const g = grads[v.name] ?? nll.grads[v.name];
      if (g) all[v.name] = g;
    }
    const parts = tf.concat([lossParts, nll.values]) as tf.Tensor1D;
    tf.dispose([lossParts, nll.values]);
    return { grads: all, lossParts: parts };
  } catch (err) {
    tf.dispose([grads ?? {}, lossParts ?? []]);
    throw err;
  } finally {
    sums?.dispose();
  }
}

function microBatchGradients(step: StepModel, batch: Batch, start: number, end: number, weight: number, probe?: StepProbe, sums?: StatisticsSums): BatchGradients {
  const size = end - start;
  probe?.phase('input');
  const perExample = step.inputShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(batch.x.subarray(start * perExample, end * perExample), [size, ...step.inputShape], 'float32');
  const labels = tf.tensor1d(batch.y.subarray(start, end), 'int32');
  let lossParts: tf.Tensor1D | undefined;
  const kept: tf.Tensor[] = [];
  const observed: { layer: BatchlessNormalization; input: tf.Tensor }[] = [];
  try {
    const { value, grads } = tf.variableGrads(
      () => {
        probe?.phase('forward');
        const nllByLayer = new Map<tf.layers.Layer, tf.Scalar[]>();
        const output = withInputObserver(
          (layer, input) => {
            // Kept: the model's inner scopes would dispose them before the loss is summed.
            if (sums) {
              observed.push({ layer: layer as BatchlessNormalization, input: tf.keep(input) });
              return;
            }
            const terms = nllByLayer.get(layer) ?? [];
            const term = tf.keep((layer as BatchlessNormalization).nll(input));
            kept.push(term);
            terms.push(term);
            nllByLayer.set(layer, terms);
          },
          () => step.model.apply(x, { training: true }) as tf.Tensor,
        );
        const task = taskLoss(output, tf.oneHot(labels, step.numClasses), step.fromProbabilities);
        const nll = sums
          ? []
          : step.batchless.map((layer) => {
              const terms = nllByLayer.get(layer);
              if (!terms) throw new Error(`Layer '${layer.name}' was not called in the forward pass`);
              return terms.length === 1 ? terms[0] : (tf.addN(terms) as tf.Scalar);
            });
        // Scaling the loss by m_i/B makes the gradients arrive pre-weighted: accumulation is one add.
        if (sums) {
          const scaled = tf.mul(task, weight) as tf.Scalar;
          lossParts = tf.keep(tf.reshape(scaled, [1])) as tf.Tensor1D;
          probe?.phase('backward');
          return scaled;
        }
        const parts = tf.mul(tf.stack([task, ...nll]), weight) as tf.Tensor1D;
        lossParts = tf.keep(parts);
        const total = tf.sum(parts) as tf.Scalar;
        probe?.phase('backward');
        return total;
      },
      sums ? sums.taskVariables : step.variables,
    );
    probe?.markGradients(Object.values(grads));
    value.dispose();
    if (sums) {
      probe?.phase('accumulate');
      sums.add(observed);
    }
    return { grads, lossParts: lossParts! };
  } catch (err) {
    lossParts?.dispose();
    throw err;
  } finally {
    tf.dispose([x, labels, ...kept, ...observed.map((o) => o.input)]);
  }
}

/** Sum over `axes`, kept as size-1 dimensions, one axis at a time, innermost first. */
function stagedSum(x: tf.Tensor, axes: number[]): tf.Tensor {
  let sum = x;
  for (const axis of [...axes].sort((p, q) => q - p)) sum = tf.sum(sum, axis, true);
  return sum;
}

function hasSortedAxes(layer: BatchlessNormalization): boolean {
  const axes = layer.statisticsAxes();
  return axes.every((a, i) => i === 0 || axes[i - 1] < a);
}

/** Σ(a − μ) and Σ(a − μ)² per channel over the batch so far, for one call of one layer. */
interface CallSums {
  layer: BatchlessNormalization;
  first: tf.Tensor;
  second: tf.Tensor;
  /** Elements per channel summed so far. */
  count: number;
}

/**
 * The sufficient statistics of every batchless layer's NLL over one effective batch. A layer
 * called more than once per forward pass has one entry per call, as its NLL is a sum over calls.
 */
class StatisticsSums {
  readonly taskVariables: tf.Variable[];
  private readonly statistics: tf.Variable[];
  private readonly calls: CallSums[] = [];

  constructor(private readonly step: StepModel) {
    const names = new Set(step.batchless.flatMap((layer) => layer.statisticsVariables().map((v) => v.name)));
    this.taskVariables = step.variables.filter((v) => !names.has(v.name));
    this.statistics = step.variables.filter((v) => names.has(v.name));
  }

  /** Adds one micro-batch's layer inputs (in call order), then they may be disposed. */
  add(observed: { layer: BatchlessNormalization; input: tf.Tensor }[]): void {
    const callIndex = new Map<BatchlessNormalization, number>();
    for (const { layer, input } of observed) {
      const index = callIndex.get(layer) ?? 0;
      callIndex.set(layer, index + 1);
      const axes = layer.statisticsAxes();
      const reduce = Array.from({ length: input.rank }, (_, i) => i).filter((i) => !axes.includes(i));
      const count = reduce.reduce((n, axis) => n * input.shape[axis], 1);
      // Centred on the micro-batch's own mean and summed one axis at a time (as the layer's nll()
      // does): one float32 sum over every element of a channel loses digits that the σ gradient,
      // a small difference near a good initialization, needs.
      const [first, second] = tf.tidy(() => {
        const shape = input.shape.map((dim, i) => (axes.includes(i) ? dim : 1));
        const statShape = axes.map((axis) => input.shape[axis]);
        const localMean = tf.div(stagedSum(input, reduce), count);
        const offset = tf.sub(localMean, tf.reshape(layer.statisticsVariables()[0], shape));
        const within = stagedSum(tf.square(tf.sub(input, localMean)), reduce);
        return [tf.reshape(tf.mul(offset, count), statShape), tf.reshape(tf.add(within, tf.mul(tf.square(offset), count)), statShape)];
      });
      const entry = this.calls.filter((c) => c.layer === layer)[index];
      if (!entry) {
        this.calls.push({ layer, first, second, count });
        continue;
      }
      const [f, s] = [tf.add(entry.first, first), tf.add(entry.second, second)];
      tf.dispose([entry.first, entry.second, first, second]);
      Object.assign(entry, { first: f, second: s, count: entry.count + count });
    }
  }

  /**
   * Each layer's NLL over the batch (its reported, possibly gauged, value) and the gradients of
   * Σ NLL with respect to μ/σ. Per call, with K elements per channel, C channels and δ = μ − μ₀ (μ₀
   * the value the sums were taken at, so δ = 0 but its gradient is not):
   *   NLL = mean_c log σ_c + ½ · (1/(K·C)) Σ_c (S2_c − 2 δ_c S1_c + K δ_c²) / σ_c²
   */
  nll(): { values: tf.Tensor1D; grads: tf.NamedTensorMap } {
    for (const layer of this.step.batchless) {
      if (!this.calls.some((c) => c.layer === layer)) throw new Error(`Layer '${layer.name}' was not called in the forward pass`);
    }
    const anchors = this.calls.map((c) => tf.clone(c.layer.statisticsVariables()[0]));
    let values: tf.Tensor1D | undefined;
    // One pass gives both: the loss to differentiate and each layer's reported value.
    const total = () => {
      const reported = new Map<BatchlessNormalization, tf.Scalar[]>();
      const terms = this.calls.map((c, i) => {
        const [mean, stored] = c.layer.statisticsVariables();
        const delta = tf.sub(mean, anchors[i]);
        const squares = tf.add(tf.sub(c.second, tf.mul(tf.mul(delta, c.first), 2)), tf.mul(tf.square(delta), c.count));
        const inv = invStd(stored, c.layer.stdParametrization, c.layer.epsilon);
        const halfMeanSquare = tf.mul(tf.sum(tf.mul(squares, tf.square(inv))), 0.5 / (c.count * c.first.size)) as tf.Scalar;
        const term = tf.add(tf.mean(logStd(stored, c.layer.stdParametrization, c.layer.epsilon)), halfMeanSquare) as tf.Scalar;
        // Gauging shifts the reported value by sg(mean log σ) + ½; it never changes the gradient.
        reported.set(c.layer, [...(reported.get(c.layer) ?? []), c.layer.gauge ? (tf.sub(halfMeanSquare, 0.5) as tf.Scalar) : term]);
        return term;
      });
      values = tf.keep(tf.stack(this.step.batchless.map((layer) => tf.addN(reported.get(layer)!)))) as tf.Tensor1D;
      return tf.addN(terms) as tf.Scalar;
    };
    try {
      if (this.statistics.length === 0) {
        tf.tidy(() => {
          total();
        });
        return { values: values!, grads: {} };
      }
      const { value, grads } = tf.variableGrads(total, this.statistics);
      value.dispose();
      return { values: values!, grads };
    } catch (err) {
      values?.dispose();
      throw err;
    } finally {
      tf.dispose(anchors);
    }
  }

  dispose(): void {
    for (const c of this.calls) tf.dispose([c.first, c.second]);
    this.calls.length = 0;
  }
}
