import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';

/**
 * Process-level memory, as the operating system sees it: resident set size (what is really in
 * RAM, including the native TensorFlow allocator's caches, the JS heap and libraries) and, on the
 * wasm backend, the size of the WebAssembly heap (which only ever grows). Tensor-level numbers
 * come from tfjs's bookkeeping instead; the two answer different questions and are never mixed.
 */
export interface ProcessPeak {
  /** False where /proc is not there (not Linux) or not writable: the fields below are then null. */
  available: boolean;
  /** Resident set size just before the measured code, bytes. */
  rssBeforeBytes: number | null;
  /** Highest resident set size while it ran (VmHWM after a reset), bytes. */
  rssPeakBytes: number | null;
  /** WebAssembly heap after it ran, bytes (wasm backend only; the heap never shrinks). */
  wasmHeapBytes: number | null;
  /** Why a number is missing, for people. */
  note?: string;
}

const STATUS = '/proc/self/status';
const CLEAR_REFS = '/proc/self/clear_refs';

function readStatusKb(field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(STATUS, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets the kernel's high-water mark of the resident set to the current size (Linux ≥ 4.0). */
export function resetPeakRss(): boolean {
  try {
    fs.writeFileSync(CLEAR_REFS, '5');
    return true;
  } catch {
    return false;
  }
}

/** Bytes of the current resident set, or undefined where /proc/self/status is missing. */
export function currentRssBytes(): number | undefined {
  return readStatusKb('VmRSS');
}

/** The wasm backend's heap size in bytes; undefined on other backends. */
export function wasmHeapBytes(): number | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength;
}

/** Runs `fn` and reports the process's resident-set peak while it ran (and the wasm heap). */
export async function measureProcessPeak<T>(
  fn: () => Promise<T> | T,
): Promise<{ result: T; process: ProcessPeak }> {
  const rssBeforeBytes = currentRssBytes();
  const reset = rssBeforeBytes !== undefined && resetPeakRss();
  const result = await fn();
  const rssPeakBytes = reset ? readStatusKb('VmHWM') : undefined;
  const wasm = wasmHeapBytes();
  const available = rssPeakBytes !== undefined;
  return {
    result,
    process: {
      available,
      rssBeforeBytes: rssBeforeBytes ?? null,
      rssPeakBytes: rssPeakBytes ?? null,
      wasmHeapBytes: wasm ?? null,
      note: available
        ? undefined
        : `unavailable: needs Linux's ${STATUS} and a writable ${CLEAR_REFS} (platform ${process.platform})`,
    },
  };
}
