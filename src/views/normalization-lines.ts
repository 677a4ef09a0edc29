// Where normalization layers are constructed in a file, for CodeLenses: cheap enough to run on
// every edit in the extension host, and editor-free so plain Node tests it. String literals and
// comments are blanked first, so a call quoted in a docstring or commented out gets no lens (the
// conversion itself parses the file properly in the engine worker).

type Syntax = 'c-like' | 'python';

const CALLS: Record<Syntax, RegExp> = {
  'c-like': /\b(?:\w+\.)*batchNormalization\s*\(/g,
  python: /\b(?:\w+\.)*BatchNormalization\s*\(/g,
};

const SYNTAX: Record<string, Syntax> = {
  typescript: 'c-like',
  javascript: 'c-like',
  typescriptreact: 'c-like',
  javascriptreact: 'c-like',
  python: 'python',
};

/** The 0-based lines with a normalization layer to convert, or [] for a language without lenses. */
export function normalizationLines(text: string, languageId: string, fileName: string, maxLines = 20_000): number[] {
  if (languageId === 'json') return /\.json$/i.test(fileName) ? jsonLines(text, maxLines) : [];
  const syntax = SYNTAX[languageId];
  if (!syntax) return [];
  const code = blankStringsAndComments(text, syntax);
  const lines = new Set<number>();
  const starts = lineStarts(code);
  for (const match of code.matchAll(CALLS[syntax])) {
    const line = lineOf(starts, match.index ?? 0);
    if (line < maxLines) lines.add(line);
  }
  return [...lines].sort((a, b) => a - b);
}

/** A Keras or TF.js model.json names its layers' classes in strings: there the strings are the code. */
function jsonLines(text: string, maxLines: number): number[] {
  const lines: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (i < maxLines && /"class_name"\s*:\s*"BatchNormalization"/.test(line)) lines.push(i);
  });
  return lines;
}

/**
 * The text with every string literal and comment replaced by spaces, newlines kept, so offsets
 * and line numbers stay those of the original. Template literals count as strings whole;
 * JavaScript regex literals are not recognised (a quote inside one can end a "string" early,
 * which at worst costs a lens on that line).
 */
export function blankStringsAndComments(text: string, syntax: Syntax): string {
  const out = text.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (syntax === 'c-like' && c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (syntax === 'c-like' && c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (syntax === 'python' && c === '#') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (syntax === 'python' && (c === '"' || c === "'") && text.startsWith(c.repeat(3), i)) {
      const end = text.indexOf(c.repeat(3), i + 3);
      const stop = end < 0 ? text.length : end + 3;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || (syntax === 'c-like' && c === '`')) {
      const stop = stringEnd(text, i, c, c !== '`');
      blank(i, stop);
      i = stop;
    } else {
      i++;
    }
  }
  return out.join('');
}

/** Just past the closing quote of the string opened at `start` (or at the line's end for a one-line string left open). */
function stringEnd(text: string, start: number, quote: string, oneLine: boolean): number {
  for (let k = start + 1; k < text.length; k++) {
    const c = text[k];
    if (c === '\\') k++;
    else if (c === quote) return k + 1;
    else if (c === '\n' && oneLine) return k;
  }
  return text.length;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let k = 0; k < text.length; k++) if (text[k] === '\n') starts.push(k + 1);
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
