import { sliceBatch } from '../engine/data/dataset';
import { loadSessionData } from '../engine/data/session-split';
import { StepBreakdown, measureStepBreakdown } from '../engine/memory/breakdown';
import { buildBuiltinModel } from '../engine/models/builtin';
import { BenchOptions, SectionResult, markdownTable, mib } from './types';

export interface MemoryData {
  backend: string;
  points: {
    norm: 'batch' | 'batchless';
    batchSize: number;
    microBatchSize: number;
    peakStepBytes: number;
    peakBytes: number;
    activationsBytes: number;
    lowerBoundBytes: number;
    updatePeakStepBytes: number;
    rssBeforeBytes: number | null;
    rssPeakBytes: number | null;
  }[];
  activationRatio: number;
  peakStepRatio: number;
  flatness: { from: number; to: number; relativeChange: number };
}

/**
 * (1) Memory on builtin:cnn: batchless micro-batch 1 against BN, both at effective batch 64
 * (activation bytes, target ≤ 1/30), and flatness of the batchless peak from batch 8 to 1024
 * (target within 5%). Every number is a measured step (see measureStepBreakdown).
 */
export async function memorySection(
  options: BenchOptions,
  backend: string,
): Promise<SectionResult<MemoryData>> {
  const started = performance.now();
  const inputShape = [28, 28, 1];
  const { train } = loadSessionData('mnist', 0, inputShape);
  const bn = buildBuiltinModel('cnn', { norm: 'batch', seed: 0 });
  const batchless = buildBuiltinModel('cnn', { norm: 'batchless', seed: 0 });
  const largest = options.smoke ? 64 : 1024;
  const batch = (n: number) =>
    sliceBatch(
      train,
      Int32Array.from({ length: n }, (_, i) => i % train.count),
    );
  const common = { inputShape, numClasses: train.numClasses };
  const measured: { norm: 'batch' | 'batchless'; b: StepBreakdown }[] = [];
  const measure = async (norm: 'batch' | 'batchless', size: number, micro: number) => {
    options.log(`memory: ${norm} batch ${size} micro ${micro}`);
    const b = await measureStepBreakdown(
      norm === 'batch' ? bn : batchless,
      batch(size),
      micro,
      common,
    );
    measured.push({ norm, b });
    return b;
  };
  const bn64 = await measure('batch', 64, 64);
  if (!options.smoke) await measure('batch', largest, largest);
  const bl8 = await measure('batchless', 8, 1);
  const bl64 = await measure('batchless', 64, 1);
  const blLargest = largest === 64 ? bl64 : await measure('batchless', largest, 1);
  bn.dispose();
  batchless.dispose();

  const step = (b: StepBreakdown) => b.backprop.peakBytes - b.residentBytes;
  const activationRatio = bl64.activationsPeakBytes / bn64.activationsPeakBytes;
  const flatness = {
    from: 8,
    to: largest,
    relativeChange: (step(blLargest) - step(bl8)) / step(bl8),
  };
  const data: MemoryData = {
    backend,
    points: measured.map(({ norm, b }) => ({
      norm,
      batchSize: b.batchSize,
      microBatchSize: b.microBatchSize,
      peakStepBytes: step(b),
      peakBytes: b.peakBytes,
      activationsBytes: b.activationsPeakBytes,
      lowerBoundBytes: b.lowerBound.totalBytes,
      updatePeakStepBytes: b.update.peakBytes - b.residentBytes,
      rssBeforeBytes: b.process.rssBeforeBytes,
      rssPeakBytes: b.process.rssPeakBytes,
    })),
    activationRatio,
    peakStepRatio: step(bl64) / step(bn64),
    flatness,
  };
  const details = markdownTable(
    [
      'builtin:cnn',
      'effective batch',
      'micro-batch',
      'peak step (tensors)',
      'activations',
      'lower bound (whole step)',
      'process RSS before → peak',
    ],
    data.points.map((p) => [
      p.norm === 'batch' ? 'BN' : 'batchless',
      String(p.batchSize),
      String(p.microBatchSize),
      mib(p.peakStepBytes),
      mib(p.activationsBytes),
      mib(p.lowerBoundBytes),
      p.rssBeforeBytes === null || p.rssPeakBytes === null
        ? 'unavailable'
        : `${mib(p.rssBeforeBytes)} → ${mib(p.rssPeakBytes)}`,
    ]),
  );
  return {
    title: '1. Memory (builtin:cnn)',
    seconds: (performance.now() - started) / 1000,
    lines: [
      {
        measure: 'activation bytes, batchless micro 1 / BN, effective batch 64',
        value: `1/${(1 / activationRatio).toFixed(1)} (${mib(bl64.activationsPeakBytes)} vs ${mib(bn64.activationsPeakBytes)})`,
        target: '≤ 1/30',
        met: activationRatio <= 1 / 30,
      },
      {
        measure: 'peak step bytes, batchless micro 1 / BN, effective batch 64',
        value: `1/${(1 / data.peakStepRatio).toFixed(1)} (${mib(step(bl64))} vs ${mib(step(bn64))})`,
        target: '—',
        met: null,
      },
      {
        measure: `batchless micro 1 peak, effective batch ${largest} vs 8`,
        value: `${(flatness.relativeChange * 100).toFixed(2)}% (${mib(step(blLargest))} vs ${mib(step(bl8))})`,
        target: 'within 5%',
        met: Math.abs(flatness.relativeChange) <= 0.05,
      },
    ],
    details,
    data,
  };
}
