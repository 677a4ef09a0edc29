import { unzipSync, UnzipFileInfo } from 'fflate';
import { BuildOptions, buildKerasModel, BuiltModel } from './keras-build';
import { fail, isRecord, quote } from './model-errors';
import { MAX_JSON_BYTES, MAX_MODEL_FILE_BYTES, parseJson, readFileBounded } from './read-bytes';
import { Hdf5Reader } from './read-hdf5';

/** A Keras 3 archive holds three entries (more with assets); far fewer than this. */
const MAX_ENTRIES = 1000;
/** Deflate cannot expand data by more than about 1032:1; a larger claimed size is a lie. */
const MAX_DEFLATE_RATIO = 1032;

const NEEDED: Record<string, number> = {
  'config.json': MAX_JSON_BYTES,
  'model.weights.h5': MAX_MODEL_FILE_BYTES,
  'metadata.json': MAX_JSON_BYTES,
};

/**
 * A Keras 3 `.keras` archive: a zip of config.json (the topology, Keras 3 style),
 * metadata.json (keras_version) and model.weights.h5 (Keras 3 weights layout).
 */
export async function readKerasArchive(
  path: string,
  options: BuildOptions = {},
): Promise<BuiltModel & { kerasVersion?: string }> {
  const bytes = await readFileBounded(path, MAX_MODEL_FILE_BYTES);
  const entries = listEntries(bytes, path);
  for (const name of ['config.json', 'model.weights.h5']) {
    if (!entries.some((e) => e.name === name))
      fail({ file: path, field: name }, 'missing from the archive');
  }
  const files = unzip(bytes, path, (e) => e.name in NEEDED);
  const configWhere = { file: `${path}!config.json` };
  const topology = parseJson(files['config.json'], configWhere);
  const metadata = files['metadata.json']
    ? parseJson(files['metadata.json'], { file: `${path}!metadata.json` })
    : {};
  const version = isRecord(metadata) ? metadata['keras_version'] : undefined;
  const h5 = await Hdf5Reader.open(files['model.weights.h5'], `${path}!model.weights.h5`);
  try {
    const built = await buildKerasModel(topology, configWhere.file, h5, undefined, options);
    return { ...built, kerasVersion: typeof version === 'string' ? version : undefined };
  } finally {
    h5.close();
  }
}

/** An archive entry as stored, for writing the archive back with one entry changed. */
export interface ArchiveEntry {
  name: string;
  /** Zip method: 0 stored, 8 deflated. */
  compression: number;
  data: Uint8Array;
}

/** Every entry of a `.keras` archive in stored order, each checked as a load checks the three. */
export async function readArchiveEntries(path: string): Promise<ArchiveEntry[]> {
  const bytes = await readFileBounded(path, MAX_MODEL_FILE_BYTES);
  const entries = listEntries(bytes, path, true);
  const files = unzip(bytes, path, () => true);
  return entries.map((e) => ({ name: e.name, compression: e.compression, data: files[e.name] }));
}

/**
 * Reads the central directory only, refusing unsafe names and implausible sizes (of the entries
 * a load reads, or of `every` entry).
 */
function listEntries(bytes: Uint8Array, path: string, every = false): UnzipFileInfo[] {
  const entries: UnzipFileInfo[] = [];
  unzip(bytes, path, (info) => {
    if (entries.length >= MAX_ENTRIES)
      fail({ file: path, field: 'zip' }, `more than ${MAX_ENTRIES} entries`);
    entries.push(info);
    return false;
  });
  for (const e of entries) {
    const where = { file: path, field: e.name };
    if (
      e.name.startsWith('/') ||
      e.name.startsWith('\\') ||
      /^[A-Za-z]:/.test(e.name) ||
      e.name.includes('\0')
    ) {
      fail(where, 'absolute entry name in the archive');
    }
    if (e.name.split(/[\\/]/).includes('..')) fail(where, "entry name with '..' in the archive");
    const cap = NEEDED[e.name] ?? (every ? MAX_MODEL_FILE_BYTES : undefined);
    if (cap === undefined) continue;
    if (entries.filter((o) => o.name === e.name).length > 1) fail(where, 'entry stored twice');
    if (e.compression !== 0 && e.compression !== 8)
      fail(where, `unsupported compression method ${e.compression}`);
    if (e.originalSize > cap) fail(where, `${e.originalSize} bytes uncompressed, more than ${cap}`);
    const plausible =
      e.compression === 0
        ? e.originalSize === e.size
        : e.originalSize <= e.size * MAX_DEFLATE_RATIO + 1024;
    if (!plausible)
      fail(where, `claims ${e.originalSize} bytes from ${e.size} compressed: corrupt archive`);
  }
  return entries;
}

function unzip(
  bytes: Uint8Array,
  path: string,
  filter: (info: UnzipFileInfo) => boolean,
): Record<string, Uint8Array> {
  const sizes = new Map<string, number>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (info) => {
        const take = filter(info);
        if (take) sizes.set(info.name, info.originalSize);
        return take;
      },
    });
  } catch (e) {
    if (e instanceof Error && e.name === 'ModelFormatError') throw e;
    return fail(
      { file: path, field: 'zip' },
      `corrupt zip archive (${e instanceof Error ? e.message : quote(e)})`,
      e,
    );
  }
  for (const [name, data] of Object.entries(files)) {
    if (data.length !== sizes.get(name)) {
      fail(
        { file: path, field: name },
        `decompressed to ${data.length} bytes, the archive says ${sizes.get(name)}`,
      );
    }
  }
  return files;
}
