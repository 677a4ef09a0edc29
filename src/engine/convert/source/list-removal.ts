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
  const groups = droppedGroups(text, elements, dropped);
  // Last group first: whether a group may pull the next line up depends on what the next does.
  let following: SourceEdit | undefined;
  for (let g = groups.length - 1; g >= 0; g--) {
    const group = groups[g];
    const first = elements[group[0]];
    const last = elements[group[group.length - 1]];
    const inFinalRun = group[0] > lastKept;
    const firstOfFinalRun = inFinalRun && (g === 0 || groups[g - 1][0] <= lastKept);
    const nextIndex = group[group.length - 1] + 1;
    const nextStart = elements[nextIndex]?.start;
    const nextStays =
      nextStart !== undefined && (!dropped[nextIndex] || (following?.start ?? -1) >= nextStart);
    following = groupRemoval(text, list, {
      start: first.start,
      end: last.commaEnd ?? last.end,
      inFinalRun,
      nextStart: nextStays ? nextStart : undefined,
      joinBackTo: firstOfFinalRun && lastKept >= 0 ? elements[lastKept].commaEnd : undefined,
    });
    edits.push(following);
  }
  return edits;
}

/**
 * Dropped elements side by side on one line go as one span, so `a: 1, b: 2,` on a line of its
 * own leaves no blank line; a line break between two dropped elements separates them, so
 * comments on lines of their own in between survive.
 */
function droppedGroups(
  text: string,
  elements: readonly ListElement[],
  dropped: readonly boolean[],
): number[][] {
  const groups: number[][] = [];
  elements.forEach((element, i) => {
    if (!dropped[i]) return;
    const group = groups[groups.length - 1];
    const previous = elements[i - 1];
    const between = previous ? text.slice(previous.commaEnd ?? previous.end, element.start) : '';
    if (group && group[group.length - 1] === i - 1 && !/[\r\n]/.test(between)) group.push(i);
    else groups.push([i]);
  });
  return groups;
}

interface GroupSpan {
  start: number;
  /** After the group's last element, or after its comma when it has one. */
  end: number;
  inFinalRun: boolean;
  /** Where the element after the group starts, if removing that one leaves its start in place. */
  nextStart?: number;
  /** After the last kept element's comma: a line break back to there may be removed. */
  joinBackTo?: number;
}

function groupRemoval(text: string, list: ListContext, span: GroupSpan): SourceEdit {
  const { start, end } = span;
  const afterComments = skipSpacesAndComments(text, end, list);
  const lineBreak = lineBreakLength(text, afterComments);
  const lineStart = skipBackSpaces(text, start);
  const aloneOnLine = lineStart === 0 || lineBreakBefore(text, lineStart);
  if (lineBreak > 0 && aloneOnLine) {
    return { start: lineStart, end: afterComments + lineBreak, newText: '' };
  }
  // `f(dropped,\n  kept)` becomes `f(kept)`, not a bracket alone at the end of its line.
  const opensList = text.slice(list.innerStart, start).trim() === '';
  const next = span.nextStart;
  if (lineBreak > 0 && opensList && skipSpaces(text, afterComments + lineBreak) === next) {
    return { start, end: next, newText: '' };
  }
  // `f(kept,\n  dropped)` becomes `f(kept)`; only across blank space, never out of a comment.
  if (span.inFinalRun && aloneOnLine && lineBreak === 0 && span.joinBackTo !== undefined) {
    let blankFrom = lineStart;
    while (blankFrom > 0 && /\s/.test(text[blankFrom - 1])) blankFrom--;
    if (blankFrom === span.joinBackTo) return { start: blankFrom, end, newText: '' };
  }
  // Elements after the last kept one take the spaces before them, so `(a, b)` → `(a)`.
  if (span.inFinalRun || lineBreak > 0) return { start: lineStart, end, newText: '' };
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
