import type { NormKind } from '../engine/models/builtin';
import type { AccuracyJob, AccuracyResult } from './jobs';
import { runInWorkers } from './pool';
import { BenchOptions, SectionResult, markdownTable } from './types';

export interface AccuracyData {
  results: AccuracyResult[];
  /** Mean test accuracy over seeds, by norm and batch size. */
  mean: Record<string, Record<number, number>>;
  workers: number;
}

const NORMS: NormKind[] = ['none', 'batch', 'batchless'];
const label = (norm: NormKind) => (norm === 'batch' ? 'BN' : norm);

/**
 * (5) The accuracy protocol: all 10,000 MNIST digits shuffled with the seed, the first 8,000
 * train and the last 2,000 test; one epoch of Adam 1e-3 on builtin:mlp at batch 32, 8 and 2, with
 * no normalization, BN and batchless (μ/σ from data), two seeds. Independent runs go to two
 * worker processes, longest first. Expected shape: BN collapses at batch 2, batchless does not,
 * and batchless is within ~1.5 points of BN at batch 32.
 */
export async function accuracySection(
  options: BenchOptions,
  backend?: string,
): Promise<SectionResult<AccuracyData>> {
  const started = performance.now();
  const seeds = options.smoke ? [0] : [0, 1];
  const batchSizes = options.smoke ? [32, 2] : [32, 8, 2];
  const jobs: AccuracyJob[] = [];
  for (const batchSize of [...batchSizes].sort((a, b) => a - b)) {
    for (const seed of seeds) {
      for (const norm of NORMS) {
        jobs.push({
          kind: 'accuracy',
          backend: backend as AccuracyJob['backend'],
          model: 'mlp',
          norm,
          batchSize,
          seed,
          epochs: 1,
          maxSteps: options.smoke ? 15 : 0,
          limit: options.smoke ? 600 : undefined,
        });
      }
    }
  }
  const workers = 2;
  options.log(`accuracy: ${jobs.length} runs in ${workers} worker processes`);
  const results = await runInWorkers<AccuracyResult>(jobs, workers, (r) =>
    options.log(
      `  ${label(r.norm)} batch ${r.batchSize} seed ${r.seed}: ${(r.testAccuracy * 100).toFixed(2)}% in ${r.seconds.toFixed(1)} s (${r.steps} steps)`,
    ),
  );
  const mean: AccuracyData['mean'] = {};
  for (const norm of NORMS) {
    mean[norm] = {};
    for (const batchSize of batchSizes) {
      const runs = results.filter((r) => r.norm === norm && r.batchSize === batchSize);
      mean[norm][batchSize] = runs.reduce((s, r) => s + r.testAccuracy, 0) / runs.length;
    }
  }
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const largest = Math.max(...batchSizes);
  const smallest = Math.min(...batchSizes);
  const bnDrop = mean.batch[largest] - mean.batch[smallest];
  const batchlessDrop = mean.batchless[largest] - mean.batchless[smallest];
  const gap = mean.batch[largest] - mean.batchless[largest];
  const lines = [
    {
      measure: `BN at batch ${smallest} vs ${largest} (mean of ${seeds.length} seed${seeds.length > 1 ? 's' : ''})`,
      value: `${pct(mean.batch[smallest])} vs ${pct(mean.batch[largest])}`,
      target: 'collapses at batch 2',
      met: bnDrop >= 0.05,
    },
    {
      measure: `batchless at batch ${smallest} vs ${largest}`,
      value: `${pct(mean.batchless[smallest])} vs ${pct(mean.batchless[largest])}`,
      target: 'does not collapse',
      met: batchlessDrop < 0.05,
    },
    {
      measure: `BN − batchless at batch ${largest}`,
      value: `${(gap * 100).toFixed(2)} points`,
      target: 'within ~1.5 points',
      met: gap <= 0.015,
    },
  ];
  const details = [
    markdownTable(
      ['builtin:mlp, 1 epoch', ...batchSizes.map((b) => `batch ${b}`)],
      NORMS.map((norm) => [
        label(norm),
        ...batchSizes.map(
          (b) =>
            `${pct(mean[norm][b])} (${results
              .filter((r) => r.norm === norm && r.batchSize === b)
              .map((r) => pct(r.testAccuracy))
              .join(', ')})`,
        ),
      ]),
    ),
    `Test accuracy on the 2,000 held-out digits, mean over seeds ${seeds.join(', ')} (each seed in parentheses).${options.smoke ? ' Smoke run: 600 digits, 15 steps per run.' : ''}`,
  ].join('\n\n');
  return {
    title: '5. Accuracy protocol (builtin:mlp, MNIST 8,000 / 2,000, 1 epoch)',
    seconds: (performance.now() - started) / 1000,
    lines,
    details,
    data: { results, mean, workers },
  };
}
