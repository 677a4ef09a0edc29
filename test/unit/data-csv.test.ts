import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DataError, loadCsv, parseCsv } from '../../src/engine/data';

const FIXTURES = resolve(__dirname, '../../../test/fixtures/data');
const tmp = mkdtempSync(join(tmpdir(), 'batchless-csv-'));

function writeTemp(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** Asserts a DataError whose message contains every fragment. */
function assertDataError(run: () => unknown, ...fragments: string[]): DataError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DataError, `expected a DataError, got ${String(caught)}`);
  for (const fragment of fragments) {
    assert.ok(caught.message.includes(fragment), `"${caught.message}" lacks "${fragment}"`);
  }
  return caught;
}

test('header, a label column named "label" in the middle, quotes and exponents', () => {
  const ds = loadCsv(join(FIXTURES, 'digits-small.csv'));
  assert.equal(ds.name, 'digits-small.csv');
  assert.equal(ds.count, 4);
  assert.deepEqual(ds.inputShape, [3]);
  assert.equal(ds.numClasses, 4);
  assert.deepEqual(Array.from(ds.y), [3, 0, 1, 2]);
  assert.deepEqual(Array.from(ds.x), [0.5, 1, -2, 0.25, Math.fround(0.2), 7, 1, 1, 1, 0, 0, 0.125]);
  assert.equal(ds.classNames, undefined);
});

test('headerless file with string labels: last column, names sorted into class ids', () => {
  const ds = loadCsv(join(FIXTURES, 'iris-head.csv'));
  assert.equal(ds.count, 5);
  assert.deepEqual(ds.inputShape, [4]);
  assert.deepEqual(ds.classNames, ['setosa', 'versicolor', 'virginica']);
  assert.deepEqual(Array.from(ds.y), [0, 0, 1, 2, 1]);
  assert.equal(ds.x[8], Math.fround(7.0));
});

test('CRLF, a BOM, blank trailing lines and an explicit label column', () => {
  const text = '\uFEFFa,b,c\r\n1,2,0\r\n3,4,1\r\n\r\n\r\n';
  const byName = parseCsv(text, 'crlf.csv', { labelColumn: 'a' });
  assert.deepEqual(Array.from(byName.y), [1, 3]);
  assert.deepEqual(Array.from(byName.x), [2, 0, 4, 1]);
  const byIndex = parseCsv(text, 'crlf.csv', { labelColumn: -1 });
  assert.deepEqual(Array.from(byIndex.y), [0, 1]);
  const headerless = parseCsv('1,2,0\n3,4,1\n', 'n.csv', { header: false, labelColumn: 0 });
  assert.deepEqual(Array.from(headerless.y), [1, 3]);
  assert.equal(parseCsv('1,2,0\n3,4,1', 'n.csv').count, 2, 'auto: numbers only means no header');
  assert.equal(parseCsv('"x, quoted",b\n"1",0\n', 'q.csv').count, 1);
  const quoted = parseCsv('f,label\n1,"say ""hi"", twice"\n2,plain\n', 'q.csv');
  assert.deepEqual(quoted.classNames, ['plain', 'say "hi", twice']);
  assert.deepEqual(Array.from(quoted.y), [1, 0]);
});

test('a non-number names the file, the row counting the header, and the column', () => {
  const path = join(FIXTURES, 'bad-value.csv');
  const error = assertDataError(
    () => loadCsv(path),
    `${path} row 4, column 'x2': expected a number, got 'abc'`,
  );
  assert.equal(error.row, 4);
  assert.equal(error.field, 'x2');
  assert.equal(error.file, path);
});

test('error cases each say where and what was expected', () => {
  const path = writeTemp('ragged.csv', 'a,b,label\n1,2,0\n1,2\n');
  assertDataError(
    () => loadCsv(path),
    'ragged.csv row 3',
    'expected 3 fields like the header, got 2',
  );
  assertDataError(
    () => parseCsv('1,2,0\n1,2,1,5\n', 'r.csv'),
    'r.csv row 2',
    '3 fields like row 1, got 4',
  );
  assertDataError(
    () => parseCsv('a,label\n1,0\n,1\n', 'e.csv'),
    "e.csv row 3, column 'a'",
    "got ''",
  );
  assertDataError(
    () => parseCsv('a,label\n1,0\n2,1.5\n', 'l.csv'),
    "l.csv row 3, column 'label'",
    'integer class label',
    "got '1.5'",
  );
  assertDataError(
    () => parseCsv('a,label\n1,0\n2,cat\n', 'l.csv'),
    "row 3, column 'label'",
    "got 'cat'",
  );
  assertDataError(() => parseCsv('a,label\n1,-1\n', 'l.csv'), "row 2, column 'label'", "got '-1'");
  assertDataError(
    () => parseCsv('a,label\n1,cat\n2,\n', 'l.csv'),
    "row 3, column 'label'",
    'a class label',
  );
  assertDataError(() => parseCsv('a,b\n1e999,0\n', 'big.csv'), "row 2, column 'a'", 'a number');
  assertDataError(
    () => parseCsv('1,2,x\n4,NaN,y\n', 'nan.csv'),
    'nan.csv row 2, column 1',
    "got 'NaN'",
  );
  assertDataError(() => parseCsv('a,b\n"1,0\n', 'quote.csv'), 'quote.csv row 2', 'a closing quote');
  assertDataError(
    () => parseCsv('a,b\n"1"x,0\n', 'quote.csv'),
    'row 2',
    'a comma after the closing quote',
  );
  assertDataError(() => parseCsv('\n\n', 'empty.csv'), 'empty.csv', 'got an empty file');
  assertDataError(() => parseCsv('a,b\n', 'head.csv'), 'head.csv', 'at least one data row');
  assertDataError(
    () => parseCsv('label\n1\n', 'one.csv'),
    'one.csv row 1',
    'at least one feature column',
  );
  assertDataError(
    () => parseCsv('a,b\n1,0\n', 'c.csv', { labelColumn: 'nope' }),
    'c.csv row 1',
    "a column named 'nope'",
  );
  assertDataError(() => parseCsv('1,0\n', 'c.csv', { labelColumn: 'label' }), 'a header row');
  assertDataError(() => parseCsv('1,0\n', 'c.csv', { labelColumn: 2 }), 'labelColumn', 'got 2');
  assertDataError(() => loadCsv(join(tmp, 'missing.csv')), 'missing.csv', 'a readable file');
});
