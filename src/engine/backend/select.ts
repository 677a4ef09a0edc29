import * as tf from '@tensorflow/tfjs';
import { BackendName, BackendUnavailable, preparers } from './candidates';

export { BackendName, DISABLE_NATIVE_ENV, WASM_DIR_ENV } from './candidates';

/** Fastest first: measured ~3× between neighbours on a CNN, ~100× from wasm to cpu. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Names a backend to use instead of the default order (tensorflow, wasm, cpu). */
export const BACKEND_ENV = 'BATCHLESS_BACKEND';

export interface BackendFallback {
  /** A backend that was tried before the one in use, and failed. */
  name: BackendName;
  /** Why, in words a person can act on. */
  reason: string;
}

/** What the engine runs on, as plain JSON-serialisable data for the CLI, worker and views. */
export interface BackendReport {
  /** The backend in use. */
  name: BackendName;
  /** What was asked for: an explicit name, or 'auto' for the default order. */
  requested: BackendName | 'auto';
  /** Where the request came from. */
  requestedBy: 'argument' | typeof BACKEND_ENV | 'default';
  /** Every faster backend that was tried and not used, in order. */
  fallbacks: BackendFallback[];
  tfjsVersion: string;
  /** Present when the tensorflow backend is in use. */
  tfjsNodeVersion?: string;
  /** Threads the backend computes with, as far as can be known. */
  threads: number;
  /** Where the thread count comes from. */
  threadsDetail: string;
  /** Path of the libtensorflow shared library in use (tensorflow backend only). */
  nativeLibrary?: string;
  /** Training kernels this process added to wasm (wasm only; empty if already there). */
  wasmTrainingKernelsAdded?: string[];
}

let current: BackendReport | undefined;

function isBackendName(value: string): value is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(value);
}

function resolveRequest(name?: BackendName): Pick<BackendReport, 'requested' | 'requestedBy'> {
  if (name !== undefined) {
    if (!isBackendName(name)) {
      throw new Error(`unknown backend '${name}': expected one of ${BACKEND_ORDER.join(', ')}`);
    }
    return { requested: name, requestedBy: 'argument' };
  }
  const fromEnv = process.env[BACKEND_ENV]?.trim();
  if (fromEnv && fromEnv !== 'auto') {
    if (!isBackendName(fromEnv)) {
      throw new Error(
        `${BACKEND_ENV}='${fromEnv}' is not a backend: expected auto, ${BACKEND_ORDER.join(', ')}`,
      );
    }
    return { requested: fromEnv, requestedBy: BACKEND_ENV };
  }
  return { requested: 'auto', requestedBy: 'default' };
}

/**
 * Makes tfjs run on the requested backend, or on the next one in the default order when it
 * cannot: a request for 'tensorflow' may end on wasm, never the other way round. The name comes
 * from the argument, else BATCHLESS_BACKEND, else the default order tensorflow → wasm → cpu.
 * Resolves once `tf.ready()` has; the report says what was chosen and why nothing faster was.
 */
export async function setBackend(name?: BackendName): Promise<BackendReport> {
  const request = resolveRequest(name);
  const start = request.requested === 'auto' ? 0 : BACKEND_ORDER.indexOf(request.requested);
  const fallbacks: BackendFallback[] = [];
  for (const candidate of BACKEND_ORDER.slice(start)) {
    try {
      const prepared = await preparers[candidate]();
      await tf.ready();
      current = {
        name: candidate,
        ...request,
        fallbacks,
        tfjsVersion: tf.version.tfjs,
        ...prepared,
      };
      return current;
    } catch (error) {
      if (!(error instanceof BackendUnavailable)) throw error;
      fallbacks.push({ name: candidate, reason: error.message });
    }
  }
  const reasons = fallbacks.map((f) => `${f.name}: ${f.reason}`).join('; ');
  throw new Error(`no tfjs backend could be initialized (${reasons})`);
}

/**
 * The report of the last setBackend, while tfjs is still on that backend; undefined before any
 * setBackend, or after someone else switched tfjs to another backend.
 */
export function currentBackendReport(): BackendReport | undefined {
  if (current === undefined || tf.engine().backendName !== current.name) return undefined;
  return current;
}
