/**
 * Results of rewriting model-building source code. Positions come in two forms: `start`/`end` are
 * 0-based UTF-16 offsets into the original text (what `TextDocument.positionAt` takes), and
 * `line`/`column` are 1-based, as editors and compilers print them.
 */

export type { ConvertedCall, NormalizationSite, SourceEdit, SourceLanguage, SourceRewriteResult, UnsupportedSite } from '../../../shared/conversion';
import type { SourceLanguage } from '../../../shared/conversion';

export interface SourceOptions {
  /** Overrides the language the file name implies (e.g. for an untitled editor). */
  language?: SourceLanguage;
}

/**
 * The one error the source rewriter throws for input it will not rewrite (unknown file type,
 * syntax errors), so callers can tell "fix your file" from a bug here.
 */
export class SourceRewriteError extends Error {
  readonly fileName: string;
  readonly line?: number;
  readonly column?: number;

  constructor(fileName: string, detail: string, where?: { line: number; column: number }) {
    super(
      where ? `${fileName}:${where.line}:${where.column}: ${detail}` : `${fileName}: ${detail}`,
    );
    this.name = 'SourceRewriteError';
    this.fileName = fileName;
    this.line = where?.line;
    this.column = where?.column;
  }
}
