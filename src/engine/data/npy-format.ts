/** The .npy container: magic, dtypes and the header dict (format spec: numpy.lib.format). */
import { DataError, quoteValue } from './errors';

/** The dtypes read and written here: little-endian floats and integers, and bytes. */
export type NpyDtype = '<f4' | '<f8' | '<i4' | '<i8' | '|u1' | '<u1';

export const ITEM_SIZE: Record<NpyDtype, number> = {
  '<f4': 4,
  '<f8': 8,
  '<i4': 4,
  '<i8': 8,
  '|u1': 1,
  '<u1': 1,
};
export const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** NumPy pads the header so the data starts on a 64-byte boundary; we do the same. */
export const HEADER_ALIGN = 64;

export function isNpyDtype(descr: string): descr is NpyDtype {
  return Object.prototype.hasOwnProperty.call(ITEM_SIZE, descr);
}

/** The three keys every .npy header dict carries. */
export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

type PyValue = string | number | boolean | null | PyValue[];

/** Nesting deeper than this is never a real header, and would only cost stack. */
const MAX_DEPTH = 16;

/**
 * Parses the header dict, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`:
 * Python literals limited to strings, ints, True/False/None, tuples and lists, which covers what
 * NumPy writes (a list for structured dtypes, which the caller then rejects).
 */
export function parseNpyHeader(text: string, file: string): NpyHeader {
  const parser = new LiteralParser(text, file);
  const dict = parser.parseDict();
  const { descr, fortran_order: fortranOrder, shape } = dict;
  const key = (name: string) => ({
    file,
    field: name,
    fieldLabel: `header key '${name}'`,
  });
  if (typeof descr !== 'string') {
    const got =
      descr === undefined ? 'nothing' : Array.isArray(descr) ? 'a structured dtype' : String(descr);
    throw new DataError({
      ...key('descr'),
      expected: 'a simple dtype string such as <f4',
      got,
    });
  }
  if (typeof fortranOrder !== 'boolean') {
    throw new DataError({
      ...key('fortran_order'),
      expected: 'True or False',
      got: String(fortranOrder ?? 'nothing'),
    });
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) {
    throw new DataError({
      ...key('shape'),
      expected: 'a tuple of non-negative integers',
      got: shape === undefined ? 'nothing' : 'another value',
    });
  }
  return { descr, fortranOrder, shape: shape as number[] };
}

class LiteralParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  parseDict(): Record<string, PyValue | undefined> {
    const dict: Record<string, PyValue | undefined> = Object.create(null) as Record<
      string,
      PyValue
    >;
    this.expect('{');
    while (!this.eat('}')) {
      const key = this.parseValue(1);
      if (typeof key !== 'string') this.fail('a string key');
      this.expect(':');
      dict[key] = this.parseValue(1);
      if (!this.eat(',')) {
        this.expect('}');
        break;
      }
    }
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('nothing after the closing brace');
    return dict;
  }

  private parseValue(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.fail(`at most ${MAX_DEPTH} levels of nesting`);
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "'" || c === '"') return this.parseString(c);
    if (c === '(' || c === '[') return this.parseSequence(c === '(' ? ')' : ']', depth);
    const word = /^(?:True|False|None|-?\d+L?)/.exec(this.text.slice(this.pos, this.pos + 24));
    if (!word) this.fail('a Python literal');
    this.pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    // Old NumPy on Python 2 wrote shapes as (3L, 4L).
    const value = Number(word[0].replace('L', ''));
    if (value < 0 || !Number.isSafeInteger(value)) this.fail('a non-negative integer', word[0]);
    return value;
  }

  private parseString(quote: string): string {
    let value = '';
    for (this.pos++; this.pos < this.text.length; this.pos++) {
      const c = this.text[this.pos];
      if (c === quote) {
        this.pos++;
        return value;
      }
      // Dtype strings never need real escapes; keeping the escaped character is enough.
      if (c === '\\') this.pos++;
      value += this.text[this.pos] ?? '';
    }
    return this.fail('a closing quote');
  }

  private parseSequence(close: string, depth: number): PyValue[] {
    const items: PyValue[] = [];
    this.pos++;
    while (!this.eat(close)) {
      items.push(this.parseValue(depth + 1));
      if (!this.eat(',')) {
        this.expect(close);
        break;
      }
    }
    return items;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private eat(token: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] !== token) return false;
    this.pos++;
    return true;
  }

  private expect(token: string): void {
    if (!this.eat(token)) this.fail(`'${token}'`);
  }

  private fail(expected: string, got?: string): never {
    throw new DataError({
      file: this.file,
      field: 'header',
      fieldLabel: `header at character ${this.pos}`,
      expected,
      got: got ?? quoteValue(this.text.slice(this.pos, this.pos + 20)),
    });
  }
}
