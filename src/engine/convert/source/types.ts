/**
 * Results of rewriting model-building source code. Positions come in two forms: `start`/`end` are
 * 0-based UTF-16 offsets into the original text (what `TextDocument.positionAt` takes), and
 * `line`/`column` are 1-based, as editors and compilers print them.
 */

export type SourceLanguage = 'typescript' | 'javascript' | 'python';

/** Replace `[start, end)` of the original text with `newText`. */
export interface SourceEdit {
  start: number;
  end: number;
  newText: string;
}

/** One batch-normalization call that the edits turn into a batchless one. */
export interface ConvertedCall {
  line: number;
  column: number;
  /** The whole call as written. */
  original: string;
  /** The same call after the edits. */
  replacement: string;
  /** Names of the arguments removed (positional ones by their Keras name). */
  droppedArguments: string[];
  /** One sentence per dropped or reinterpreted argument saying why. */
  notes: string[];
}

/** A batch-normalization use that was left unchanged, and why. */
export interface UnsupportedSite {
  line: number;
  column: number;
  /** The call or reference as written (cut short when long). */
  text: string;
  reason: string;
}

export interface SourceRewriteResult {
  language: SourceLanguage;
  /** Non-overlapping, sorted by `start`; empty when there is nothing to convert. */
  edits: SourceEdit[];
  converted: ConvertedCall[];
  unsupported: UnsupportedSite[];
  /** The import statement inserted, when one was needed. */
  importAdded?: string;
}

/** A normalization-layer constructor call, for CodeLens and decorations. */
export interface NormalizationSite {
  kind: 'batch' | 'batchless';
  line: number;
  column: number;
  /** The whole call expression. */
  range: { start: number; end: number };
  /** The callee as written, e.g. `tf.layers.batchNormalization`. */
  callee: string;
}

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
