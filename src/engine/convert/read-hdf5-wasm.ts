import type * as H5Types from 'h5wasm';
import { existsSync } from 'node:fs';
import * as nodePath from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundledAsset } from '../bundle-assets';

export type H5Module = typeof H5Types;

// h5wasm ships ESM only, and this project compiles to CommonJS, where TypeScript would turn
// `import()` into `require()` (refused by the package's exports map). A Function-built import
// keeps Node's real dynamic import.
//
// The package's default build, not its `h5wasm/node` one: the node build maps the emscripten
// file system straight onto the real disk (NODERAWFS), so "in-memory" files land in / and an
// HDF5 external link in a hostile file could open any file. The default build keeps everything
// in an in-memory file system and runs under Node as well.
const H5WASM = 'h5wasm';
const H5WASM_ENTRY = ['h5wasm', 'dist', 'esm', 'hdf5_hl.js'];
const dynamicImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<H5Module>;

let h5Promise: Promise<H5Module> | undefined;
let instances = 0;

/**
 * The shared h5wasm instance. After a wasm abort (h5wasm aborts on some corrupt files) the
 * instance's state is suspect, so the next open gets a fresh one: the module imported again
 * under a new URL, which runs its factory again (about 6 MB each; only after an abort).
 */
export async function h5wasm(): Promise<H5Module> {
  h5Promise ??= (async () => {
    const original = console.error;
    // Emscripten binds its stderr to console.error while the module starts; hand it a filter so
    // HDF5's diagnostic dumps for corrupt files (reported as ModelFormatErrors) stay off stderr.
    console.error = quietHdf5Diagnostics(original);
    try {
      const h5 = await dynamicImport(instances++ === 0 ? firstInstanceUrl() : freshInstanceUrl());
      await h5.ready;
      return h5;
    } finally {
      console.error = original;
    }
  })();
  return h5Promise;
}

const HDF5_DIAGNOSTIC = /^(HDF5-DIAG|\s+#\d{3}:|\s+(major|minor):|Aborted\()/;

function quietHdf5Diagnostics(forward: typeof console.error): typeof console.error {
  return (...args: unknown[]) => {
    if (typeof args[0] === 'string' && HDF5_DIAGNOSTIC.test(args[0])) return;
    forward(...args);
  };
}

// The packaged extension has no node_modules: webpack copies the ESM build to dist/h5wasm/.
function bundledEntry(): string | undefined {
  return bundledAsset('h5wasm', H5WASM_ENTRY[H5WASM_ENTRY.length - 1]);
}

function firstInstanceUrl(): string {
  const bundled = bundledEntry();
  return bundled ? pathToFileURL(bundled).href : H5WASM;
}

function freshInstanceUrl(): string {
  const bundled = bundledEntry();
  if (bundled) return `${pathToFileURL(bundled).href}?instance=${instances}`;
  for (const dir of require.resolve.paths('h5wasm') ?? []) {
    const file = nodePath.join(dir, ...H5WASM_ENTRY);
    if (existsSync(file)) return `${pathToFileURL(file).href}?instance=${instances}`;
  }
  return H5WASM;
}

/** Call with anything h5wasm threw: after a wasm abort the next open starts a fresh instance. */
export function noteFailure(e: unknown): void {
  if (e instanceof Error && e.message.startsWith('Aborted(')) h5Promise = undefined;
}
