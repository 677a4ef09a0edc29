import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../engine/backend/select';
import { accuracySection } from './accuracy-section';
import { exactnessSection } from './exactness-section';
import { memorySection } from './memory-section';
import { throughputSection } from './throughput-section';
import { torchSection } from './torch-section';
import { BenchOptions, SectionResult, markdownTable } from './types';

// `npm run bench` (full, ~10 minutes on 2 cores) and `npm run bench:smoke` (a tiny version of
// every section, < 60 s): five measured results against their targets as one markdown table, the
// details after it, and everything as JSON in artifacts/bench/.

const USAGE =
  'node out/src/bench/main.js [--smoke] [--out file.json] [--only memory,exactness,throughput,torch,accuracy]';
const SECTIONS = ['memory', 'exactness', 'throughput', 'torch', 'accuracy'] as const;
type SectionName = (typeof SECTIONS)[number];

export interface BenchReport {
  smoke: boolean;
  date: string;
  totalSeconds: number;
  machine: Record<string, unknown>;
  sections: Record<SectionName, SectionResult | { skipped: string }>;
}

function machine(backend: Awaited<ReturnType<typeof setBackend>>): Record<string, unknown> {
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: `${process.platform} ${os.release()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: backend.name,
    tfjsNode: backend.tfjsNodeVersion,
    libtensorflow: backend.nativeLibrary,
    threads: backend.threads,
    loadAverageAtStart: os.loadavg(),
  };
}

export async function runBench(argv: string[]): Promise<BenchReport> {
  const smoke = argv.includes('--smoke');
  const outIndex = argv.indexOf('--out');
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? (argv[onlyIndex + 1] ?? '').split(',') : [...SECTIONS];
  for (const name of only)
    if (!(SECTIONS as readonly string[]).includes(name))
      throw new Error(`unknown section '${name}'; usage: ${USAGE}`);
  const root = repoRoot(__dirname);
  const out =
    outIndex >= 0
      ? path.resolve(argv[outIndex + 1])
      : path.join(root, 'artifacts', 'bench', smoke ? 'bench-smoke.json' : 'bench.json');
  const started = performance.now();
  const options: BenchOptions = {
    smoke,
    root,
    log: (m) => console.error(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${m}`),
  };
  const backend = await setBackend();
  const report: BenchReport = {
    smoke,
    date: new Date().toISOString(),
    totalSeconds: 0,
    machine: machine(backend),
    sections: {} as BenchReport['sections'],
  };
  const runners: Record<SectionName, () => Promise<SectionResult>> = {
    memory: () => memorySection(options, backend.name),
    exactness: () => exactnessSection(options),
    throughput: () => throughputSection(options),
    torch: () => torchSection(options, backend.name),
    accuracy: () => accuracySection(options, backend.name),
  };
  // The smoke run checks that every section works, not how fast: the PyTorch baseline (mostly
  // Python start-up) runs alongside the others there.
  const early = smoke && only.includes('torch') ? runners.torch() : undefined;
  early?.catch(() => undefined);
  if (early) runners.torch = () => early;
  for (const name of SECTIONS) {
    if (!only.includes(name)) {
      report.sections[name] = { skipped: 'not selected with --only' };
      continue;
    }
    const sectionStarted = performance.now();
    try {
      report.sections[name] = await runners[name]();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      options.log(`${name} failed: ${message}`);
      report.sections[name] = {
        title: name,
        seconds: (performance.now() - sectionStarted) / 1000,
        lines: [
          { measure: name, value: `failed: ${message.split('\n')[0]}`, target: '', met: false },
        ],
        details: '',
        data: null,
        error: message,
      };
    }
    options.log(
      `${name}: ${(performance.now() - sectionStarted) / 1000 < 1 ? '<1' : ((performance.now() - sectionStarted) / 1000).toFixed(0)} s`,
    );
  }
  report.totalSeconds = (performance.now() - started) / 1000;
  report.machine.loadAverageAtEnd = os.loadavg();
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(formatReport(report));
  console.log(`\nJSON: ${path.relative(process.cwd(), out) || out}`);
  return report;
}

/** The nearest folder above `from` with a package.json (out/src/bench → the repository). */
function repoRoot(from: string): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

export function formatReport(report: BenchReport): string {
  const m = report.machine;
  const rows: string[][] = [];
  const details: string[] = [];
  for (const name of SECTIONS) {
    const section = report.sections[name];
    if ('skipped' in section) continue;
    for (const line of section.lines)
      rows.push([
        section.title,
        line.measure,
        line.value,
        line.target,
        line.met === null
          ? ''
          : report.smoke
            ? 'not judged (smoke)'
            : line.met
              ? 'met'
              : '**missed**',
      ]);
    if (section.details)
      details.push(`### ${section.title} (${section.seconds.toFixed(0)} s)\n\n${section.details}`);
  }
  return [
    `## Batchless bench${report.smoke ? ' (smoke)' : ''}, ${report.date.slice(0, 10)}`,
    '',
    `${m.nproc} × ${m.cpu}, ${m.node}, tfjs ${m.tfjs}, default backend ${m.backend}${m.tfjsNode ? ` (tfjs-node ${m.tfjsNode})` : ''}; load average ${(m.loadAverageAtStart as number[]).map((v) => v.toFixed(1)).join(' ')} at start; total ${report.totalSeconds.toFixed(0)} s`,
    '',
    markdownTable(['section', 'measure', 'value', 'target', ''], rows),
    '',
    details.join('\n\n'),
  ].join('\n');
}

if (require.main === module) {
  runBench(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
      process.exit(1);
    },
  );
}
