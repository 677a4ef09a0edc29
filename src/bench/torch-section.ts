import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ThroughputJob, ThroughputResult } from './jobs';
import { runInWorkers } from './pool';
import { BenchOptions, SectionResult, markdownTable, median } from './types';

/** Names a Python that has torch and numpy; otherwise the bench uses (or provisions) its own venv. */
export const TORCH_PYTHON_ENV = 'BATCHLESS_TORCH_PYTHON';

/** One timed run: samples/s over all timed steps, and the median step's wall time. */
export interface TimedRun {
  samplesPerSecond: number;
  medianStepMs: number;
}

/** One side's numbers for one configuration: per thread count, each round, and the one compared. */
export interface ThreadedTiming {
  /** Thread count → that count's rounds. */
  rounds: Record<string, TimedRun[]>;
  /** Thread count → batch ÷ the median over rounds of the median step time. */
  samplesPerSecond: Record<string, number>;
  /** The thread count with the higher samples/s, and that value. */
  threads: number;
  best: number;
}

export interface TorchData {
  python?: string;
  torch?: { version: string; models: Record<string, ThreadedTiming> };
  engine: (ThreadedTiming & {
    model: string;
    norm: string;
    stepPath?: string;
    /** Intra-op thread count → the native step's threads (each a share of the batch). */
    stepThreads: Record<string, number | undefined>;
  })[];
  /**
   * engine samples/s ÷ PyTorch samples/s, by model and engine normalization; `byRound`: the same
   * ratio within each round (each side at its compared thread count), to show the spread.
   */
  ratios: { model: string; norm: string; ratio: number; byRound: number[] }[];
  skipped?: string;
}

function runPython(python: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(
            new Error(
              `torch_baseline.py failed (${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`,
            ),
          ),
    );
  });
}

/** Thread counts PyTorch may use here: 1 and, on a multi-core machine, every core. */
function nproc(): string {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return cores > 1 ? `1,${cores}` : '1';
}

/** The environment that sizes TensorFlow's intra-op pool in a bench child. */
function threadsEnv(threads: number | string): NodeJS.ProcessEnv {
  return { TF_NUM_INTRAOP_THREADS: String(threads) };
}

/** Per thread count: batch ÷ the median over rounds of each run's median step time; the faster count. */
function threadedTiming(rounds: Record<string, TimedRun[]>): ThreadedTiming {
  const samplesPerSecond = Object.fromEntries(
    Object.entries(rounds).map(([threads, runs]) => [
      threads,
      (64 * 1000) / median(runs.map((r) => r.medianStepMs)),
    ]),
  );
  const [threads, best] = Object.entries(samplesPerSecond).sort((a, b) => b[1] - a[1])[0];
  return { rounds, samplesPerSecond, threads: Number(threads), best };
}

function hasTorch(python: string): boolean {
  const probe = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  return probe.status === 0;
}

/** The Python to use: $BATCHLESS_TORCH_PYTHON, else artifacts/torch-venv (provisioned by a full run if missing). */
function findPython(options: BenchOptions): { python?: string; why: string } {
  const fromEnv = process.env[TORCH_PYTHON_ENV];
  if (fromEnv)
    return hasTorch(fromEnv)
      ? { python: fromEnv, why: `$${TORCH_PYTHON_ENV}` }
      : { why: `$${TORCH_PYTHON_ENV}=${fromEnv} cannot import torch and numpy` };
  const venv = path.join(options.root, 'artifacts', 'torch-venv', 'bin', 'python');
  if (fs.existsSync(venv) && hasTorch(venv)) return { python: venv, why: 'artifacts/torch-venv' };
  if (options.smoke)
    return {
      why: `no Python with torch: set ${TORCH_PYTHON_ENV} or run scripts/provision-torch.sh (the smoke run does not provision)`,
    };
  options.log(
    'pytorch: provisioning artifacts/torch-venv with scripts/provision-torch.sh (a few minutes, once)',
  );
  const run = spawnSync('bash', [path.join(options.root, 'scripts', 'provision-torch.sh')], {
    encoding: 'utf8',
  });
  const python = run.stdout.trim().split('\n').pop();
  if (run.status === 0 && python && hasTorch(python))
    return { python, why: 'provisioned artifacts/torch-venv' };
  return { why: `provisioning PyTorch failed: ${(run.stderr || '').trim().split('\n').pop()}` };
}

