/**
 * What a conversion reports, as plain data: the engine produces these, the worker sends them to
 * the extension, the CLI prints them. Kept here (not in src/engine) so the protocol and the
 * webviews can name them without reaching into engine code.
 */

export type ModelFileFormat = 'tfjs' | 'keras-json' | 'keras' | 'h5';

export interface ConvertedLayer {
  layer: string;
  channels: number;
  axis: number | number[];
  /** The BN ε folded into σ = sqrt(moving_variance + ε). */
  bnEpsilon: number;
  center: boolean;
  scale: boolean;
  statisticsFrom: string;
  /** Settings of the BN layer that batchless normalization does not use, said out loud. */
  notes: string[];
}

export interface Difference {
  name: string;
  maxAbsDiff: number;
  /** maxAbsDiff relative to the largest |value| of the original (scale-relative). */
  maxRelDiff: number;
}

export interface ParityReport {
  instances: number;
  /** Where the probe inputs came from. */
  inputs: string;
  outputs: Difference[];
  /** Each converted layer's output, original vs converted (top-level layers only). */
  layers: Difference[];
  maxAbsDiff: number;
  maxRelDiff: number;
  tolerance: number;
  passed: boolean;
}

export interface ConversionSummary {
  source: string;
  format: ModelFileFormat;
  /** Where the converted model was written; undefined for a dry run or a no-op. */
  output?: string;
  backup?: string;
  layers: ConvertedLayer[];
  parity?: ParityReport;
  noop: boolean;
  message: string;
  notes: string[];
}

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

