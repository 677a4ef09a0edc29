import { SourceEdit } from './types';

/** One element of a comma-separated list (object properties, call arguments). */
export interface ListElement {
  /** First character of the element itself, after any comment before it. */
  start: number;
  end: number;
  /** End of the comma that follows the element, if there is one. */
  commaEnd?: number;
}

/** The list's brackets and what the language counts as a comment. */
export interface ListContext {
  /** Just inside the opening bracket. */
  innerStart: number;
  /** The closing bracket's offset. */
  innerEnd: number;
  /** Whether any comment lies between the brackets. */
  hasComments: boolean;
  /** If a comment that ends on its own line starts at `pos`, its end; otherwise `pos`. */
  skipLineComment: (text: string, pos: number) => number;
}

/**
 * Edits that delete the dropped elements of a list while leaving the user's layout as it was:
 * an element alone on its line goes with the whole line (and a comment trailing it there, which
 * was about it); elements sharing a line go with the spaces on one side. Comments on lines of
 * their own are kept. When the last kept element ends the list and had no trailing comma, its
 * comma goes too.
 */
export function dropListElements(
  text: string,
  elements: readonly ListElement[],
  dropped: readonly boolean[],
  list: ListContext,
): SourceEdit[] {
  if (!dropped.some(Boolean)) return [];
  if (dropped.every(Boolean) && !list.hasComments) {
    return [{ start: list.innerStart, end: list.innerEnd, newText: '' }];
  }
  const edits: SourceEdit[] = [];
  const lastKept = dropped.lastIndexOf(false);
  const last = elements[elements.length - 1];
  if (lastKept >= 0 && lastKept < elements.length - 1 && last.commaEnd === undefined) {
    const comma = elements[lastKept].commaEnd;
    if (comma !== undefined) edits.push({ start: comma - 1, end: comma, newText: '' });
  }
  elements.forEach((element, i) => {
    if (!dropped[i]) return;
    edits.push(elementRemoval(text, element, i > lastKept, list));
  });
  return edits;
}

function elementRemoval(
  text: string,
  element: ListElement,
  inFinalRun: boolean,
  list: ListContext,
): SourceEdit {
  const start = element.start;
  const end = element.commaEnd ?? element.end;
  const afterComments = skipSpacesAndComments(text, end, list);
  const lineBreak = lineBreakLength(text, afterComments);
  const lineStart = skipBackSpaces(text, start);
  const aloneOnLine = lineStart === 0 || lineBreakBefore(text, lineStart);
  if (lineBreak > 0 && aloneOnLine) {
    return { start: lineStart, end: afterComments + lineBreak, newText: '' };
  }
  // Elements after the last kept one take the spaces before them, so `(a, b)` → `(a)`.
  if (inFinalRun || lineBreak > 0) return { start: lineStart, end, newText: '' };
  return { start, end: skipSpaces(text, end), newText: '' };
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\f' || ch === '\v';
}

function skipSpaces(text: string, pos: number): number {
  while (pos < text.length && isSpace(text[pos])) pos++;
  return pos;
}

function skipBackSpaces(text: string, pos: number): number {
  while (pos > 0 && isSpace(text[pos - 1])) pos--;
  return pos;
}

function skipSpacesAndComments(text: string, pos: number, list: ListContext): number {
  for (;;) {
    const spaced = skipSpaces(text, pos);
    const commented = list.skipLineComment(text, spaced);
    if (commented === spaced) return spaced;
    pos = commented;
  }
}

function lineBreakLength(text: string, pos: number): number {
  if (text[pos] === '\r') return text[pos + 1] === '\n' ? 2 : 1;
  return text[pos] === '\n' ? 1 : 0;
}

function lineBreakBefore(text: string, pos: number): boolean {
  return text[pos - 1] === '\n' || text[pos - 1] === '\r';
}
