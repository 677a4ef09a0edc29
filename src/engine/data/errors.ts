/** Where a data problem was found and what was wanted there. */
export interface DataErrorDetails {
  /** The file (or dataset spec) as the caller named it, so the user recognises it. */
  file: string;
  /** 1-based row; for CSV this is the line number, so the header counts as row 1. */
  row?: number;
  /** Bare name of the offending field: a column name, a header key, an element index. */
  field?: string;
  /** How the message introduces the field; defaults to `column '<field>'`. */
  fieldLabel?: string;
  /** What the reader needed, phrased to follow "expected", e.g. "a number". */
  expected: string;
  /** What it found instead, already formatted (use `quoteValue` for raw text). */
  got?: string;
}

/**
 * The one error type data readers throw for bad input, so callers (the CLI, the worker, the fuzz
 * test) can tell "your file is wrong" from a bug in the reader.
 */
export class DataError extends Error {
  readonly file: string;
  readonly row?: number;
  readonly field?: string;
  readonly expected: string;
  readonly got?: string;

  constructor(details: DataErrorDetails) {
    super(formatDataError(details));
    this.name = 'DataError';
    this.file = details.file;
    this.row = details.row;
    this.field = details.field;
    this.expected = details.expected;
    this.got = details.got;
  }
}

function formatDataError(d: DataErrorDetails): string {
  let where = d.file;
  if (d.row !== undefined) where += ` row ${d.row}`;
  if (d.field !== undefined) {
    where += `, ${d.fieldLabel ?? `column '${d.field}'`}`;
  }
  const got = d.got !== undefined ? `, got ${d.got}` : '';
  return `${where}: expected ${d.expected}${got}`;
}

const MAX_QUOTED_CHARS = 40;

/** Quotes a raw value for a message, cut short so a corrupt file cannot flood the log. */
export function quoteValue(text: string): string {
  const cut = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return `'${cut}'`;
}
