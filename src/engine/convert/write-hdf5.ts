import type * as H5Types from 'h5wasm';
import { fail, ModelFormatError } from './model-errors';
import { H5Module, h5wasm, noteFailure } from './read-hdf5-wasm';

/** What changes between an HDF5 file and its rewritten copy; everything else is copied. */
export interface Hdf5Edits {
  /** Where an object of the original goes: its path in the copy, or undefined to leave it out. */
  destination(path: string): string | undefined;
  /** Datasets to add, by path in the copy (float32 unless `dtype` says otherwise, e.g. '<i'). */
  datasets: {
    path: string;
    data: Float32Array | Float64Array | Int32Array;
    shape: number[];
    dtype?: string;
  }[];
  /** String attributes to set (replacing copied ones), by object path in the copy. */
  attributes: { path: string; name: string; value: string | string[] }[];
}

let writeCount = 0;

/**
 * Writes a copy of an HDF5 file with `edits` applied: every group, dataset and attribute of the
 * original is recreated with its own type and shape, so files Keras wrote keep their structure.
 * h5wasm cannot delete or move objects in a file, hence a copy rather than an edit in place.
 * Anything the copy cannot reproduce exactly (references, compound types, filters other than
 * deflate) stops the write, naming the object.
 */
export async function rewriteHdf5(
  bytes: Uint8Array,
  file: string,
  edits: Hdf5Edits,
): Promise<Uint8Array> {
  const h5 = await h5wasm();
  const id = `${process.pid}-${++writeCount}`;
  const [sourcePath, copyPath] = [`/batchless-src-${id}.h5`, `/batchless-copy-${id}.h5`];
  let source: H5Types.File | undefined;
  let copy: H5Types.File | undefined;
  let copier: Copier | undefined;
  try {
    h5.FS?.writeFile(sourcePath, bytes);
    source = new h5.File(sourcePath, 'r');
    copy = new h5.File(copyPath, 'w');
    copier = new Copier(h5, copy, file, edits, bytes.length);
    copier.copyAttributes(source, '/');
    copier.copyChildren(source, '');
    copier.applyAdditions();
    copy.flush();
    copy.close();
    copy = undefined;
    return Uint8Array.from(h5.FS?.readFile(copyPath) ?? []);
  } catch (e) {
    noteFailure(e);
    if (e instanceof ModelFormatError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    return fail({ file, field: copier?.at ?? '/' }, `could not be copied: ${reason}`, e);
  } finally {
    for (const handle of [source, copy]) {
      try {
        handle?.close();
      } catch {
        // Closing a handle that failed half-way has nothing left to release.
      }
    }
    for (const path of [sourcePath, copyPath]) {
      try {
        h5.FS?.unlink(path);
      } catch {
        // Never created.
      }
    }
  }
}

class Copier {
  /** Paths copied or added, each at most once. */
  private readonly written = new Set<string>();
  /** Groups that exist in the copy, also ones created only as parents. */
  private readonly groups = new Set<string>();
  /** The object being copied, for error messages. */
  at = '/';
  private readonly replaced = new Map<string, Set<string>>();

  constructor(
    private readonly h5: H5Module,
    private readonly out: H5Types.File,
    private readonly file: string,
    private readonly edits: Hdf5Edits,
    private readonly sourceBytes: number,
  ) {
    for (const a of edits.attributes) {
      this.replaced.set(a.path, (this.replaced.get(a.path) ?? new Set()).add(a.name));
    }
  }

  /** The file holds something the copy could not reproduce: refuse, naming the object. */
  private refuse(path: string, detail: string): never {
    return fail({ file: this.file, field: path }, detail);
  }

  copyChildren(group: H5Types.Group, prefix: string): void {
    for (const key of group.keys()) {
      const from = `${prefix}${key}`;
      this.at = from;
      const to = this.edits.destination(from);
      if (to === undefined) continue;
      const entity = group.get(key);
      if (entity instanceof this.h5.Group) {
        this.group(to, from);
        this.copyAttributes(entity, to);
        this.copyChildren(entity, `${from}/`);
      } else if (entity instanceof this.h5.Dataset) {
        this.dataset(entity, from, to);
      } else {
        this.refuse(
          from,
          `cannot copy this kind of HDF5 object (${entity?.constructor.name ?? 'null'})`,
        );
      }
    }
  }

  copyAttributes(owner: H5Types.Group | H5Types.Dataset, to: string): void {
    const skip = this.replaced.get(to);
    for (const [name, attribute] of Object.entries(owner.attrs)) {
      if (skip?.has(name)) continue;
      const { dtype, shape } = attribute;
      if (typeof dtype !== 'string' || dtype === 'unknown' || shape === null) {
        this.refuse(`${to}@${name}`, `cannot copy an attribute of type ${JSON.stringify(dtype)}`);
      }
      const target = to === '/' ? this.out : (this.out.get(to) as H5Types.Group | H5Types.Dataset);
      target.create_attribute(name, writable(attribute.value, dtype), shape, dtype);
    }
  }

  applyAdditions(): void {
    for (const d of this.edits.datasets) {
      this.parents(d.path);
      this.claim(d.path);
      this.out.create_dataset({
        name: d.path,
        data: d.data,
        shape: d.shape,
        dtype: d.dtype ?? '<f',
      });
    }
    for (const a of this.edits.attributes) {
      const target = a.path === '/' ? this.out : (this.out.get(a.path) as H5Types.Group | null);
      if (target === null) this.refuse(a.path, 'no such object to set an attribute on');
      const old = target.attrs[a.name]?.dtype;
      // Keep the original's string flavour (ASCII 'A' or UTF-8 'S'), always variable length.
      const dtype = typeof old === 'string' && /^[AS]/.test(old) ? old[0] : 'S';
      if (target.attrs[a.name] !== undefined) target.delete_attribute(a.name);
      const shape = Array.isArray(a.value) ? [a.value.length] : [];
      target.create_attribute(a.name, a.value, shape, dtype);
    }
  }

  private dataset(ds: H5Types.Dataset, from: string, to: string): void {
    const { dtype, shape } = ds;
    if (typeof dtype !== 'string' || dtype === 'unknown' || shape === null) {
      this.refuse(from, `cannot copy a dataset of type ${JSON.stringify(dtype)}`);
    }
    const filters = ds.filters;
    if (filters.some((f) => f.id !== 1)) {
      this.refuse(from, `cannot copy HDF5 filters ${filters.map((f) => f.name).join(', ')}`);
    }
    const { chunks, size } = ds.metadata;
    // A header may declare far more than the file stores (unallocated or lying): bound it by the
    // file's bytes (deflate by its ~1032:1 limit) before h5wasm allocates the values.
    const bytes = shape.reduce((a, b) => a * b, 1) * size;
    if (bytes > this.sourceBytes * (filters.length > 0 ? 1032 : 1) + 4096) {
      this.refuse(
        from,
        `declares ${bytes} bytes of data, more than the ${this.sourceBytes}-byte file holds`,
      );
    }
    this.parents(to);
    this.claim(to);
    this.out.create_dataset({
      name: to,
      data: writable(ds.value, dtype),
      shape,
      dtype,
      ...(chunks ? { chunks } : {}),
      ...(filters.length > 0
        ? { compression: 'gzip' as const, compression_opts: filters[0].cd_values[0] ?? 4 }
        : {}),
    });
    this.copyAttributes(ds, to);
  }

  private group(to: string, from: string): void {
    this.parents(to);
    this.claim(to, from);
    if (this.groups.has(to)) return;
    this.groups.add(to);
    this.out.create_group(to);
  }

  /** Creates missing parent groups of `path` (h5wasm creates one level at a time). */
  private parents(path: string): void {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (this.groups.has(parent)) continue;
      this.groups.add(parent);
      this.out.create_group(parent);
    }
  }

  /** Two originals mapped to one path would silently merge: refuse instead. */
  private claim(to: string, from = to): void {
    if (this.written.has(to)) this.refuse(from, `two objects would be written to '${to}'`);
    this.written.add(to);
  }
}

type Writable = Parameters<H5Types.Group['create_attribute']>[1];

/** h5wasm's read value in the form its writer takes (scalars of 64-bit ints come as bigint). */
function writable(value: unknown, dtype: string): Writable {
  if (typeof value === 'bigint') {
    return (dtype.includes('Q')
      ? BigUint64Array.of(value)
      : BigInt64Array.of(value)) as unknown as Writable;
  }
  if (value === null || value === undefined) throw new Error(`no value for dtype ${dtype}`);
  return value as Writable;
}
