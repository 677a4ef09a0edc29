import * as fs from 'fs';
import Module from 'module';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { TFJS_NODE_DIR_ENV } from '../../shared/native-backend';

// @tensorflow/tfjs-node is never bundled: it is a native addon plus ~850 MB of libtensorflow,
// installed either in node_modules (a checkout) or by the extension's "Install Native Backend"
// command into its global storage. It registers its 'tensorflow' backend and kernels in whatever
// tfjs-core its own `require('@tensorflow/tfjs')` returns; the bundles carry their own tfjs-core,
// and a backend registered in a second copy would be invisible to the engine. So while it loads,
// tfjs-node's requires of tfjs are answered with the engine's own instance (the same object it
// would get from node_modules in a checkout, where nothing changes).

const TFJS_NODE = '@tensorflow/tfjs-node';
const TFJS_REQUESTS = new Set(['@tensorflow/tfjs', '@tensorflow/tfjs-core']);

type LoadFunction = (request: string, parent: NodeModule | undefined, isMain: boolean) => unknown;

/**
 * Where tfjs-node is: BATCHLESS_TFJS_NODE_DIR when it holds one (the extension sets it for its
 * worker once "Install Native Backend" has run), else node_modules.
 */
export function tfjsNodeDir(): string | undefined {
  const fromEnv = process.env[TFJS_NODE_DIR_ENV];
  if (fromEnv && fs.existsSync(path.join(fromEnv, 'package.json'))) return fromEnv;
  try {
    return path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    return undefined;
  }
}

const aliased = new Set<string>();

/**
 * Loads tfjs-node from `dir` against the engine's tfjs instance; throws what it threw. The alias
 * stays in place for requires tfjs-node makes later, and only for files under `dir`.
 */
export function loadTfjsNode(dir: string): void {
  const inside = path.resolve(dir) + path.sep;
  if (!aliased.has(inside)) {
    const loader = Module as unknown as { _load: LoadFunction };
    const original = loader._load;
    loader._load = function (request, parent, isMain) {
      if (TFJS_REQUESTS.has(request) && parent?.filename?.startsWith(inside)) return tf;
      return original.call(this, request, parent, isMain);
    };
    aliased.add(inside);
  }
  // By name, from the package's own folder: node_modules lookup finds `dir` itself when it is
  // <root>/node_modules/@tensorflow/tfjs-node, as both npm layouts are; any other folder by path.
  const fromDir = Module.createRequire(path.join(inside, 'package.json'));
  let resolved: string | undefined;
  try {
    resolved = fromDir.resolve(TFJS_NODE);
  } catch {
    resolved = undefined;
  }
  fromDir(resolved?.startsWith(inside) ? TFJS_NODE : inside);
}
