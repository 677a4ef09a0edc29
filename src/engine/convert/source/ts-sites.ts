import * as ts from 'typescript';
import { ScriptBindings } from './ts-bindings';
import { declarationOf } from './ts-program';

/** Where a file mentions `tf.layers.batchNormalization`, and the call if it is one. */
export interface BatchNormReference {
  callee: ts.PropertyAccessExpression;
  call?: ts.CallExpression;
  /** Reached through an undeclared `tf`: the global a `<script>` tag defines. */
  viaGlobal: boolean;
}

export interface ScriptSites {
  batch: BatchNormReference[];
  batchless: (ts.CallExpression | ts.NewExpression)[];
}

/** BN uses and batchless constructor calls, resolved through the file's own bindings. */
export function findScriptSites(
  sourceFile: ts.SourceFile,
  checker: ts.TypeChecker,
  bindings: ScriptBindings,
): ScriptSites {
  const sites: ScriptSites = { batch: [], batchless: [] };
  const boundTo = (node: ts.Node, set: Set<ts.Declaration>): boolean => {
    const declaration = declarationOf(checker, node);
    return declaration !== undefined && set.has(declaration);
  };
  const isGlobalTf = (node: ts.Expression): boolean =>
    ts.isIdentifier(node) && node.text === 'tf' && checker.getSymbolAtLocation(node) === undefined;
  const isLayers = (node: ts.Expression): boolean =>
    boundTo(node, bindings.tfjsLayers) ||
    (ts.isPropertyAccessExpression(node) &&
      node.name.text === 'layers' &&
      (boundTo(node.expression, bindings.tfjsModules) || isGlobalTf(node.expression)));
  const isBatchless = (node: ts.Expression, member: string, direct: Set<ts.Declaration>) =>
    boundTo(node, direct) ||
    (ts.isPropertyAccessExpression(node) &&
      node.name.text === member &&
      boundTo(node.expression, bindings.batchlessModules));

  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'batchNormalization' &&
      isLayers(node.expression)
    ) {
      const parent = node.parent;
      const called = ts.isCallExpression(parent) && parent.expression === node;
      const viaGlobal =
        ts.isPropertyAccessExpression(node.expression) && isGlobalTf(node.expression.expression);
      sites.batch.push({ callee: node, call: called ? parent : undefined, viaGlobal });
    }
    if (
      ts.isCallExpression(node) &&
      isBatchless(node.expression, 'batchlessNormalization', bindings.batchlessFactories)
    ) {
      sites.batchless.push(node);
    }
    if (
      ts.isNewExpression(node) &&
      isBatchless(node.expression, 'BatchlessNormalization', bindings.batchlessClasses)
    ) {
      sites.batchless.push(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return sites;
}

/**
 * Whether some name other than the batchless import is declared as `name`, so a bare call to it
 * might not reach the factory.
 */
export function nameTakenElsewhere(
  sourceFile: ts.SourceFile,
  checker: ts.TypeChecker,
  name: string,
  allowed: Set<ts.Declaration>,
): boolean {
  let taken = false;
  const visit = (node: ts.Node): void => {
    if (taken) return;
    if (ts.isIdentifier(node) && node.text === name) {
      const declaration = declarationOf(checker, node);
      if (declaration && isScopeBinding(declaration) && !allowed.has(declaration)) taken = true;
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return taken;
}

/** Declarations that put a name in scope (object property names do not). */
function isScopeBinding(declaration: ts.Declaration): boolean {
  return (
    ts.isVariableDeclaration(declaration) ||
    ts.isParameter(declaration) ||
    ts.isBindingElement(declaration) ||
    ts.isFunctionDeclaration(declaration) ||
    ts.isFunctionExpression(declaration) ||
    ts.isClassDeclaration(declaration) ||
    ts.isClassExpression(declaration) ||
    ts.isEnumDeclaration(declaration) ||
    ts.isModuleDeclaration(declaration) ||
    ts.isImportSpecifier(declaration) ||
    ts.isImportClause(declaration) ||
    ts.isNamespaceImport(declaration) ||
    ts.isImportEqualsDeclaration(declaration)
  );
}
