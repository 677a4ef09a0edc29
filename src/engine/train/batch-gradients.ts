import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/dataset';
import type { BatchlessNormalization } from '../layers/batchless-normalization';
import { withInputObserver } from '../layers/input-observers';
import { taskLoss } from './task-loss';

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
 * One backward pass per micro-batch yields both gradient streams: the loss is task + Σ NLL, and the
 * layer's stop-gradients keep the task loss off μ/σ and the NLL off the activations.
 */
export function batchGradients(step: StepModel, batch: Batch, microBatchSize: number, probe?: StepProbe): BatchGradients {
  let grads: tf.NamedTensorMap | undefined;
  let lossParts: tf.Tensor1D | undefined;
  for (let start = 0; start < batch.size; start += microBatchSize) {
    const end = Math.min(start + microBatchSize, batch.size);
    const weight = (end - start) / batch.size;
    const micro = microBatchGradients(step, batch, start, end, weight, probe);
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
  return { grads, lossParts };
}

function microBatchGradients(step: StepModel, batch: Batch, start: number, end: number, weight: number, probe?: StepProbe): BatchGradients {
  const size = end - start;
  probe?.phase('input');
  const perExample = step.inputShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(batch.x.subarray(start * perExample, end * perExample), [size, ...step.inputShape], 'float32');
  const labels = tf.tensor1d(batch.y.subarray(start, end), 'int32');
  let lossParts: tf.Tensor1D | undefined;
  const kept: tf.Tensor[] = [];
  try {
    const { value, grads } = tf.variableGrads(() => {
      probe?.phase('forward');
      const nllByLayer = new Map<tf.layers.Layer, tf.Scalar[]>();
      const output = withInputObserver(
        (layer, input) => {
          const terms = nllByLayer.get(layer) ?? [];
          // Kept: the model's inner scopes would dispose it before the loss is summed.
          const term = tf.keep((layer as BatchlessNormalization).nll(input));
          kept.push(term);
          terms.push(term);
          nllByLayer.set(layer, terms);
        },
        () => step.model.apply(x, { training: true }) as tf.Tensor,
      );
      const task = taskLoss(output, tf.oneHot(labels, step.numClasses), step.fromProbabilities);
      const nll = step.batchless.map((layer) => {
        const terms = nllByLayer.get(layer);
        if (!terms) throw new Error(`Layer '${layer.name}' was not called in the forward pass`);
        return terms.length === 1 ? terms[0] : (tf.addN(terms) as tf.Scalar);
      });
      // Scaling the loss by m_i/B makes the gradients arrive pre-weighted: accumulation is one add.
      const parts = tf.mul(tf.stack([task, ...nll]), weight) as tf.Tensor1D;
      lossParts = tf.keep(parts);
      const total = tf.sum(parts) as tf.Scalar;
      probe?.phase('backward');
      return total;
    }, step.variables);
    probe?.markGradients(Object.values(grads));
    value.dispose();
    return { grads, lossParts: lossParts! };
  } catch (err) {
    lossParts?.dispose();
    throw err;
  } finally {
    tf.dispose([x, labels, ...kept]);
  }
}
