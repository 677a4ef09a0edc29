/**
 * Rewriting source code that builds batch-normalization models so it builds batchless ones.
 * Everything here is a pure function from text to edits: the extension applies them as one
 * undoable WorkspaceEdit, the CLI writes the file.
 */
import { extname } from 'node:path';
import { rewritePython, pythonSites } from './python-rewrite';
import { rewriteScript, scriptSites } from './ts-rewrite';
import { scriptLanguage } from './ts-program';
import {
  NormalizationSite,
  SourceLanguage,
  SourceOptions,
  SourceRewriteError,
  SourceRewriteResult,
} from './types';

export { applyEdits } from './edits';
export * from './types';

function languageOf(fileName: string, options: SourceOptions): SourceLanguage {
  if (options.language) return options.language;
  const extension = extname(fileName).toLowerCase();
  if (extension === '.py') return 'python';
  const language = scriptLanguage(extension);
  if (language) return language;
  throw new SourceRewriteError(
    fileName,
    `cannot tell the language from '${extension || 'no extension'}' (expected .ts .tsx .mts .cts .js .jsx .mjs .cjs or .py)`,
  );
}

/**
 * The edits that turn every batch-normalization layer the file builds into a batchless one,
 * with what was converted, what was left alone and why. Throws SourceRewriteError for a file
 * type it does not read or a file that does not parse; never edits what it cannot check.
 */
export function rewriteSource(
  text: string,
  fileName: string,
  options: SourceOptions = {},
): SourceRewriteResult {
  const language = languageOf(fileName, options);
  if (language === 'python') return rewritePython(text, fileName);
  return rewriteScript(text, fileName, extname(fileName).toLowerCase(), language);
}

/**
 * Batch-normalization and batchless constructor calls, in file order. Tolerant of syntax
 * errors (it runs while the user types); throws SourceRewriteError only for an unknown file type.
 */
export function findNormalizationSites(
  text: string,
  fileName: string,
  options: SourceOptions = {},
): NormalizationSite[] {
  const language = languageOf(fileName, options);
  if (language === 'python') return pythonSites(text);
  return scriptSites(text, extname(fileName).toLowerCase(), language);
}
