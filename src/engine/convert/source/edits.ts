import { SourceEdit } from './types';

/** Thrown for edits that overlap or fall outside the text: a bug in whoever made them. */
export class EditRangeError extends RangeError {
  constructor(detail: string) {
    super(`invalid source edits: ${detail}`);
    this.name = 'EditRangeError';
  }
}

/** Edits sorted by position; insertions at one offset keep the order they were given in. */
export function sortEdits(edits: readonly SourceEdit[]): SourceEdit[] {
  return edits
    .map((edit, index) => ({ edit, index }))
    .sort((p, q) => p.edit.start - q.edit.start || p.edit.end - q.edit.end || p.index - q.index)
    .map(({ edit }) => edit);
}

/**
 * Applies edits whose offsets all refer to the original `text`, as a WorkspaceEdit would.
 * Overlapping edits are refused rather than guessed at.
 */
export function applyEdits(text: string, edits: readonly SourceEdit[]): string {
  const sorted = sortEdits(edits);
  const parts: string[] = [];
  let cursor = 0;
  for (const edit of sorted) {
    if (!(edit.start >= 0 && edit.end >= edit.start && edit.end <= text.length)) {
      throw new EditRangeError(`[${edit.start}, ${edit.end}) outside a text of ${text.length}`);
    }
    if (edit.start < cursor) {
      throw new EditRangeError(`[${edit.start}, ${edit.end}) overlaps an earlier edit`);
    }
    parts.push(text.slice(cursor, edit.start), edit.newText);
    cursor = edit.end;
  }
  parts.push(text.slice(cursor));
  return parts.join('');
}

/** Applies the edits that fall inside `[start, end)` to that slice only. */
export function applyEditsWithin(
  text: string,
  edits: readonly SourceEdit[],
  start: number,
  end: number,
): string {
  const inside = edits
    .filter((e) => e.start >= start && e.end <= end)
    .map((e) => ({ start: e.start - start, end: e.end - start, newText: e.newText }));
  return applyEdits(text.slice(start, end), inside);
}

/** 1-based line and column of an offset, counting \r\n, \n and \r as line breaks. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 13 && text.charCodeAt(i + 1) === 10) i++;
      if (ch === 10 || ch === 13) this.starts.push(i + 1);
    }
  }

  at(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

const MAX_SNIPPET = 200;

/** A call's text for a report, cut short so a huge argument cannot flood the output. */
export function snippet(text: string): string {
  return text.length > MAX_SNIPPET ? `${text.slice(0, MAX_SNIPPET - 1)}…` : text;
}

/** The offset of the first line break at or after `pos`, or the end of the text. */
export function lineEndFrom(text: string, pos: number): number {
  while (pos < text.length && text[pos] !== '\n' && text[pos] !== '\r') pos++;
  return pos;
}

/** The newline the file already uses, for inserted lines. */
export function newlineOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}
