import * as ts from 'typescript';
import { newlineOf } from './edits';
import { ScriptBindings } from './ts-bindings';
import { SourceEdit } from './types';

export const FACTORY = 'batchlessNormalization';

/** How converted calls name the factory, and the import that makes the name exist. */
export interface FactoryAccess {
  callee: string;
  importEdit?: SourceEdit;
  importText?: string;
}

/**
 * Reuses an existing top-level import of the factory (or of the whole package) when there is
 * one; otherwise adds one after the last top-level import or require, in the file's own style.
 */
export function factoryAccess(
  sourceFile: ts.SourceFile,
  bindings: ScriptBindings,
  extension: string,
): FactoryAccess {
  const topLevel = (d: ts.Declaration) => isTopLevel(d, sourceFile);
  const factory = [...bindings.batchlessFactories].find(topLevel);
  if (factory && (ts.isImportSpecifier(factory) || ts.isBindingElement(factory))) {
    return { callee: (factory.name as ts.Identifier).text };
  }
  const module = [...bindings.batchlessModules].find(topLevel);
  const moduleName = module && localName(module);
  if (moduleName) return { callee: `${moduleName}.${FACTORY}` };

  const esm =
    bindings.usesImportSyntax ||
    extension === '.mjs' ||
    extension === '.mts' ||
    (!bindings.usesRequire && extension !== '.cjs' && extension !== '.cts');
  const anchors = bindings.importStatements.filter((s) =>
    esm ? ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s) : !ts.isImportDeclaration(s),
  );
  const anchor = anchors[anchors.length - 1];
  const importText = importStatement(esm, anchor, sourceFile);
  const text = sourceFile.text;
  const newline = newlineOf(text);
  if (anchor) {
    const comments = ts.getTrailingCommentRanges(text, anchor.end) ?? [];
    const at = comments.length ? comments[comments.length - 1].end : anchor.end;
    return {
      callee: FACTORY,
      importText,
      importEdit: { start: at, end: at, newText: newline + importText },
    };
  }
  const at = headerEnd(sourceFile);
  const edit =
    at === 0
      ? { start: 0, end: 0, newText: importText + newline }
      : { start: at, end: at, newText: newline + importText };
  return { callee: FACTORY, importText, importEdit: edit };
}

function importStatement(
  esm: boolean,
  anchor: ts.Statement | undefined,
  sourceFile: ts.SourceFile,
): string {
  const quote = anchor ? quoteOf(anchor, sourceFile) : "'";
  const semicolon = anchor && !anchor.getText(sourceFile).endsWith(';') ? '' : ';';
  const module = `${quote}batchless${quote}`;
  return esm
    ? `import { ${FACTORY} } from ${module}${semicolon}`
    : `const { ${FACTORY} } = require(${module})${semicolon}`;
}

/** The quote character of the first string in `node` (its module name). */
function quoteOf(node: ts.Node, sourceFile: ts.SourceFile): string {
  let quote = "'";
  const visit = (child: ts.Node): boolean => {
    if (ts.isStringLiteral(child)) {
      quote = child.getText(sourceFile)[0];
      return true;
    }
    return ts.forEachChild(child, visit) ?? false;
  };
  visit(node);
  return quote;
}

/** After a shebang and any 'use strict'-style directives; 0 when there are none. */
function headerEnd(sourceFile: ts.SourceFile): number {
  let end = 0;
  for (const statement of sourceFile.statements) {
    if (!ts.isExpressionStatement(statement) || !ts.isStringLiteral(statement.expression)) break;
    end = statement.end;
  }
  if (end > 0) return end;
  const shebang = /^#![^\r\n]*/.exec(sourceFile.text);
  return shebang ? shebang[0].length : 0;
}

function isTopLevel(declaration: ts.Declaration, sourceFile: ts.SourceFile): boolean {
  let node: ts.Node = declaration;
  while (node.parent && node.parent !== sourceFile) {
    if (ts.isFunctionLike(node.parent) || ts.isBlock(node.parent) || ts.isClassLike(node.parent)) {
      return false;
    }
    node = node.parent;
  }
  return true;
}

function localName(declaration: ts.Declaration): string | undefined {
  if (ts.isNamespaceImport(declaration) || ts.isImportEqualsDeclaration(declaration)) {
    return declaration.name.text;
  }
  if (ts.isVariableDeclaration(declaration) && ts.isIdentifier(declaration.name)) {
    return declaration.name.text;
  }
  return undefined;
}
