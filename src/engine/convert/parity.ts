import * as tf from '@tensorflow/tfjs';

export type { Difference, ParityReport } from '../../shared/conversion';
import type { Difference, ParityReport } from '../../shared/conversion';

/**
 * Runs the original (inference mode) and the converted model on the same inputs and reports the
 * largest differences per output and per converted layer: the evidence that conversion did not
 * change what the model computes.
 */
export function checkParity(original: tf.LayersModel, converted: tf.LayersModel, x: tf.Tensor, layerNames: string[], inputs: string, tolerance = 1e-4): ParityReport {
  let report: ParityReport | undefined;
  tf.tidy(() => {
    const asList = (t: tf.Tensor | tf.Tensor[]) => (Array.isArray(t) ? t : [t]);
    const before = asList(original.predict(x) as tf.Tensor | tf.Tensor[]);
    const after = asList(converted.predict(x) as tf.Tensor | tf.Tensor[]);
    const outputs = before.map((b, i) => difference(original.outputNames[i] ?? `output${i}`, b, after[i]));
    const layers = layerNames
      .filter((name) => !name.includes('/'))
      .map((name) => {
        const probe = (m: tf.LayersModel) => tf.model({ inputs: m.inputs, outputs: m.getLayer(name).output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
        return difference(name, probe(original), probe(converted));
      });
    const all = [...outputs, ...layers];
    const maxRelDiff = Math.max(0, ...all.map((d) => d.maxRelDiff));
    report = {
      instances: x.shape[0],
      inputs,
      outputs,
      layers,
      maxAbsDiff: Math.max(0, ...all.map((d) => d.maxAbsDiff)),
      maxRelDiff,
      tolerance,
      passed: maxRelDiff <= tolerance,
    };
  });
  return report!;
}

function difference(name: string, original: tf.Tensor, converted: tf.Tensor): Difference {
  const [absDiff, scale] = tf.stack([tf.max(tf.abs(tf.sub(original, converted))), tf.max(tf.abs(original))]).dataSync();
  return { name, maxAbsDiff: absDiff, maxRelDiff: scale > 0 ? absDiff / scale : absDiff };
}
