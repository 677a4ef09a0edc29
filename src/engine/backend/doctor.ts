import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DISABLE_NATIVE_ENV, PROVISION_HINT } from './candidates';
import { tfjsNodeDir } from './load-tfjs-node';
import { BackendReport, currentBackendReport, setBackend } from './select';

// `batchless doctor`: everything needed to tell why the engine runs on the backend it runs on,
// gathered in one plain object (for --json) and formatted as aligned lines (for people).

export interface NativeAddonStatus {
  /** Folder of @tensorflow/tfjs-node, when installed. */
  packageDir?: string;
  /** The built tfjs_binding.node files (one per N-API version built). */
  addonFiles: string[];
  /** deps/lib/libtensorflow.so as tfjs-node's binding links it, resolved through symlinks. */
  libtensorflow?: string;
}

export interface DoctorReport {
  node: string;
  platform: string;
  cpus: { count: number; model: string };
  memory: { totalBytes: number; freeBytes: number };
  /** What the engine runs on; absent, with backendError, if no backend initialized. */
  backend?: BackendReport;
  backendError?: string;
  nativeAddon: NativeAddonStatus;
  /** What a person can do to get a faster backend; empty when nothing is wrong. */
  hints: string[];
}

export interface DoctorOptions {
  /** Where to look for tfjs-node (default: resolved from this package). */
  tfjsNodeDir?: string;
}

export function nativeAddonStatus(packageDir = tfjsNodeDir()): NativeAddonStatus {
  if (packageDir === undefined || !fs.existsSync(packageDir)) return { addonFiles: [] };
  const libDir = path.join(packageDir, 'lib');
  const addonFiles = fs.existsSync(libDir)
    ? fs
        .readdirSync(libDir)
        .map((d) => path.join(libDir, d, 'tfjs_binding.node'))
        .filter((f) => fs.existsSync(f))
    : [];
  let libtensorflow: string | undefined;
  try {
    libtensorflow = fs.realpathSync(path.join(packageDir, 'deps', 'lib', 'libtensorflow.so'));
  } catch {
    libtensorflow = undefined;
  }
  return libtensorflow === undefined
    ? { packageDir, addonFiles }
    : { packageDir, addonFiles, libtensorflow };
}

/** What to do about a backend slower than native TensorFlow; empty when it is native. */
export function doctorHints(
  backend: BackendReport | undefined,
  addon: NativeAddonStatus,
): string[] {
  if (backend?.name === 'tensorflow') return [];
  if (process.env[DISABLE_NATIVE_ENV] === '1') {
    return [`native TensorFlow is disabled: unset ${DISABLE_NATIVE_ENV} to use it`];
  }
  if (backend !== undefined && backend.requested !== 'auto' && backend.requested !== 'tensorflow') {
    return [`${backend.requested} was requested; the default order would try tensorflow first`];
  }
  if (addon.packageDir === undefined) {
    return ['@tensorflow/tfjs-node is not installed: reinstall the dependencies (npm ci)'];
  }
  if (addon.addonFiles.length === 0 || addon.libtensorflow === undefined) {
    return [
      `the tfjs-node native addon is not built: ${PROVISION_HINT} ` +
        '(about 40 s; needs python3 with pip, g++ and the Node headers)',
    ];
  }
  const why = backend?.fallbacks.find((f) => f.name === 'tensorflow')?.reason;
  return [`tfjs-node is built but did not load${why ? ` (${why})` : ''}: ${PROVISION_HINT}`];
}

/**
 * Gathers the machine, the backend in use (selecting one with setBackend() if none is yet) and
 * the state of the native addon, with hints when the engine is not on native TensorFlow.
 */
export async function doctorReport(options: DoctorOptions = {}): Promise<DoctorReport> {
  let backend = currentBackendReport();
  let backendError: string | undefined;
  if (backend === undefined) {
    try {
      backend = await setBackend();
    } catch (error) {
      backendError = error instanceof Error ? error.message : String(error);
    }
  }
  const nativeAddon = nativeAddonStatus(options.tfjsNodeDir ?? tfjsNodeDir());
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch} (${os.release()})`,
    cpus: { count: cpus.length, model: cpus[0]?.model.trim() ?? 'unknown' },
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    // Spread so that absent stays absent: the report must survive a JSON round trip unchanged.
    ...(backend && { backend }),
    ...(backendError !== undefined && { backendError }),
    nativeAddon,
    hints: doctorHints(backend, nativeAddon),
  };
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** The report as aligned `label  value` lines, hints last. */
export function formatDoctorReport(report: DoctorReport): string {
  const b = report.backend;
  const rows: Array<[string, string]> = [
    ['node', `${report.node} on ${report.platform}`],
    ['cpus', `${report.cpus.count} × ${report.cpus.model}`],
    ['memory', `${gib(report.memory.totalBytes)} total, ${gib(report.memory.freeBytes)} free`],
    ['backend', b ? `${b.name} (requested ${b.requested}, by ${b.requestedBy})` : 'none'],
  ];
  if (report.backendError) rows.push(['backend error', report.backendError]);
  for (const f of b?.fallbacks ?? []) rows.push(['not used', `${f.name}: ${f.reason}`]);
  if (b) {
    rows.push(['threads', `${b.threads} (${b.threadsDetail})`]);
    rows.push(['tfjs', b.tfjsVersion]);
    if (b.tfjsNodeVersion) rows.push(['tfjs-node', b.tfjsNodeVersion]);
    if (b.nativeLibrary) rows.push(['libtensorflow', b.nativeLibrary]);
  }
  const addon = report.nativeAddon;
  rows.push(['native addon', addon.addonFiles.join(', ') || 'not built']);
  if (!b?.nativeLibrary) rows.push(['libtensorflow', addon.libtensorflow ?? 'not staged']);
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
  return [...lines, ...report.hints.map((h) => `hint: ${h}`)].join('\n');
}
