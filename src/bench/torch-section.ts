import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ThroughputJob, ThroughputResult } from './jobs';
import { runInWorkers } from './pool';
import { BenchOptions, SectionResult, markdownTable } from './types';

/** Names a Python that has torch and numpy; otherwise the bench uses (or provisions) its own venv. */
export const TORCH_PYTHON_ENV = 'BATCHLESS_TORCH_PYTHON';

export interface TorchData {
  python?: string;
  torch?: {
    torch: string;
    threads: number[];
    models: Record<
      string,
      {
        samplesPerSecond: number;
        steps: number;
        warmupSteps: number;
        threads: number;
        probes: Record<string, number>;
      }
    >;
  };
  engine: ThroughputResult[];
  /** engine samples/s ÷ PyTorch samples/s, by model and engine normalization. */
  ratios: { model: string; norm: string; ratio: number }[];
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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
  const steps = options.smoke ? 2 : 50;
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
  const rounds = options.smoke ? 1 : 3;
  options.log(
    `pytorch: ${python} (${why}), ${rounds} round(s) of ${steps} steps after ${warmup}, PyTorch and engine in turn`,
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
  // A shared machine's load comes and goes: PyTorch and the engine alternate, and each number is
  // the median of its rounds.
  const torchRounds: NonNullable<TorchData['torch']>[] = [];
  const engineRounds: ThroughputResult[][] = [];
  for (let round = 0; round < rounds; round++) {
    const threads =
      torchRounds.length > 0
        ? models.map((m) => torchRounds[0].models[m].threads).join(',')
        : nproc();
    const stdout = await runPython(python, [
      script,
      '--digits',
      digits,
      '--batch',
      '64',
      '--steps',
      String(steps),
      '--warmup',
      String(warmup),
      '--models',
      models.join(','),
      '--threads',
      threads,
    ]);
    torchRounds.push(
      JSON.parse(stdout.trim().split('\n').pop() as string) as NonNullable<TorchData['torch']>,
    );
    engineRounds.push(await runInWorkers<ThroughputResult>(jobs, 1));
    options.log(`pytorch: round ${round + 1} done`);
  }
  const torch = { ...torchRounds[0], rounds: torchRounds.map((r) => r.models) };
  for (const model of models)
    torch.models[model] = {
      ...torch.models[model],
      samplesPerSecond: median(torchRounds.map((r) => r.models[model].samplesPerSecond)),
    };
  const engine = jobs.map((_, i) => ({
    ...engineRounds[0][i],
    samplesPerSecond: median(engineRounds.map((r) => r[i].samplesPerSecond)),
    rounds: engineRounds.map((r) => r[i].samplesPerSecond),
  }));
  const ratios = engine.map((r) => ({
    model: r.model,
    norm: r.norm,
    ratio: r.samplesPerSecond / torch.models[r.model].samplesPerSecond,
  }));
  const lines = ratios.map(({ model, norm, ratio }) => ({
    measure: `engine (${defaultBackend}, ${norm === 'batch' ? 'BN' : 'batchless micro 64'}, ${engine.find((r) => r.model === model && r.norm === norm)?.stepPath ?? '?'} step) / PyTorch (BN), builtin:${model}, batch 64`,
    value: `${ratio.toFixed(2)} (${engine.find((r) => r.model === model && r.norm === norm)!.samplesPerSecond.toFixed(0)} vs ${torch.models[model].samplesPerSecond.toFixed(0)} samples/s)`,
    target: '≥ 0.8',
    met: ratio >= 0.8,
  }));
  const details =
    markdownTable(
      [
        'model',
        `PyTorch ${torch.torch} (the faster of ${nproc()} threads)`,
        `engine BN (${defaultBackend})`,
        `engine batchless micro 64 (${defaultBackend})`,
      ],
      models.map((model) => [
        `builtin:${model}`,
        `${torch.models[model].samplesPerSecond.toFixed(0)} (${torch.models[model].threads} thread${torch.models[model].threads > 1 ? 's' : ''}; probes ${Object.entries(
          torch.models[model].probes,
        )
          .map(([t, v]) => `${t}: ${v.toFixed(0)}`)
          .join(', ')})`,
        ...(['batch', 'batchless'] as const).map((norm) => {
          const r = engine.find((e) => e.model === model && e.norm === norm)!;
          return `${r.samplesPerSecond.toFixed(0)} (rounds: ${r.rounds.map((v) => v.toFixed(0)).join(', ')})`;
        }),
      ]),
    ) +
    `\n\nSamples/s over ${steps} timed steps of batch 64 after ${warmup} warm-up steps; the median of ${rounds} rounds, PyTorch and the engine in turn. PyTorch rounds: ${models.map((m) => `${m} ${torchRounds.map((r) => r.models[m].samplesPerSecond.toFixed(0)).join(', ')}`).join('; ')}.`;
  return {
    title: '4. PyTorch baseline',
    seconds: (performance.now() - started) / 1000,
    lines,
    details,
    data: { python, torch, engine, ratios },
  };
}
