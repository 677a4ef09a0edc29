import { writeFileSync } from 'node:fs';
import { shapeSize } from './dataset';
import { HEADER_ALIGN, ITEM_SIZE, MAGIC, NpyDtype } from './npy-format';

/** Encodes an array as .npy bytes (version 1 unless asked; 2 and 3 only differ in the header). */
export function encodeNpy(
  data: ArrayLike<number>,
  shape: number[],
  dtype: NpyDtype,
  version: 1 | 2 | 3 = 1,
): Uint8Array {
  if (shapeSize(shape) !== data.length) {
    throw new RangeError(
      `encodeNpy: shape (${shape}) holds ${shapeSize(shape)} values, got ${data.length}`,
    );
  }
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${tuple}, }`;
  const prefix = 8 + (version === 1 ? 2 : 4);
  const padded = Math.ceil((prefix + dict.length + 1) / HEADER_ALIGN) * HEADER_ALIGN;
  const headerText = dict.padEnd(padded - prefix - 1, ' ') + '\n';
  const itemSize = ITEM_SIZE[dtype];
  const bytes = new Uint8Array(padded + data.length * itemSize);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  bytes[6] = version;
  bytes[7] = 0;
  if (version === 1) view.setUint16(8, headerText.length, true);
  else view.setUint32(8, headerText.length, true);
  for (let i = 0; i < headerText.length; i++) bytes[prefix + i] = headerText.charCodeAt(i);
  for (let i = 0, o = padded; i < data.length; i++, o += itemSize) {
    const value = data[i];
    if (dtype === '<f4') view.setFloat32(o, value, true);
    else if (dtype === '<f8') view.setFloat64(o, value, true);
    else if (dtype === '<i4') view.setInt32(o, value, true);
    else if (dtype === '<i8') view.setBigInt64(o, BigInt(Math.trunc(value)), true);
    else view.setUint8(o, value);
  }
  return bytes;
}

/** Writes a .npy file, for tests and tools. */
export function writeNpy(
  path: string,
  data: ArrayLike<number>,
  shape: number[],
  dtype: NpyDtype,
  version: 1 | 2 | 3 = 1,
): void {
  writeFileSync(path, encodeNpy(data, shape, dtype, version));
}
