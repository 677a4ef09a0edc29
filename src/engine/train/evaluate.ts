import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset';
import { taskLoss } from './task-loss';

export interface Evaluation {
  accuracy: number;
  loss: number;
  count: number;
}

/** Accuracy and mean task loss in inference mode, in chunks; one host read at the end. */
export async function evaluate(model: tf.LayersModel, data: Dataset, chunk: number, fromProbabilities: boolean): Promise<Evaluation> {
  if (data.count === 0) return { accuracy: NaN, loss: NaN, count: 0 };
  const perExample = data.inputShape.reduce((a, b) => a * b, 1);
  let totals = tf.zeros([2]);
  for (let start = 0; start < data.count; start += chunk) {
    const end = Math.min(start + chunk, data.count);
    const next = tf.tidy(() => {
      const x = tf.tensor(data.x.subarray(start * perExample, end * perExample), [end - start, ...data.inputShape], 'float32');
      const labels = tf.tensor1d(data.y.subarray(start, end), 'int32');
      const output = model.apply(x, { training: false }) as tf.Tensor;
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(output, -1), labels), 'float32'));
      const loss = tf.mul(taskLoss(output, tf.oneHot(labels, data.numClasses), fromProbabilities), end - start);
      return tf.add(totals, tf.stack([correct, loss]));
    });
    totals.dispose();
    totals = next;
  }
  const [correct, lossSum] = await totals.data();
  totals.dispose();
  return { accuracy: correct / data.count, loss: lossSum / data.count, count: data.count };
}
