import type * as H5Types from 'h5wasm';
import { fail } from './model-errors';
import { h5wasm, noteFailure } from './read-hdf5-wasm';

/** A new HDF5 file's contents: groups (with string attributes) and float32 datasets. */
export interface Hdf5Content {
  /** Parents are created as needed; list a group to give it attributes or keep it when empty. */
  groups: { path: string; attributes?: Record<string, string> }[];
  datasets: { path: string; data: Float32Array; shape: number[] }[];
}

let createCount = 0;

/**
 * Writes a fresh HDF5 file (write-hdf5.ts only copies an existing one) in h5wasm's in-memory file
 * system and returns its bytes. Strings are stored as h5py stores `attrs[name] = str`: scalar,
 * variable-length UTF-8.
 */
export async function createHdf5(content: Hdf5Content, file: string): Promise<Uint8Array> {
  const h5 = await h5wasm();
  const path = `/batchless-new-${process.pid}-${++createCount}.h5`;
  let out: H5Types.File | undefined;
  try {
    out = new h5.File(path, 'w');
    const created = new Set<string>();
    const ensure = (group: string): H5Types.Group => {
      const parts = group.split('/').filter(Boolean);
      for (let i = 1; i <= parts.length; i++) {
        const prefix = parts.slice(0, i).join('/');
        if (created.has(prefix)) continue;
        out!.create_group(prefix);
        created.add(prefix);
      }
      return (parts.length === 0 ? out : out!.get(parts.join('/'))) as H5Types.Group;
    };
    for (const group of content.groups) {
      const target = ensure(group.path);
      for (const [name, value] of Object.entries(group.attributes ?? {})) {
        target.create_attribute(name, value, [], 'S');
      }
    }
    for (const d of content.datasets) {
      const count = d.shape.reduce((a, b) => a * b, 1);
      if (count !== d.data.length) {
        fail({ file, field: d.path }, `${d.data.length} values for shape [${d.shape.join(', ')}]`);
      }
      ensure(d.path.split('/').slice(0, -1).join('/'));
      out.create_dataset({ name: d.path, data: d.data, shape: d.shape, dtype: '<f' });
    }
    out.flush();
    out.close();
    out = undefined;
    return Uint8Array.from(h5.FS?.readFile(path) ?? []);
  } catch (e) {
    noteFailure(e);
    throw e;
  } finally {
    try {
      out?.close();
    } catch {
      // A handle that failed half-way has nothing left to release.
    }
    try {
      h5.FS?.unlink(path);
    } catch {
      // Never created.
    }
  }
}
