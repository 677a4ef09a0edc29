import { LineIndex, applyEditsWithin, snippet, sortEdits } from './edits';
import { SourceEdit, SourceLanguage, SourceRewriteResult } from './types';

/** The edits for one call, before they are checked against the other calls. */
export interface CallConversion {
  start: number;
  end: number;
  edits: SourceEdit[];
  dropped: string[];
  notes: string[];
}

/** A use left unchanged, with the text it spans. */
export interface CallReport {
  start: number;
  end: number;
  reason: string;
}

/**
 * One result from the per-call work. A call inside an argument that another conversion drops
 * (`bn({ momentum: bn().momentum })`) goes with that argument: its own edits would overlap, and
 * a report about it would point at text that no longer exists.
 */
export function assembleResult(
  text: string,
  language: SourceLanguage,
  conversions: readonly CallConversion[],
  reports: readonly CallReport[],
  addImport?: { edit: SourceEdit; text: string },
): SourceRewriteResult {
  const deletions = conversions.flatMap((c) =>
    c.edits.filter((e) => e.end > e.start && e.newText === ''),
  );
  const swallowed = (span: { start: number; end: number }) =>
    deletions.some((d) => d.start <= span.start && span.end <= d.end);
  const kept = conversions.filter((c) => !swallowed(c));
  const edits = kept.flatMap((c) => c.edits);
  const lines = new LineIndex(text);
  const result: SourceRewriteResult = {
    language,
    edits: [],
    converted: kept.map((c) => ({
      ...lines.at(c.start),
      original: text.slice(c.start, c.end),
      replacement: applyEditsWithin(text, edits, c.start, c.end),
      droppedArguments: c.dropped,
      notes: c.notes,
    })),
    unsupported: reports
      .filter((r) => !swallowed(r))
      .map((r) => ({
        ...lines.at(r.start),
        text: snippet(text.slice(r.start, r.end)),
        reason: r.reason,
      })),
  };
  if (kept.length > 0 && addImport) {
    edits.push(addImport.edit);
    result.importAdded = addImport.text;
  }
  result.edits = sortEdits(edits);
  return result;
}
