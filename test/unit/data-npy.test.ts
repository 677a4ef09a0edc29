import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DataError,
  encodeNpy,
  loadNpyPair,
  NpyDtype,
  parseNpy,
  writeNpy,
} from '../../src/engine/data';

const FIXTURES = resolve(__dirname, '../../../test/fixtures/data');
const fixture = (name: string) => join(FIXTURES, name);
const tmp = mkdtempSync(join(tmpdir(), 'batchless-npy-'));

/** The formulas make_npy_fixtures.py used (see its docstring). */
const GRID = Array.from({ length: 24 }, (_, k) => k);
const FLOAT_GRID = GRID.map((k) => k - 10.5);
const LABELS = [0, 1, 2, 0, 1, 2];

function assertDataError(run: () => unknown, ...fragments: string[]): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    for (const fragment of fragments) {
      assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    }
    return true;
  });
}

test('round trip through writeNpy for every dtype and header version', () => {
  const cases: [NpyDtype, number[]][] = [
    ['<f4', [-1.5, 0, 3.25, 1e-3, 65504, -7]],
    ['<f8', [-1.5, 0, Math.PI, 1e-300, 2 ** 60, -7]],
    ['<i4', [-2147483648, 0, 1, 2147483647, -5, 9]],
    ['<i8', [-(2 ** 53) + 1, 0, 1, 2 ** 53 - 1, -5, 9]],
    ['|u1', [0, 1, 127, 128, 255, 9]],
    ['<u1', [0, 1, 127, 128, 255, 9]],
  ];
  for (const [dtype, values] of cases) {
    for (const version of [1, 2, 3] as const) {
      const path = join(tmp, `rt-${dtype.slice(1)}-v${version}.npy`);
      writeNpy(path, values, [3, 2], dtype, version);
      const bytes = readFileSync(path);
      assert.equal(bytes[6], version);
      const prefix = version === 1 ? 10 : 12;
      const headerLength = version === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
      assert.equal((prefix + headerLength) % 64, 0, 'data starts 64-byte aligned like NumPy');
      const array = parseNpy(bytes, path);
      assert.equal(array.dtype, dtype);
      assert.deepEqual(array.shape, [3, 2]);
      const expected = dtype === '<f4' ? values.map(Math.fround) : values;
      assert.deepEqual(Array.from(array.data), expected, `${dtype} v${version}`);
    }
  }
  assert.deepEqual(parseNpy(encodeNpy([5], [1], '<i4'), 'one').shape, [1]);
  assert.deepEqual(parseNpy(encodeNpy([5], [], '<i4'), 'scalar').shape, []);
});

test('reads files written by real NumPy (every x dtype, int/uint8/float labels, v2, v3)', () => {
  for (const name of ['x_f4', 'x_f8', 'x_f4_v2', 'x_f4_v3']) {
    const ds = loadNpyPair(fixture(`${name}.npy`), fixture('y_i8.npy'));
    assert.deepEqual(Array.from(ds.x), FLOAT_GRID, name);
    assert.deepEqual(ds.inputShape, [4]);
    assert.equal(ds.count, 6);
    assert.equal(ds.numClasses, 3);
    assert.deepEqual(Array.from(ds.y), LABELS);
  }
  for (const name of ['x_i4', 'x_i8', 'x_u1']) {
    const ds = loadNpyPair(fixture(`${name}.npy`), fixture('y_u1.npy'));
    assert.deepEqual(Array.from(ds.x), GRID, name);
    assert.deepEqual(Array.from(ds.y), LABELS);
  }
  const floatLabels = loadNpyPair(fixture('x_f4.npy'), fixture('y_f8.npy'));
  assert.deepEqual(Array.from(floatLabels.y), LABELS);
  const images = loadNpyPair(fixture('x_f4_6x2x2.npy'), fixture('y_i8.npy'));
  assert.deepEqual(images.inputShape, [2, 2]);
  assert.deepEqual(Array.from(images.x), FLOAT_GRID);
  assert.equal(parseNpy(readFileSync(fixture('x_u1.npy')), 'u1').dtype, '|u1');
});

