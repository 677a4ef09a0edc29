import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CsvRecord, looksLikeHeader, NUMBER, splitRecords } from './csv-records';
import { Dataset, DataError, MAX_CLASSES, quoteValue, validateDataset } from './dataset';

export interface CsvOptions {
  /**
   * The label column: a header name, or a 0-based index (negative counts from the end).
   * Default: the first column named label, class, target or y (any case), else the last column.
   */
  labelColumn?: string | number;
  /** Whether the first row names the columns. Default 'auto' (see looksLikeHeader). */
  header?: boolean | 'auto';
}

const LABEL_NAMES = ['label', 'class', 'target', 'y'];

/** Reads a CSV file of numeric features and one class-label column; see parseCsv. */
export function loadCsv(path: string, options: CsvOptions = {}): Dataset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DataError({
      file: path,
      expected: 'a readable file',
      got: (error as Error).message,
    });
  }
  return parseCsv(text, path, options);
}

/**
 * Parses CSV text. Labels are either integers (class id = value) or, when the first data row's
 * label is not a number, names mapped to ids in sorted order and kept as `classNames`. Quotes are
 * handled minimally: a quoted field may hold commas and doubled quotes, not line breaks. Blank
 * lines are skipped; row numbers in errors are line numbers, so they match an editor.
 */
export function parseCsv(text: string, file: string, options: CsvOptions = {}): Dataset {
  const records = splitRecords(text.replace(/^\uFEFF/, ''), file);
  if (records.length === 0) {
    throw new DataError({
      file,
      expected: 'a header or data rows',
      got: 'an empty file',
    });
  }
  const header = options.header ?? 'auto';
  const hasHeader = header === 'auto' ? looksLikeHeader(records) : header;
  const width = records[0].fields.length;
  const names = hasHeader ? records[0].fields.map((name) => name.trim()) : undefined;
  const rows = hasHeader ? records.slice(1) : records;
  if (rows.length === 0) {
    throw new DataError({
      file,
      expected: 'at least one data row after the header',
    });
  }
  if (width < 2) {
    throw new DataError({
      file,
      row: records[0].row,
      expected: 'at least one feature column and a label column',
      got: `${width} column`,
    });
  }
  const labelIndex = resolveLabelColumn(options.labelColumn, names, width, file);
  const describe = (index: number) =>
    names ? { field: names[index] } : { field: String(index), fieldLabel: `column ${index}` };

  const features = width - 1;
  const x = new Float32Array(rows.length * features);
  const rawLabels: string[] = [];
  const shapeSource = hasHeader ? 'the header' : `row ${records[0].row}`;
  rows.forEach((record, r) => {
    if (record.fields.length !== width) {
      throw new DataError({
        file,
        row: record.row,
        expected: `${width} fields like ${shapeSource}`,
        got: `${record.fields.length}`,
      });
    }
    let k = r * features;
    record.fields.forEach((raw, c) => {
      if (c === labelIndex) {
        rawLabels.push(raw.trim());
        return;
      }
      x[k++] = parseFeature(raw, { file, row: record.row, ...describe(c) });
    });
  });

  const { y, numClasses, classNames } = encodeLabels(rawLabels, rows, file, describe(labelIndex));
  const dataset: Dataset = {
    name: basename(file),
    source: file,
    inputShape: [features],
    numClasses,
    count: rows.length,
    x,
    y,
    ...(classNames ? { classNames } : {}),
  };
  return validateDataset(dataset, file);
}

function resolveLabelColumn(
  option: string | number | undefined,
  names: string[] | undefined,
  width: number,
  file: string,
): number {
  if (typeof option === 'number') {
    const index = option < 0 ? width + option : option;
    if (!Number.isInteger(option) || index < 0 || index >= width) {
      throw new DataError({
        file,
        expected: `labelColumn to be an index in ${-width}..${width - 1}`,
        got: `${option}`,
      });
    }
    return index;
  }
  if (typeof option === 'string') {
    if (!names) {
      throw new DataError({
        file,
        expected: `a header row naming the label column '${option}'`,
        got: 'no header',
      });
    }
    const exact = names.indexOf(option);
    const index =
      exact >= 0 ? exact : names.findIndex((n) => n.toLowerCase() === option.toLowerCase());
    if (index < 0) {
      throw new DataError({
        file,
        row: 1,
        expected: `a column named '${option}'`,
        got: `columns ${names.map(quoteValue).join(', ')}`,
      });
    }
    return index;
  }
  const named = names?.findIndex((n) => LABEL_NAMES.includes(n.toLowerCase())) ?? -1;
  return named >= 0 ? named : width - 1;
}

type Where = {
  file: string;
  row?: number;
  field?: string;
  fieldLabel?: string;
};

function parseFeature(raw: string, where: Where): number {
  const text = raw.trim();
  const value = NUMBER.test(text) ? Math.fround(Number(text)) : NaN;
  if (!Number.isFinite(value)) {
    throw new DataError({
      ...where,
      expected: 'a number',
      got: quoteValue(raw),
    });
  }
  return value;
}

function encodeLabels(
  labels: string[],
  rows: CsvRecord[],
  file: string,
  column: { field: string; fieldLabel?: string },
): { y: Int32Array; numClasses: number; classNames?: string[] } {
  const y = new Int32Array(labels.length);
  if (NUMBER.test(labels[0])) {
    let max = 0;
    labels.forEach((text, i) => {
      const value = NUMBER.test(text) ? Number(text) : NaN;
      if (!Number.isInteger(value) || value < 0 || value >= MAX_CLASSES) {
        throw new DataError({
          file,
          row: rows[i].row,
          ...column,
          expected: `an integer class label in 0..${MAX_CLASSES - 1} (row ${rows[0].row} has a numeric label)`,
          got: quoteValue(text),
        });
      }
      y[i] = value;
      max = Math.max(max, value);
    });
    return { y, numClasses: max + 1 };
  }
  labels.forEach((text, i) => {
    if (text === '') {
      throw new DataError({
        file,
        row: rows[i].row,
        ...column,
        expected: 'a class label',
        got: "''",
      });
    }
  });
  const classNames = [...new Set(labels)].sort();
  if (classNames.length > MAX_CLASSES) {
    throw new DataError({
      file,
      ...column,
      expected: `at most ${MAX_CLASSES} distinct labels`,
      got: `${classNames.length}`,
    });
  }
  const ids = new Map(classNames.map((name, id) => [name, id]));
  labels.forEach((text, i) => (y[i] = ids.get(text) ?? -1));
  return { y, numClasses: classNames.length, classNames };
}
