import * as ts from 'typescript';
import { lineEndFrom } from './edits';
import { SourceLanguage } from './types';

/** A parsed file and a checker that resolves its identifiers to their declarations. */
export interface ParsedScript {
  sourceFile: ts.SourceFile;
  checker: ts.TypeChecker;
  syntaxErrors: readonly ts.Diagnostic[];
}

const SCRIPT_KINDS: Record<string, ts.ScriptKind> = {
  '.ts': ts.ScriptKind.TS,
  '.mts': ts.ScriptKind.TS,
  '.cts': ts.ScriptKind.TS,
  '.tsx': ts.ScriptKind.TSX,
  '.js': ts.ScriptKind.JS,
  '.mjs': ts.ScriptKind.JS,
  '.cjs': ts.ScriptKind.JS,
  '.jsx': ts.ScriptKind.JSX,
};

/** The script extensions the rewriter reads, with the language each one is. */
export function scriptLanguage(extension: string): SourceLanguage | undefined {
  const kind = SCRIPT_KINDS[extension];
  if (kind === undefined) return undefined;
  return kind === ts.ScriptKind.TS || kind === ts.ScriptKind.TSX ? 'typescript' : 'javascript';
}

const INTERNAL_NAMES: Partial<Record<ts.ScriptKind, string>> = {
  [ts.ScriptKind.TS]: '/input.ts',
  [ts.ScriptKind.TSX]: '/input.tsx',
  [ts.ScriptKind.JS]: '/input.js',
  [ts.ScriptKind.JSX]: '/input.jsx',
};

/**
 * Parses one file into a single-file program. Scope questions ("is this `tf` the import or a
 * parameter that shadows it?") go to the real binder this way instead of a hand-written one;
 * with no lib and no module resolution the program stays cheap.
 */
export function parseScript(
  text: string,
  extension: string,
  language: SourceLanguage,
): ParsedScript {
  const kind =
    SCRIPT_KINDS[extension] ?? (language === 'typescript' ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const fileName = INTERNAL_NAMES[kind] as string;
  const sourceFile = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
  const host: ts.CompilerHost = {
    getSourceFile: (name) => (name === fileName ? sourceFile : undefined),
    getDefaultLibFileName: () => '/lib.d.ts',
    writeFile: () => undefined,
    getCurrentDirectory: () => '/',
    getCanonicalFileName: (name) => name,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (name) => name === fileName,
    readFile: () => undefined,
  };
  const options: ts.CompilerOptions = {
    noLib: true,
    noResolve: true,
    allowJs: true,
    checkJs: false,
    noEmit: true,
    types: [],
    jsx: ts.JsxEmit.Preserve,
    target: ts.ScriptTarget.Latest,
  };
  const program = ts.createProgram({ rootNames: [fileName], options, host });
  return {
    sourceFile,
    checker: program.getTypeChecker(),
    syntaxErrors: program.getSyntacticDiagnostics(sourceFile),
  };
}

/** The declaration an identifier refers to, following nothing beyond its own file. */
export function declarationOf(checker: ts.TypeChecker, node: ts.Node): ts.Declaration | undefined {
  if (!ts.isIdentifier(node)) return undefined;
  return checker.getSymbolAtLocation(node)?.declarations?.[0];
}

/** Whether a comment starts anywhere between `node`'s first token and its end. */
export function hasCommentsInside(node: ts.Node, sourceFile: ts.SourceFile): boolean {
  const text = sourceFile.text;
  const inside = node.getStart(sourceFile);
  let found = false;
  const visit = (child: ts.Node): void => {
    if (found) return;
    // Comments later on the token's line count as trailing, those on later lines as leading.
    const comments =
      child.pos >= inside &&
      (ts.getTrailingCommentRanges(text, child.pos)?.length ||
        ts.getLeadingCommentRanges(text, child.pos)?.length);
    if (comments) found = true;
    else child.getChildren(sourceFile).forEach(visit);
  };
  node.getChildren(sourceFile).forEach(visit);
  return found;
}

/** If a `//` comment, or a `/* *\/` comment ending on the same line, starts at `pos`, its end. */
export function skipScriptLineComment(text: string, pos: number): number {
  if (text.startsWith('//', pos)) return lineEndFrom(text, pos);
  if (text.startsWith('/*', pos)) {
    const close = text.slice(pos + 2, lineEndFrom(text, pos)).indexOf('*/');
    return close < 0 ? pos : pos + 2 + close + 2;
  }
  return pos;
}

/** TypeScript's parser and checker recurse; absurdly deep nesting exhausts the stack. */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}
