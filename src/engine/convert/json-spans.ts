import { fail, ModelWhere } from './model-errors';

/**
 * A parsed JSON value that remembers where its text sits, so a writer can replace one value
 * (a layer entry) and leave every other byte of a Keras file as Keras wrote it.
 */
export type SpanNode =
  | { kind: 'object'; start: number; end: number; entries: SpanEntry[] }
  | { kind: 'array'; start: number; end: number; items: SpanNode[] }
  | { kind: 'scalar'; start: number; end: number; value: string | number | boolean | null };

export interface SpanEntry {
  key: string;
  value: SpanNode;
}

/** Keras configs nest a few levels per model; far deeper input is hostile, not a model. */
const MAX_DEPTH = 256;

/** Parses JSON text into span nodes; anything but valid JSON is a ModelFormatError. */
export function parseJsonSpans(text: string, where: ModelWhere): SpanNode {
  let at = 0;
  const bad = (what: string): never => fail(where, `not valid JSON at offset ${at}: ${what}`);
  const skip = (): void => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  };
  const scalar = (pattern: RegExp): SpanNode => {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (match === null) return bad(`unexpected ${JSON.stringify(text.slice(at, at + 10))}`);
    const start = at;
    at += match[0].length;
    return { kind: 'scalar', start, end: at, value: JSON.parse(match[0]) as string | number };
  };
  const value = (depth: number): SpanNode => {
    if (depth > MAX_DEPTH) return bad(`nested deeper than ${MAX_DEPTH}`);
    skip();
    const start = at;
    const c = text[at];
    if (c === '{' || c === '[') {
      at++;
      const entries: SpanEntry[] = [];
      const items: SpanNode[] = [];
      skip();
      const close = c === '{' ? '}' : ']';
      if (text[at] === close) at++;
      else {
        for (;;) {
          if (c === '{') {
            skip();
            const key = String((scalar(STRING) as { value: string }).value);
            skip();
            if (text[at++] !== ':') bad("expected ':'");
            entries.push({ key, value: value(depth + 1) });
          } else items.push(value(depth + 1));
          skip();
          const next = text[at++];
          if (next === close) break;
          if (next !== ',') bad(`expected ',' or '${close}'`);
        }
      }
      return c === '{'
        ? { kind: 'object', start, end: at, entries }
        : { kind: 'array', start, end: at, items };
    }
    if (c === '"') return scalar(STRING);
    for (const [word, literal] of LITERALS) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return { kind: 'scalar', start, end: at, value: literal };
      }
    }
    return scalar(NUMBER);
  };
  const root = value(0);
  skip();
  if (at !== text.length) bad('trailing text');
  return root;
}

// JSON forbids raw control characters inside strings.
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS: [string, boolean | null][] = [
  ['true', true],
  ['false', false],
  ['null', null],
];

/** The value of `key` in an object node, if any. */
export function member(node: SpanNode | undefined, key: string): SpanNode | undefined {
  return node?.kind === 'object' ? node.entries.find((e) => e.key === key)?.value : undefined;
}

/** A string scalar's value, if the node is one. */
export function stringOf(node: SpanNode | undefined): string | undefined {
  return node?.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}

/** A float, written the way Python's json.dumps writes one (1e-05, 0.0), as Keras files have them. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Text copied verbatim from the original file. */
export class RawJson {
  constructor(readonly text: string) {}
}

export type PyJsonValue =
  | string
  | number
  | boolean
  | null
  | PyFloat
  | RawJson
  | PyJsonValue[]
  | { [key: string]: PyJsonValue };

/** Serializes like Python's json.dumps defaults: ', ' and ': ' separators, ASCII only. */
export function pyJson(value: PyJsonValue): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof PyFloat) return pythonFloat(value.value);
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new Error(`pyJson: ${value} is not an int; use PyFloat`);
    return String(value);
  }
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  const parts = Object.entries(value).map(([k, v]) => `${pythonString(k)}: ${pyJson(v)}`);
  return `{${parts.join(', ')}}`;
}

/** Python's float repr: the shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pythonFloat(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`pyJson: ${x} has no JSON form`);
  if (Object.is(x, -0)) return '-0.0';
  const [mantissa, exponentText] = x.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const digits = String(Math.abs(exponent)).padStart(2, '0');
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${digits}`;
  }
  const positional = String(x);
  return positional.includes('.') ? positional : `${positional}.0`;
}

function pythonString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
