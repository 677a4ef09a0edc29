import * as tf from '@tensorflow/tfjs';
import { Batch, sliceBatch } from '../engine/data/dataset';
import { batchGradients, stepModelOf } from '../engine/train/batch-gradients';
import { loadSessionData } from '../engine/data/session-split';
import {
  BuiltinModelName,
  NormKind,
  buildBuiltinModel,
  builtinInputShape,
} from '../engine/models/builtin';
import { findBatchlessLayers } from '../engine/models/norm-layers';
import { NativeStep } from '../engine/native/native-step';
import { checkAccumulation } from '../engine/train/accumulation-check';
import { initializeFromData } from '../engine/train/data-init';
import { BenchOptions, SectionResult, markdownTable } from './types';

export interface ExactnessRow {
  model: BuiltinModelName;
  norm: NormKind;
  batchSize: number;
  microBatchSize: number;
  /** As checkAccumulation defines it: per variable, max |acc − full| / max |full|; the worst variable. */
  maxRelDiff: number;
  worstVariable: string;
  maxAbsDiff: number;
  /** ‖acc − full‖ / ‖full‖ over all gradients together (the update direction's relative error). */
  globalRelDiff: number;
  /** Which training step computed both gradients (the generic one unless said). */
  step?: 'generic' | 'native';
}

/**
 * (2) Exactness: the gradient of one batch of 64 computed whole against the same batch as
 * accumulated micro-batches (1 and 8), max relative difference over all variables. Batchless
 * should agree to float rounding (target ≤ 1e-5); BN, for contrast, cannot.
 */
export async function exactnessSection(
  options: BenchOptions,
): Promise<SectionResult<ExactnessRow[]>> {
  const started = performance.now();
  const batchSize = options.smoke ? 16 : 64;
  const rows: ExactnessRow[] = [];
  for (const name of ['mlp', 'cnn'] as const) {
    const inputShape = builtinInputShape(name);
    const { train } = loadSessionData('mnist', 0, inputShape);
    const batch = sliceBatch(train, 0, batchSize);
    for (const norm of ['batchless', 'batch'] as const) {
      const model = buildBuiltinModel(name, { norm, seed: 0 });
      const layers = findBatchlessLayers(model);
      // Where training really starts: μ/σ from data, as `batchless train` does.
      if (layers.length > 0)
        initializeFromData(model, layers, sliceBatch(train, 0, 512), inputShape);
      for (const micro of [1, 8]) {
        options.log(`exactness: ${name} ${norm} batch ${batchSize} micro ${micro}`);
        const report = checkAccumulation(model, batch, micro, inputShape, train.numClasses);
        const worst = report.variables.reduce((a, b) => (b.maxRelDiff > a.maxRelDiff ? b : a));
        rows.push({
          model: name,
          norm,
          batchSize,
          microBatchSize: micro,
          maxRelDiff: report.maxRelDiff,
          worstVariable: worst.variable,
          maxAbsDiff: report.maxAbsDiff,
          globalRelDiff: globalRelDiff(model, batch, micro, inputShape),
        });
      }
      if (norm === 'batchless') rows.push(...nativeRows(model, name, batch, options));
      model.dispose();
    }
  }
  const of = (norm: NormKind) => rows.filter((r) => r.norm === norm);
  const worstRow = of('batchless').reduce((a, b) => (b.maxRelDiff > a.maxRelDiff ? b : a));
  const batchless = worstRow.maxRelDiff;
  const batchlessGlobal = Math.max(...of('batchless').map((r) => r.globalRelDiff));
  const bn = Math.min(...of('batch').map((r) => r.maxRelDiff));
  const bnGlobal = Math.min(...of('batch').map((r) => r.globalRelDiff));
  return {
    title: '2. Exactness (accumulated vs full-batch gradient)',
    seconds: (performance.now() - started) / 1000,
    lines: [
      {
        measure: `batchless: max rel diff (per variable, worst), batch ${batchSize} as micro 1 and 8 (MLP, CNN; generic and native steps)`,
        value: `${batchless.toExponential(2)} (${worstRow.model} ${worstRow.worstVariable}, micro ${worstRow.microBatchSize}, ${worstRow.step ?? 'generic'} step)`,
        target: '≤ 1e-5',
        met: batchless <= 1e-5,
      },
      {
        measure: 'batchless: ‖acc − full‖ / ‖full‖ over all gradients, worst case',
        value: batchlessGlobal.toExponential(2),
        target: '≤ 1e-5',
        met: batchlessGlobal <= 1e-5,
      },
      {
        measure: 'BN: the same two numbers, best case',
        value: `${bn.toExponential(2)} / ${bnGlobal.toExponential(2)}`,
        target: '— (BN cannot be split)',
        met: null,
      },
    ],
    details: markdownTable(
      [
        'model',
        'norm',
        'step',
        'batch',
        'micro',
        'max rel diff (worst variable)',
        'max abs diff',
        '‖acc − full‖ / ‖full‖',
      ],
      rows.map((r) => [
        `builtin:${r.model}`,
        r.norm === 'batch' ? 'BN' : 'batchless',
        r.step ?? 'generic',
        String(r.batchSize),
        String(r.microBatchSize),
        `${r.maxRelDiff.toExponential(2)} (${r.worstVariable})`,
        r.maxAbsDiff.toExponential(2),
        r.globalRelDiff.toExponential(2),
      ]),
    ),
    data: rows,
  };
}

