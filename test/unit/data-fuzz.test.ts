import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  Dataset,
  DataError,
  encodeNpy,
  parseCsv,
  parseNpy,
  seededRandom,
  shapeSize,
} from '../../src/engine/data';
import { npyPairToDataset } from '../../src/engine/data/npy';

const FIXTURES = resolve(__dirname, '../../../test/fixtures/data');
const ROUNDS = 300;

/**
 * One random edit: flip, overwrite, delete, insert, duplicate or truncate; `sameLength` keeps to
 * the first two so a binary file's sizes stay consistent and the value decoding gets exercised.
 */
function mutate(
  bytes: Uint8Array,
  random: () => number,
  alphabet: Uint8Array,
  sameLength = false,
): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  const at = pick(bytes.length + 1);
  const len = 1 + pick(8);
  const some = () => Uint8Array.from({ length: len }, () => alphabet[pick(alphabet.length)]);
  const join = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
  switch (pick(sameLength ? 2 : 6)) {
    case 0: {
      const out = Uint8Array.from(bytes);
      if (at < out.length) out[at] ^= 1 << pick(8);
      return out;
    }
    case 1: {
      const out = Uint8Array.from(bytes);
      out.set(some().subarray(0, Math.max(0, out.length - at)), at);
      return out;
    }
    case 2:
      return join(bytes.subarray(0, at), bytes.subarray(at + len));
    case 3:
      return join(bytes.subarray(0, at), some(), bytes.subarray(at));
    case 4:
      return join(
        bytes.subarray(0, at),
        bytes.subarray(at - len < 0 ? 0 : at - len, at),
        bytes.subarray(at),
      );
    default:
      return bytes.subarray(0, at);
  }
}

/** Either a dataset that keeps every promise, or a DataError; anything else fails the test. */
function expectDatasetOrDataError(load: () => Dataset, what: string): 'ok' | 'error' {
  let ds: Dataset;
  try {
    ds = load();
  } catch (error) {
    assert.ok(error instanceof DataError, `${what}: threw ${String(error)}`);
    assert.ok(error.message.length > 0 && error.message.length < 400, `${what}: ${error.message}`);
    return 'error';
  }
  assert.equal(ds.x.length, ds.count * shapeSize(ds.inputShape), what);
  assert.equal(ds.y.length, ds.count, what);
  assert.ok(
    ds.y.every((label) => label >= 0 && label < ds.numClasses),
    what,
  );
  assert.ok(ds.x.every(Number.isFinite), what);
  return 'ok';
}

test('mutated CSV text either loads consistently or throws DataError', { timeout: 30000 }, () => {
  const random = seededRandom(1234);
  const seeds = ['digits-small.csv', 'iris-head.csv', 'bad-value.csv'].map(
    (name) => new Uint8Array(readFileSync(join(FIXTURES, name))),
  );
  const alphabet = new TextEncoder().encode('0123456789.,-+eE"\r\n abcxyz\uFEFF\u00e9');
  const outcomes = { ok: 0, error: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    let bytes: Uint8Array = seeds[round % seeds.length];
    const edits = 1 + Math.floor(random() * 4);
    for (let e = 0; e < edits; e++) bytes = mutate(bytes, random, alphabet);
    const text = new TextDecoder().decode(bytes);
    const header = (['auto', true, false] as const)[round % 3];
    outcomes[
      expectDatasetOrDataError(
        () => parseCsv(text, 'fuzz.csv', { header }),
        `round ${round}: ${JSON.stringify(text)}`,
      )
    ]++;
  }
  // Both paths must actually be exercised, or the fuzz proves nothing.
  assert.ok(outcomes.ok > 20 && outcomes.error > 20, JSON.stringify(outcomes));
});

test('mutated .npy bytes either decode consistently or throw DataError', { timeout: 30000 }, () => {
  const random = seededRandom(99);
  const seeds = [
    encodeNpy([1, 2, 3, 4, 5, 6], [3, 2], '<f4'),
    encodeNpy([1, 2, 3, 4, 5, 6], [3, 2], '<i8', 2),
    encodeNpy([1, 2, 3, 4, 5, 6], [3, 2], '|u1', 3),
    new Uint8Array(readFileSync(join(FIXTURES, 'x_f8.npy'))),
  ];
  const labels = parseNpy(encodeNpy([0, 1, 0], [3], '<i4'), 'y.npy');
  const alphabet = new TextEncoder().encode("{}()[]',: 0123456789TrueFalse<>|fiu\x00\x93NUMPY");
  const outcomes = { ok: 0, error: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    let bytes = seeds[round % seeds.length];
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) bytes = mutate(bytes, random, alphabet, round % 2 === 0);
    const what = `round ${round}: ${Buffer.from(bytes).toString('latin1')}`;
    outcomes[
      expectDatasetOrDataError(() => {
        const x = parseNpy(bytes, 'fuzz.npy');
        assert.equal(x.data.length, shapeSize(x.shape), what);
        return npyPairToDataset(x, labels, 'fuzz.npy', 'y.npy');
      }, what)
    ]++;
  }
  assert.ok(outcomes.ok > 10 && outcomes.error > 100, JSON.stringify(outcomes));
});
