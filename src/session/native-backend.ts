import * as fs from 'node:fs';
import * as path from 'node:path';
import { nativeBackendPrefix, TFJS_NODE_DIR_ENV, tfjsNodeDirIn } from '../shared/native-backend';

/** The tfjs-node that "Install Native Backend" installed in global storage, if any. */
export function installedTfjsNode(
  globalStoragePath: string,
): { dir: string; version: string } | undefined {
  const dir = tfjsNodeDirIn(nativeBackendPrefix(globalStoragePath));
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof manifest.version === 'string' ? { dir, version: manifest.version } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Environment for engine processes (the worker, the backend probe): points the engine at the
 * installed tfjs-node. Without one the engine looks in node_modules (a development checkout) and
 * otherwise runs on wasm.
 */
export function nativeBackendEnv(globalStoragePath: string): NodeJS.ProcessEnv {
  const installed = installedTfjsNode(globalStoragePath);
  return installed ? { [TFJS_NODE_DIR_ENV]: installed.dir } : {};
}