/**
 * The same comparison inside the native step (tensorflow backend only): its accumulated
 * micro-batches against its own full batch. Empty on other backends.
 */
function nativeRows(
  model: tf.LayersModel,
  name: BuiltinModelName,
  batch: Batch,
  options: BenchOptions,
): ExactnessRow[] {
  const step = stepModelOf(model, builtinInputShape(name), 10);
  const native = NativeStep.compile(step, {
    optimizer: 'adam',
    learningRate: 1e-3,
    statsLearningRate: 0,
  });
  if (!(native instanceof NativeStep)) return [];
  try {
    const full = native.gradientsAsTfjs(batch, batch.size);
    const rows = [1, 8].map((micro): ExactnessRow => {
      options.log(`exactness: ${name} batchless (native step) batch ${batch.size} micro ${micro}`);
      const acc = native.gradientsAsTfjs(batch, micro);
      const names = Object.keys(full.grads);
      const perVariable = tf.tidy(() =>
        names.map((n) => {
          const [diff, scale] = tf
            .stack([
              tf.max(tf.abs(tf.sub(acc.grads[n], full.grads[n]))),
              tf.max(tf.abs(full.grads[n])),
            ])
            .dataSync();
          return { name: n, diff, rel: scale > 0 ? diff / scale : diff };
        }),
      );
      const [d, f] = tf.tidy(() =>
        tf
          .stack([
            tf.addN(names.map((n) => tf.sum(tf.square(tf.sub(acc.grads[n], full.grads[n]))))),
            tf.addN(names.map((n) => tf.sum(tf.square(full.grads[n])))),
          ])
          .dataSync(),
      );
      tf.dispose([acc.grads, acc.lossParts]);
      const worst = perVariable.reduce((a, b) => (b.rel > a.rel ? b : a));
      return {
        model: name,
        norm: 'batchless',
        step: 'native',
        batchSize: batch.size,
        microBatchSize: micro,
        maxRelDiff: worst.rel,
        worstVariable: worst.name,
        maxAbsDiff: Math.max(...perVariable.map((v) => v.diff)),
        globalRelDiff: Math.sqrt(d) / Math.sqrt(f),
      };
    });
    tf.dispose([full.grads, full.lossParts]);
    return rows;
  } finally {
    native.dispose();
  }
}

/** ‖accumulated − full‖₂ / ‖full‖₂ over every gradient, weights (BN moving averages) restored. */
function globalRelDiff(
  model: tf.LayersModel,
  batch: Batch,
  micro: number,
  inputShape: number[],
): number {
  const saved = model.getWeights().map((w) => w.clone());
  const step = stepModelOf(model, inputShape, 10);
  const full = batchGradients(step, batch, batch.size);
  model.setWeights(saved);
  const acc = batchGradients(step, batch, micro);
  model.setWeights(saved);
  const [diff, norm] = tf.tidy(() => {
    const names = Object.keys(full.grads);
    const d = tf.addN(names.map((n) => tf.sum(tf.square(tf.sub(acc.grads[n], full.grads[n])))));
    const f = tf.addN(names.map((n) => tf.sum(tf.square(full.grads[n]))));
    return tf.stack([d, f]).dataSync();
  });
  tf.dispose([saved, full.grads, full.lossParts, acc.grads, acc.lossParts]);
  return Math.sqrt(diff) / Math.sqrt(norm);
}
