import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Dataset, DataError, MAX_CLASSES, shapeSize, validateDataset } from './dataset';
import { isNpyDtype, ITEM_SIZE, MAGIC, NpyDtype, parseNpyHeader } from './npy-format';

export { encodeNpy, writeNpy } from './npy-write';
export type { NpyDtype } from './npy-format';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** Every element as a double; exact for all supported dtypes except very large int64s. */
  data: Float64Array;
}

/** Decodes a .npy v1/v2/v3 file held in memory; `file` only names it in errors. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new DataError({
      file,
      expected: 'a .npy file starting with \\x93NUMPY',
      got: 'other bytes',
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) {
    throw new DataError({
      file,
      expected: '.npy format version 1, 2 or 3',
      got: `version ${major}.${bytes[7]}`,
    });
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) {
    throw new DataError({
      file,
      expected: 'a complete .npy header',
      got: `${bytes.length} bytes`,
    });
  }
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > bytes.length) {
    throw new DataError({
      file,
      expected: `a header of ${headerLength} bytes`,
      got: `${bytes.length - 8 - lengthBytes}`,
    });
  }
  const headerBytes = bytes.subarray(8 + lengthBytes, dataStart);
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const header = parseNpyHeader(headerText, file);
  if (header.fortranOrder) {
    throw new DataError({
      file,
      field: 'fortran_order',
      fieldLabel: "header key 'fortran_order'",
      expected: 'False (C order)',
      got: 'True',
    });
  }
  if (!isNpyDtype(header.descr)) {
    throw new DataError({
      file,
      field: 'descr',
      fieldLabel: "header key 'descr'",
      expected: `one of ${Object.keys(ITEM_SIZE).join(' ')}`,
      got: `'${header.descr}'`,
    });
  }
  const dtype = header.descr;
  const count = shapeSize(header.shape);
  const needed = count * ITEM_SIZE[dtype];
  const available = bytes.length - dataStart;
  if (needed !== available) {
    throw new DataError({
      file,
      expected: `${needed} data bytes for shape (${header.shape.join(', ')}) of ${dtype}`,
      got: `${available}${available < needed ? ' (truncated)' : ''}`,
    });
  }
  const data = new Float64Array(count);
  const read = reader(view, dtype);
  for (let i = 0, offset = dataStart; i < count; i++, offset += ITEM_SIZE[dtype]) {
    data[i] = read(offset);
  }
  return { dtype, shape: header.shape, data };
}

function reader(view: DataView, dtype: NpyDtype): (offset: number) => number {
  switch (dtype) {
    case '<f4':
      return (o) => view.getFloat32(o, true);
    case '<f8':
      return (o) => view.getFloat64(o, true);
    case '<i4':
      return (o) => view.getInt32(o, true);
    case '<i8':
      return (o) => Number(view.getBigInt64(o, true));
    case '|u1':
    case '<u1':
      return (o) => view.getUint8(o);
  }
}

function readNpyFile(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataError({
      file: path,
      expected: 'a readable file',
      got: (error as Error).message,
    });
  }
  return parseNpy(bytes, path);
}

/** Reads features x (shape [count, ...]) and integer labels y (shape [count]) from two .npy files. */
export function loadNpyPair(xPath: string, yPath: string): Dataset {
  return npyPairToDataset(readNpyFile(xPath), readNpyFile(yPath), xPath, yPath);
}

/**
 * Combines decoded arrays into a dataset. Labels may be stored as floats (common after pandas) as
 * long as every value is a whole number; y of shape (n, 1) is accepted as (n,).
 */
export function npyPairToDataset(x: NpyArray, y: NpyArray, xPath: string, yPath: string): Dataset {
  if (x.shape.length < 2) {
    throw new DataError({
      file: xPath,
      field: 'shape',
      fieldLabel: "header key 'shape'",
      expected: 'at least 2 dimensions (examples, features...)',
      got: `(${x.shape})`,
    });
  }
  const yIsColumn = y.shape.length === 2 && y.shape[1] === 1;
  if (y.shape.length !== 1 && !yIsColumn) {
    throw new DataError({
      file: yPath,
      field: 'shape',
      fieldLabel: "header key 'shape'",
      expected: 'one label per example: shape (n,) or (n, 1)',
      got: `(${y.shape})`,
    });
  }
  const count = x.shape[0];
  if (count === 0) {
    throw new DataError({ file: xPath, expected: 'at least one example', got: 'shape (0, …)' });
  }
  if (y.shape[0] !== count) {
    throw new DataError({
      file: yPath,
      field: 'shape',
      fieldLabel: "header key 'shape'",
      expected: `${count} labels, one per row of ${basename(xPath)}`,
      got: `${y.shape[0]}`,
    });
  }
  const labels = new Int32Array(count);
  let max = 0;
  for (let i = 0; i < count; i++) {
    const value = y.data[i];
    if (!Number.isInteger(value) || value < 0 || value >= MAX_CLASSES) {
      throw new DataError({
        file: yPath,
        field: String(i),
        fieldLabel: `element ${i}`,
        expected: `an integer class label in 0..${MAX_CLASSES - 1}`,
        got: `${value}`,
      });
    }
    labels[i] = value;
    max = Math.max(max, value);
  }
  const features = Float32Array.from(x.data);
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) {
      throw new DataError({
        file: xPath,
        field: String(i),
        fieldLabel: `element ${i}`,
        expected: 'a finite float32 value',
        got: `${x.data[i]}`,
      });
    }
  }
  const dataset: Dataset = {
    name: `${basename(xPath)}+${basename(yPath)}`,
    source: `${xPath},${yPath}`,
    inputShape: x.shape.slice(1),
    numClasses: max + 1,
    count,
    x: features,
    y: labels,
  };
  return validateDataset(dataset, xPath);
}
