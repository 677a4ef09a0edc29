/**
 * CSV text to records: line splitting (LF, CRLF or CR), minimal quoting, header detection. Kept
 * apart from csv.ts, which turns records into a dataset.
 */
import { DataError, quoteValue } from './errors';

/** A plain decimal number, as a feature or a numeric label must be written. */
export const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface CsvRecord {
  /** 1-based line number in the file, so the header is row 1. */
  row: number;
  fields: string[];
}

/** Splits text into non-blank lines and those into fields. */
export function splitRecords(text: string, file: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  text.split(/\r\n|\n|\r/).forEach((line, i) => {
    if (line.trim() === '') return;
    records.push({ row: i + 1, fields: splitLine(line, file, i + 1) });
  });
  return records;
}

function splitLine(line: string, file: string, row: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const close = line.indexOf('"', j);
        if (close < 0) {
          throw new DataError({
            file,
            row,
            field: String(fields.length),
            fieldLabel: `field ${fields.length + 1}`,
            expected: 'a closing quote',
          });
        }
        value += line.slice(j, close);
        if (line[close + 1] === '"') {
          value += '"';
          j = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      if (i < line.length && line[i] !== ',') {
        throw new DataError({
          file,
          row,
          field: String(fields.length),
          fieldLabel: `field ${fields.length + 1}`,
          expected: 'a comma after the closing quote',
          got: quoteValue(line.slice(i, i + 10)),
        });
      }
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(i, end));
      i = end;
    }
    if (i >= line.length) return fields;
    i++; // past the comma; a trailing comma yields a final empty field
    if (i === line.length) {
      fields.push('');
      return fields;
    }
  }
}

/**
 * A header is assumed when some column holds a non-number in the first row but a number in the
 * second (names over numeric data), or when the first row has no numbers at all. A headerless
 * file with string labels (5.1,3.5,setosa) is thereby not mistaken for one.
 */
export function looksLikeHeader(records: CsvRecord[]): boolean {
  const first = records[0].fields.map((f) => NUMBER.test(f.trim()));
  if (first.every((isNumber) => !isNumber)) return true;
  const second = records[1]?.fields.map((f) => NUMBER.test(f.trim()));
  return second !== undefined && first.some((isNumber, c) => !isNumber && second[c] === true);
}
