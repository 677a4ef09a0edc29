import type * as H5Types from 'h5wasm';
import { fail, ModelWhere } from './model-errors';
import { H5Module, h5wasm, noteFailure } from './read-hdf5-wasm';

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** H5T_class_t.H5T_FLOAT in the HDF5 C library. */
const H5T_FLOAT = 1;
/** No weight tensor in a model this tool handles comes near this (1 GiB of float32). */
export const MAX_DATASET_ELEMENTS = 2 ** 28;

let openCount = 0;

/**
 * A read-only view of one HDF5 file held in h5wasm's in-memory file system. Every accessor
 * checks what it finds, so a corrupt or hostile file ends in a ModelFormatError rather than a
 * crash or a huge allocation.
 */
export class Hdf5Reader {
  private constructor(
    private readonly h5: H5Module,
    private readonly handle: H5Types.File,
    private readonly memPath: string,
    /** The name used in messages. */
    readonly file: string,
    /** Bytes in the file, bounding what its datasets can legitimately hold (Keras never compresses). */
    readonly byteLength: number,
  ) {}

  static async open(bytes: Uint8Array, file: string): Promise<Hdf5Reader> {
    // Keras and h5py write no user block, so the signature sits at offset 0.
    if (bytes.length < 8 || HDF5_SIGNATURE.some((b, i) => bytes[i] !== b)) {
      fail({ file }, 'not an HDF5 file (no HDF5 signature at its start)');
    }
    const h5 = await h5wasm();
    const memPath = `/batchless-${process.pid}-${++openCount}.h5`;
    h5.FS?.writeFile(memPath, bytes);
    let handle: H5Types.File | undefined;
    try {
      handle = new h5.File(memPath, 'r');
      if (handle.file_id < 0n) throw new Error('HDF5 could not open it');
      // Touch the root so a damaged superblock fails here, inside the guard.
      handle.keys();
    } catch (e) {
      noteFailure(e);
      tryClose(handle);
      h5.FS?.unlink(memPath);
      fail({ file }, `corrupt HDF5 file (${e instanceof Error ? e.message : String(e)})`, e);
    }
    return new Hdf5Reader(h5, handle, memPath, file, bytes.length);
  }

  close(): void {
    tryClose(this.handle);
    try {
      this.h5.FS?.unlink(this.memPath);
    } catch {
      // Already gone: nothing to free.
    }
  }

  private guard<T>(path: string, body: () => T): T {
    try {
      return body();
    } catch (e) {
      noteFailure(e);
      return fail(
        this.where(path),
        `unreadable (${e instanceof Error ? e.message : String(e)})`,
        e,
      );
    }
  }

  where(path: string, layer?: string): ModelWhere {
    return { file: this.file, field: path, layer };
  }

  private entity(path: string): H5Types.Entity | null {
    return this.guard(path, () =>
      path === '' || path === '/' ? this.handle : this.handle.get(path),
    );
  }

  isGroup(path: string): boolean {
    return this.entity(path) instanceof this.h5.Group;
  }

  isDataset(path: string): boolean {
    return this.entity(path) instanceof this.h5.Dataset;
  }

  /** Child names of a group, or an error naming the path when it is not one. */
  keys(path: string): string[] {
    const group = this.entity(path);
    if (!(group instanceof this.h5.Group)) fail(this.where(path), 'missing group');
    return this.guard(path, () => group.keys());
  }

  /** An attribute's value, undefined when absent. */
  attr(path: string, name: string): unknown {
    const owner = this.entity(path);
    if (!(owner instanceof this.h5.Group) && !(owner instanceof this.h5.Dataset)) {
      fail(this.where(path), 'missing group');
    }
    return this.guard(`${path}@${name}`, () => {
      const attrs = owner.attrs;
      return Object.prototype.hasOwnProperty.call(attrs, name) ? attrs[name].value : undefined;
    });
  }

  /**
   * A list-of-strings attribute as Keras writes it: one attribute, or, when it outgrew HDF5's
   * 64 KiB attribute limit, chunks `name0`, `name1`, ... (Keras's save_attributes_to_hdf5_group).
   */
  stringListAttr(path: string, name: string): string[] | undefined {
    let value = this.attr(path, name);
    if (value === undefined && this.attr(path, `${name}0`) !== undefined) {
      const parts: unknown[] = [];
      for (let i = 0; ; i++) {
        const chunk = this.attr(path, `${name}${i}`);
        if (chunk === undefined) break;
        parts.push(...toList(chunk));
      }
      value = parts;
    }
    if (value === undefined) return undefined;
    const list = toList(value);
    if (!list.every((s) => typeof s === 'string')) {
      fail(this.where(`${path}@${name}`), 'expected a list of strings');
    }
    return list as string[];
  }

  /** A dataset's shape from its metadata alone (nothing read yet). */
  shape(path: string, layer?: string): number[] {
    const ds = this.entity(path);
    if (!(ds instanceof this.h5.Dataset)) fail(this.where(path, layer), 'missing dataset');
    return this.guard(path, () => ds.shape ?? []);
  }

  /**
   * Reads a float dataset after checking its declared shape against `expected` and its size
   * against the file's, so a lying header cannot trigger a large allocation.
   */
  readFloat32(
    path: string,
    expected: readonly number[],
    layer?: string,
    weight?: string,
  ): Float32Array {
    const where = this.where(path, layer);
    const what = weight === undefined ? '' : `weight '${weight}': `;
    const ds = this.entity(path);
    if (!(ds instanceof this.h5.Dataset)) fail(where, 'missing dataset');
    const shape = this.guard(path, () => ds.shape ?? []);
    if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
      fail(
        where,
        `${what}shape [${shape.join(', ')}] in the file, the model expects [${expected.join(', ')}]`,
      );
    }
    const meta = this.guard(path, () => ds.metadata);
    const count = shape.reduce((a, b) => a * b, 1);
    if (meta.type !== H5T_FLOAT || (meta.size !== 4 && meta.size !== 8) || !meta.littleEndian) {
      fail(
        where,
        `expected little-endian float32 or float64 data, found HDF5 type class ${meta.type} of ${meta.size} bytes`,
      );
    }
    if (count > MAX_DATASET_ELEMENTS || count * meta.size > this.byteLength) {
      fail(
        where,
        `declares ${count} elements, more than the ${this.byteLength}-byte file can hold`,
      );
    }
    const value = this.guard(path, () => ds.value);
    if (
      !(value instanceof Float32Array || value instanceof Float64Array) ||
      value.length !== count
    ) {
      fail(where, `read ${describe(value)} instead of ${count} floats`);
    }
    return value instanceof Float32Array ? value : Float32Array.from(value);
  }
}

function tryClose(handle: H5Types.File | undefined): void {
  try {
    handle?.close();
  } catch {
    // A handle that failed to open has nothing to release.
  }
}

function toList(value: unknown): unknown[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value;
  // h5py stores an empty list as an empty float64 array.
  if (ArrayBuffer.isView(value) && (value as unknown as ArrayLike<unknown>).length === 0) return [];
  return [value];
}

function describe(value: unknown): string {
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  return typeof value;
}