/**
 * (4) The same two models with BN, trained in PyTorch and in the engine (default backend) on the
 * same MNIST digits at batch 64, the same number of steps after the same warm-up: samples/s and
 * the ratio engine / PyTorch (target for the default backend ≥ 0.8). The engine is also timed
 * batchless at micro 64 (the same batch, its own layer).
 */
export async function torchSection(
  options: BenchOptions,
  defaultBackend: string,
): Promise<SectionResult<TorchData>> {
  const started = performance.now();
  // Many short steps per run: a run's median step then shrugs off a burst of load that a mean would absorb.
  const steps = options.smoke ? 2 : 150;
  const warmup = options.smoke ? 1 : 3;
  const models = options.smoke ? (['mlp'] as const) : (['mlp', 'cnn'] as const);
  const { python, why } = findPython(options);
  if (!python) {
    return {
      title: '4. PyTorch baseline',
      seconds: (performance.now() - started) / 1000,
      lines: [
        {
          measure: 'engine / PyTorch samples/s, batch 64',
          value: `not measured: ${why}`,
          target: '≥ 0.8',
          met: false,
        },
      ],
      details: '',
      data: { engine: [], ratios: [], skipped: why },
    };
  }
  // Seven rounds: the median of five still moved by ~0.1 between runs of the same code here.
  const rounds = options.smoke ? 1 : 7;
  const threadCounts = nproc().split(',');
  options.log(
    `pytorch: ${python} (${why}), ${rounds} round(s) of ${steps} steps after ${warmup} at ${threadCounts.join(' and ')} thread(s), PyTorch and engine in turn`,
  );
  const script = path.join(options.root, 'src', 'bench', 'torch_baseline.py');
  const digits = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const jobs: ThroughputJob[] = models.flatMap((model) =>
    (['batch', 'batchless'] as const).map((norm) => ({
      kind: 'throughput' as const,
      model,
      norm,
      batchSize: 64,
      microBatchSize: 64,
      steps,
      warmupSteps: warmup,
      backend: defaultBackend as ThroughputJob['backend'],
    })),
  );
  // A shared machine's load comes and goes in bursts: PyTorch and the engine alternate, each
  // round times every thread count on both sides, and each side is taken at its faster count.
  // Medians (of step times within a run, then over rounds) keep a burst from deciding the ratio.
  const torchRuns: Record<string, Record<string, TimedRun[]>> = {};
  const engineRuns: Record<string, TimedRun[]>[] = jobs.map(() => ({}));
  let version = '';
  const stepPaths: (string | undefined)[] = [];
  // Thread count (intra-op) → the step threads the engine chose with it, per job.
  const stepThreads: Record<string, number | undefined>[] = jobs.map(() => ({}));
  for (let round = 0; round < rounds; round++) {
    const stdout = await runPython(python, [
      script,
      ...['--digits', digits, '--batch', '64', '--steps', String(steps)],
      ...[
        '--warmup',
        String(warmup),
        // Rotated each round as the engine's jobs are: PyTorch's first run starts cold too.
        '--models',
        (round % 2 ? [...models].reverse() : models).join(','),
        '--threads',
        (round % 2 ? [...threadCounts].reverse() : threadCounts).join(','),
      ],
    ]);
    const parsed = JSON.parse(stdout.trim().split('\n').pop() as string) as {
      torch: string;
      models: Record<string, { byThreads: Record<string, TimedRun> }>;
    };
    version = parsed.torch;
    for (const model of models)
      for (const [threads, run] of Object.entries(parsed.models[model].byThreads))
        ((torchRuns[model] ??= {})[threads] ??= []).push(run);
    for (const threads of threadCounts) {
      // One process runs the four jobs in turn, and the first one starts cold (JIT, allocator):
      // each round starts with the next job, so no configuration is always the cold one.
      const order = jobs.map((_, i) => (i + round) % jobs.length);
      const ran = await runInWorkers<ThroughputResult>(order.map((i) => jobs[i]), 1, undefined, threadsEnv(threads));
      const results = jobs.map((_, i) => ran[order.indexOf(i)]);
      results.forEach((r, i) => {
        (engineRuns[i][threads] ??= []).push(r);
        stepPaths[i] = r.stepPath;
        stepThreads[i][threads] = r.stepThreads;
      });
    }
    options.log(`pytorch: round ${round + 1} done`);
  }
  const torch = {
    version,
    models: Object.fromEntries(models.map((m) => [m, threadedTiming(torchRuns[m])])),
  };
  const engine = jobs.map((job, i) => ({
    model: job.model,
    norm: job.norm,
    stepPath: stepPaths[i],
    ...threadedTiming(engineRuns[i]),
    stepThreads: stepThreads[i],
  }));
  const ratios = engine.map((r) => {
    const reference = torch.models[r.model];
    const [ours, theirs] = [r.rounds[String(r.threads)], reference.rounds[String(reference.threads)]];
    return {
      model: r.model,
      norm: r.norm,
      ratio: r.best / reference.best,
      byRound: ours.map((run, k) => theirs[k].medianStepMs / run.medianStepMs),
    };
  });
  const lines = ratios.map(({ model, norm, ratio }, i) => ({
    measure: `engine (${defaultBackend}, ${norm === 'batch' ? 'BN' : 'batchless micro 64'}, ${engine[i].stepPath ?? '?'} step) / PyTorch (BN), builtin:${model}, batch 64`,
    value: `${ratio.toFixed(2)} (${engine[i].best.toFixed(0)} vs ${torch.models[model].best.toFixed(0)} samples/s)`,
    target: '≥ 0.8',
    met: ratio >= 0.8,
  }));
  const cell = (t: ThreadedTiming & { stepThreads?: Record<string, number | undefined> }) => {
    const spread = (n: string) =>
      (t.stepThreads?.[n] ?? 1) > 1 ? ` × ${t.stepThreads![n]} step threads` : '';
    return `**${t.best.toFixed(0)}** (${t.threads} thread${t.threads > 1 ? 's' : ''}${spread(String(t.threads))}; ${Object.entries(
      t.samplesPerSecond,
    )
      .map(([n, v]) => `${n}${spread(n)}: ${v.toFixed(0)}`)
      .join(', ')})`;
  };
  const details =
    markdownTable(
      [
        'model',
        `PyTorch ${version} (BN)`,
        `engine BN (${defaultBackend})`,
        `engine batchless micro 64 (${defaultBackend})`,
      ],
      models.map((model) => [
        `builtin:${model}`,
        cell(torch.models[model]),
        ...(['batch', 'batchless'] as const).map((norm) =>
          cell(engine.find((e) => e.model === model && e.norm === norm)!),
        ),
      ]),
    ) +
    `\n\nEngine ÷ PyTorch within each round, in order (each side at its compared thread count): ${ratios
      .map((r) => `${r.model} ${r.norm === 'batch' ? 'BN' : r.norm} ${r.byRound.map((x) => x.toFixed(2)).join('/')}`)
      .join('; ')}.` +
    `\n\nSamples/s at batch 64 as 64 ÷ the median step time (the median within each run of ${steps} timed steps after ${warmup} warm-up steps, then the median over ${rounds} rounds), at each thread count (TF_NUM_INTRAOP_THREADS for the engine, torch.set_num_threads for PyTorch); each side is compared at its faster count. "× 2 step threads": the engine chose to spread each batch over two threads (a batchless convolutional model whose step runs op by op while TensorFlow computes each op on one thread). Mean samples/s per round, PyTorch: ${models
      .map(
        (m) =>
          `${m} ${Object.entries(torchRuns[m])
            .map(([n, runs]) => `${n}t ${runs.map((r) => r.samplesPerSecond.toFixed(0)).join('/')}`)
            .join(', ')}`,
      )
      .join('; ')}; engine: ${engine
      .map(
        (e, i) =>
          `${e.model} ${e.norm} ${Object.entries(engineRuns[i])
            .map(([n, runs]) => `${n}t ${runs.map((r) => r.samplesPerSecond.toFixed(0)).join('/')}`)
            .join(', ')}`,
      )
      .join('; ')}.`;
  return {
    title: '4. PyTorch baseline',
    seconds: (performance.now() - started) / 1000,
    lines,
    details,
    data: { python, torch, engine, ratios },
  };
}
