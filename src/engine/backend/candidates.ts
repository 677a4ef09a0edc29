import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { bundledAsset } from '../bundle-assets';
import { IntraOpThreads, intraOpThreadsFor } from './intra-op-threads';
import { loadTfjsNode, tfjsNodeDir } from './load-tfjs-node';
import { registerWasmTrainingKernels } from './wasm-kernels';

// How to make each backend the active one, and what can be said about it once it is. Each
// preparer either leaves tfjs on its backend or throws BackendUnavailable with a reason a person
// can act on; select.ts turns those reasons into the report's fallbacks.

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Why a backend could not be used: the message goes into BackendReport.fallbacks verbatim. */
export class BackendUnavailable extends Error {}

export interface PreparedBackend {
  threads: number;
  threadsDetail: string;
  tfjsNodeVersion?: string;
  nativeLibrary?: string;
  wasmTrainingKernelsAdded?: string[];
}

/** Set to 1 to keep the engine off native TensorFlow (to exercise wasm, or to save its ~400 MB). */
export const DISABLE_NATIVE_ENV = 'BATCHLESS_DISABLE_NATIVE';

/** Overrides where tfjs-backend-wasm's .wasm binaries are read from (a bundled extension). */
export const WASM_DIR_ENV = 'BATCHLESS_WASM_DIR';

export const PROVISION_HINT = 'run `node scripts/provision-tfjs-node.js`';

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim();
}

function packageDir(name: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** The libtensorflow files this process has mapped: the library really in use, not a guess. */
function mappedNativeLibrary(): string | undefined {
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'utf8');
    const paths = new Set(maps.match(/\/\S*libtensorflow\S*\.so[.\d]*/g) ?? []);
    const main = [...paths].find((p) => !p.includes('framework'));
    return main ?? [...paths][0];
  } catch {
    return undefined;
  }
}

function schedulableCpus(): number {
  return typeof os.availableParallelism === 'function'
    ? os.availableParallelism()
    : os.cpus().length;
}

/** The threads per op this process chose itself (intra-op-threads.ts), once it has. */
let engineChoice: IntraOpThreads | undefined;

export async function prepareTensorflow(): Promise<PreparedBackend> {
  if (process.env[DISABLE_NATIVE_ENV] === '1') {
    throw new BackendUnavailable(`disabled by ${DISABLE_NATIVE_ENV}=1`);
  }
  // Quiets TensorFlow's oneDNN and CPU-feature notices; a value the user set is respected.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const nodeDir = tfjsNodeDir();
  if (nodeDir === undefined) {
    throw new BackendUnavailable('@tensorflow/tfjs-node is not installed');
  }
  // A second call in this process finds the count the first one set: still the engine's choice.
  const intraOp =
    engineChoice && process.env.TF_NUM_INTRAOP_THREADS === engineChoice.env
      ? engineChoice
      : intraOpThreadsFor(process.env, schedulableCpus());
  if (intraOp.env) {
    process.env.TF_NUM_INTRAOP_THREADS = intraOp.env;
    engineChoice = intraOp;
  }
  try {
    // Loaded lazily: it maps ~850 MB of libtensorflow and costs ~400 MB resident.
    loadTfjsNode(nodeDir);
  } catch (error) {
    throw new BackendUnavailable(`@tensorflow/tfjs-node failed to load: ${firstLine(error)}`);
  }
  if (!(await tf.setBackend('tensorflow'))) {
    throw new BackendUnavailable('tfjs-node loaded but the tensorflow backend did not initialize');
  }
  const manifest = fs.readFileSync(path.join(nodeDir, 'package.json'), 'utf8');
  const version = (JSON.parse(manifest) as { version: string }).version;
  return {
    threads: intraOp.threads,
    threadsDetail: intraOp.detail,
    tfjsNodeVersion: version,
    nativeLibrary: mappedNativeLibrary() ?? path.join(nodeDir, 'deps', 'lib', 'libtensorflow.so'),
  };
}

/** Where the .wasm binaries are: set explicitly, since a bundle moves the JS away from them. */
export function wasmBinaryDir(): string | undefined {
  const fromEnv = process.env[WASM_DIR_ENV];
  if (fromEnv) return fromEnv;
  // The packaged extension ships them in dist/wasm/.
  const bundled = bundledAsset('wasm');
  if (bundled !== undefined) return bundled;
  const dir = packageDir('@tensorflow/tfjs-backend-wasm');
  return dir === undefined ? undefined : path.join(dir, 'dist');
}

export async function prepareWasm(): Promise<PreparedBackend> {
  let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    // Lazily, because importing it registers 'wasm' with a priority above 'cpu'.
    wasmModule = await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    throw new BackendUnavailable(
      `@tensorflow/tfjs-backend-wasm failed to load: ${firstLine(error)}`,
    );
  }
  if (tf.findBackend('wasm') === null) {
    const dir = wasmBinaryDir();
    if (dir === undefined || !fs.existsSync(path.join(dir, 'tfjs-backend-wasm.wasm'))) {
      throw new BackendUnavailable(`tfjs-backend-wasm.wasm not found in ${dir ?? 'node_modules'}`);
    }
    wasmModule.setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
  }
  const added = registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) {
    throw new BackendUnavailable('the wasm backend did not initialize (see the warning above)');
  }
  return {
    threads: 1,
    threadsDetail: 'tfjs-backend-wasm runs single-threaded in Node',
    wasmTrainingKernelsAdded: added,
  };
}

export async function prepareCpu(): Promise<PreparedBackend> {
  if (!(await tf.setBackend('cpu'))) {
    throw new BackendUnavailable('the cpu backend did not initialize');
  }
  return { threads: 1, threadsDetail: 'pure JavaScript, single-threaded' };
}

export const preparers: Record<BackendName, () => Promise<PreparedBackend>> = {
  tensorflow: prepareTensorflow,
  wasm: prepareWasm,
  cpu: prepareCpu,
};