test('refuses what it cannot read, naming the file and the problem', () => {
  const y = fixture('y_i8.npy');
  const x = fixture('x_f4.npy');
  assertDataError(
    () => loadNpyPair(fixture('bad_fortran.npy'), y),
    'bad_fortran.npy',
    "'fortran_order'",
    'False',
  );
  assertDataError(
    () => loadNpyPair(fixture('bad_big_endian.npy'), y),
    'bad_big_endian.npy',
    "'descr'",
    "got '>f4'",
  );
  assertDataError(
    () => loadNpyPair(fixture('bad_structured.npy'), y),
    "'descr'",
    'a structured dtype',
  );
  assertDataError(
    () => loadNpyPair(x, fixture('y_short.npy')),
    'y_short.npy',
    '6 labels, one per row of x_f4.npy, got 5',
  );
  assertDataError(
    () => loadNpyPair(x, fixture('y_negative.npy')),
    'y_negative.npy, element 2',
    'got -1',
  );
  assertDataError(() => loadNpyPair(x, x), 'x_f4.npy', 'one label per example');
  assertDataError(() => loadNpyPair(y, y), 'y_i8.npy', 'at least 2 dimensions');
  assertDataError(() => loadNpyPair(fixture('csv.npy'), y), 'csv.npy', 'a readable file');

  const good = readFileSync(x);
  assertDataError(
    () => parseNpy(good.subarray(0, good.length - 3), 'cut.npy'),
    'cut.npy',
    '96 data bytes',
    'got 93 (truncated)',
  );
  assertDataError(() => parseNpy(good.subarray(0, 40), 'cut.npy'), 'a header of 118 bytes');
  assertDataError(() => parseNpy(Buffer.concat([good, Buffer.from([0])]), 'long.npy'), 'got 97');
  assertDataError(
    () => parseNpy(Buffer.from('PK\x03\x04 not numpy'), 'z.npz'),
    'z.npz',
    '\\x93NUMPY',
  );
  const v9 = Buffer.from(good);
  v9[6] = 9;
  assertDataError(() => parseNpy(v9, 'v9.npy'), 'version 1, 2 or 3', 'got version 9.0');
  const header = (dict: string) => {
    const bytes = Buffer.from(encodeNpy([1, 2], [2], '<i4'));
    const text = dict.padEnd(bytes.readUInt16LE(8) - 1, ' ') + '\n';
    bytes.write(text, 10, 'latin1');
    return bytes;
  };
  assertDataError(
    () => parseNpy(header("{'descr': '<i2', 'fortran_order': False, 'shape': (4,), }"), 'h'),
    "got '<i2'",
  );
  assertDataError(
    () => parseNpy(header("{'descr': '<i4', 'shape': (2,), }"), 'h'),
    "'fortran_order'",
    'True or False',
  );
  assertDataError(
    () => parseNpy(header("{'descr': '<i4', 'fortran_order': False, 'shape': (-2,), }"), 'h'),
    'a non-negative integer',
  );
  assertDataError(
    () => parseNpy(header("{'descr': '<i4', 'fortran_order': False, 'shape': (2,) "), 'h'),
    'header at character',
  );
  assertDataError(
    () =>
      parseNpy(
        header(
          "{'descr': '<i4', 'fortran_order': False, 'shape': ((((((((((((((((((2,)))))))))))))))))), }",
        ),
        'h',
      ),
    'levels of nesting',
  );
  assertDataError(
    () =>
      parseNpy(
        header("{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"),
        'h',
      ),
    'data bytes',
  );
  // Python 2's NumPy wrote long ints as 2L; those files are still around.
  const old = parseNpy(header("{'descr': '<i4', 'fortran_order': False, 'shape': (2L,), }"), 'h');
  assert.deepEqual(Array.from(old.data), [1, 2]);
});

test('x with non-finite values or an empty first dimension is refused', () => {
  const x = join(tmp, 'nan-x.npy');
  const y = join(tmp, 'nan-y.npy');
  writeNpy(x, [1, NaN, 3, 4], [2, 2], '<f4');
  writeNpy(y, [0, 1], [2], '<i8');
  assertDataError(() => loadNpyPair(x, y), 'nan-x.npy, element 1', 'a finite float32 value');
  writeNpy(x, [1e300, 0, 3, 4], [2, 2], '<f8');
  assertDataError(() => loadNpyPair(x, y), 'element 0');
  writeNpy(x, [], [0, 2], '<f4');
  writeNpy(y, [], [0], '<i8');
  assertDataError(() => loadNpyPair(x, y), 'at least one example');
  writeFileSync(y, encodeNpy([0, 1, 0, 1], [2, 2], '<i4'));
  writeNpy(x, [1, 2, 3, 4], [2, 2], '<f4');
  assertDataError(() => loadNpyPair(x, y), 'nan-y.npy', 'shape (n,) or (n, 1)');
});
