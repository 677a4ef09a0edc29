import { join } from 'node:path';

// Where the extension's "Install Native Backend" puts @tensorflow/tfjs-node, and how its engine
// worker learns about it. Plain paths and names, shared by the extension and the engine.

/** Folder of a tfjs-node package outside the engine's node_modules, for the engine to load. */
export const TFJS_NODE_DIR_ENV = 'BATCHLESS_TFJS_NODE_DIR';

/** The npm prefix the extension installs tfjs-node into, under its global storage. */
export function nativeBackendPrefix(globalStoragePath: string): string {
  return join(globalStoragePath, 'native-backend');
}

/** The tfjs-node package folder npm creates under that prefix. */
export function tfjsNodeDirIn(prefix: string): string {
  return join(prefix, 'node_modules', '@tensorflow', 'tfjs-node');
}
