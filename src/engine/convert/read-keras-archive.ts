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
  /** The entry's DOS timestamp as local time (how zip writers read and write it). */
  modified?: Date;
  data: Uint8Array;
}

/** Every entry of a `.keras` archive in stored order, each checked as a load checks the three. */
export async function readArchiveEntries(path: string): Promise<ArchiveEntry[]> {
  const bytes = await readFileBounded(path, MAX_MODEL_FILE_BYTES);
  const entries = listEntries(bytes, path, true);
  const files = unzip(bytes, path, () => true);
  const times = entryTimes(bytes);
  return entries.map((e, i) => ({
    name: e.name,
    compression: e.compression,
    modified: times.length === entries.length ? times[i] : undefined,
    data: files[e.name],
  }));
}

/**
 * The central directory's timestamps in entry order (fflate reports none). Best effort: an
 * archive whose directory cannot be walked gets no timestamps, and writers use the current time.
 */
function entryTimes(bytes: Uint8Array): (Date | undefined)[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) return [];
  const times: (Date | undefined)[] = [];
  let at = view.getUint32(end + 16, true);
  for (let i = view.getUint16(end + 10, true); i > 0; i--) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) return [];
    const time = view.getUint16(at + 12, true);
    const date = view.getUint16(at + 14, true);
    const [month, day] = [(date >> 5) & 15, date & 31];
    // A zero or out-of-range date field is no date (and zip writers refuse to write one).
    const valid = month >= 1 && month <= 12 && day >= 1;
    times.push(
      valid
        ? new Date(
            1980 + (date >> 9),
            month - 1,
            day,
            time >> 11,
            (time >> 5) & 63,
            (time & 31) * 2,
          )
        : undefined,
    );
    at +=
      46 +
      view.getUint16(at + 28, true) +
      view.getUint16(at + 30, true) +
      view.getUint16(at + 32, true);
  }
  return times;
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
