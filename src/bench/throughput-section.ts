import type { BackendName } from '../engine/backend/select';
import type { BuiltinModelName } from '../engine/models/builtin';
import type { ThroughputJob, ThroughputResult } from './jobs';
import { runInWorkers } from './pool';
import { BenchOptions, SectionResult, markdownTable } from './types';

export interface ThroughputData {
  results: (
    | ThroughputResult
    | { backend: BackendName; model: BuiltinModelName; microBatchSize: number; error: string }
  )[];
}

/** Timed steps per configuration: short where a step is slow (cpu, micro-batch 1). */
function stepsFor(
  backend: BackendName,
  model: BuiltinModelName,
  micro: number,
  smoke: boolean,
): number {
  if (smoke) return backend === 'tensorflow' ? 1 : 0;
  if (backend === 'cpu') return 0; // the warm-up step is the measurement: a cpu CNN step takes ~20-60 s
  if (micro === 1) return backend === 'tensorflow' ? 3 : 1;
  if (micro === 8) return backend === 'tensorflow' ? 8 : 2;
  return backend === 'tensorflow' ? (model === 'mlp' ? 30 : 15) : 4;
}

/**
 * (3) Throughput of the real trainer, batchless, effective batch 64 as micro-batches of 1, 8 and
 * 64, on each backend, each backend in a process of its own. Also the cost per micro-batch at
 * micro 1 (dominated by dispatching tfjs kernels) and the kernel count behind it.
 */
export async function throughputSection(
  options: BenchOptions,
): Promise<SectionResult<ThroughputData>> {
  const started = performance.now();
  const backends: BackendName[] = ['tensorflow', 'wasm', 'cpu'];
  const results: ThroughputData['results'] = [];
  const jobsFor = (backend: BackendName): ThroughputJob[] => {
    const models: BuiltinModelName[] =
      options.smoke && backend !== 'tensorflow' ? ['mlp'] : ['mlp', 'cnn'];
    const batchSize = options.smoke ? 8 : 64;
    const micros = options.smoke ? [1, 8] : [1, 8, 64];
    return models.flatMap((model) =>
      micros.map((micro) => ({
        kind: 'throughput' as const,
        backend,
        model,
        norm: 'batchless' as const,
        batchSize,
        microBatchSize: micro,
        steps: stepsFor(backend, model, micro, options.smoke),
      })),
    );
  };
  // A process per backend, so none inherits another's state; the smoke run shares one (start-up is most of its cost).
  const groups = options.smoke ? [backends.flatMap(jobsFor)] : backends.map(jobsFor);
  for (const jobs of groups) {
    options.log(
      `throughput: ${[...new Set(jobs.map((j) => j.backend))].join(', ')} (${jobs.length} runs)`,
    );
    try {
      const done = await runInWorkers<ThroughputResult>(jobs, 1, (r) =>
        options.log(
          `  ${r.backend} ${r.model} micro ${r.microBatchSize}: ${r.samplesPerSecond.toFixed(1)} samples/s`,
        ),
      );
      done.forEach((r, i) => {
        if (r.backend !== jobs[i].backend)
          throw new Error(`asked for ${jobs[i].backend}, ran on ${r.backend}`);
      });
      results.push(...done);
    } catch (err) {
      for (const job of jobs)
        results.push({
          backend: job.backend,
          model: job.model,
          microBatchSize: job.microBatchSize,
          error: (err as Error).message.split('\n')[0],
        });
    }
  }
  const ok = results.filter((r): r is ThroughputResult => !('error' in r));
  const find = (backend: string, model: string, micro: number) =>
    ok.find((r) => r.backend === backend && r.model === model && r.microBatchSize === micro);
  const lines = (['mlp', 'cnn'] as const).flatMap((model) => {
    const full = find('tensorflow', model, options.smoke ? 8 : 64);
    const one = find('tensorflow', model, 1);
    return [
      {
        measure: `tensorflow, builtin:${model}, batch ${options.smoke ? 8 : 64}: samples/s at micro ${options.smoke ? '8 / 1' : '64 / 8 / 1'}`,
        value: (options.smoke ? [full, one] : [full, find('tensorflow', model, 8), one])
          .map((r) => (r ? r.samplesPerSecond.toFixed(0) : '—'))
          .join(' / '),
        target: '— (measured)',
        met: null,
      },
      {
        measure: `tensorflow, builtin:${model}: ms per micro-batch at micro 1 (${one?.kernelsPerMicroBatch !== undefined ? `${one.kernelsPerMicroBatch} tfjs kernels` : `${one?.stepPath ?? '?'} step`})`,
        value: one ? one.msPerMicroBatch.toFixed(2) : '—',
        target: '— (dispatch cost)',
        met: null,
      },
    ];
  });
  const details = markdownTable(
    [
      'backend',
      'model',
      'batch',
      'micro',
      'samples/s',
      'ms per micro-batch',
      'kernels per micro-batch',
      'step',
      'timed steps',
    ],
    results.map((r) =>
      'error' in r
        ? [
            r.backend,
            `builtin:${r.model}`,
            '',
            String(r.microBatchSize),
            `failed: ${r.error}`,
            '',
            '',
            '',
            '',
          ]
        : [
            r.backend,
            `builtin:${r.model}`,
            String(r.batchSize),
            String(r.microBatchSize),
            r.samplesPerSecond.toFixed(1),
            r.msPerMicroBatch.toFixed(2),
            r.kernelsPerMicroBatch?.toFixed(0) ?? '',
            r.stepPath ?? '',
            r.includesFirstStep ? '1 (the first)' : String(r.steps),
          ],
    ),
  );
  return {
    title: '3. Throughput (trainer, batchless)',
    seconds: (performance.now() - started) / 1000,
    lines,
    details,
    data: { results },
  };
}
